"""Times pas.allocation.compute_weights for 200 portfolios × 756 days with each method.

Returns are seeded: one common factor plus noise, each portfolio starting on a random
day (NaN before it, so some are too new and get the neutral share), bounds
[0.1%, 2%] and a 10% volatility target. Each timing is the best of a few repeats;
exits 1 if a method takes a second or more (the goal: well under a second).

    .venv/bin/python benchmarks/allocation_bench.py [--portfolios 200] [--days 756]
"""

import argparse
import sys
import time

import numpy as np

from pas.allocation import METHODS, SCORE_BLEND, compute_weights

SEED = 20260105
REPEATS = 5
GOAL_SEC = 1.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portfolios", type=int, default=200)
    parser.add_argument("--days", type=int, default=756)
    args = parser.parse_args()
    n, days = args.portfolios, args.days
    rng = np.random.default_rng(SEED)
    factor = rng.normal(0.0003, 0.01, (days, 1))
    returns = factor * rng.uniform(0.0, 1.5, n) + rng.normal(0.0, 1.0, (days, n)) * rng.uniform(
        0.003, 0.02, n
    )
    for j in range(n):
        returns[: int(rng.integers(0, days)), j] = np.nan
    names = [f"p{j:03d}" for j in range(n)]
    stats = {p: {k: float(rng.normal()) for k in SCORE_BLEND} for p in names}
    print(f"compute_weights: {n} portfolios × {days} days, bounds [0.1%, 2%], TARGET_VOL 10%")
    print(f"{'method':<12} {'best s':>8} {'exposure':>9} {'new':>4}")
    slow = False
    for method in METHODS:
        best = float("inf")
        for _ in range(REPEATS):
            start = time.perf_counter()
            result = compute_weights(returns, stats, method, 0.001, 0.02, 0.10, portfolios=names)
            best = min(best, time.perf_counter() - start)
        new = sum(1 for d in result.history.values() if d < 63)
        print(f"{method:<12} {best:>8.4f} {result.exposure:>9.3f} {new:>4}")
        slow |= best >= GOAL_SEC
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
