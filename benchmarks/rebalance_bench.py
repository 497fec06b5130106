"""Times the rebalance planner alone: 100 portfolios x 500 symbols, and netting their orders.

Run: .venv/bin/python benchmarks/rebalance_bench.py
"""

from __future__ import annotations

import random
import time
from decimal import Decimal

from pas.portfolio.netting import net_orders
from pas.portfolio.rebalance import PlanRules, plan_rebalance

PORTFOLIOS = 100
SYMBOLS = 500
SEED = 7


def planner_timings(
    portfolios: int = PORTFOLIOS, symbols: int = SYMBOLS, seed: int = SEED
) -> tuple[float, int, float, int]:
    """Plans ``portfolios`` random portfolios over ``symbols`` symbols, then nets them.

    Returns:
        (planning seconds, planned orders, netting seconds, broker orders).
    """
    rng = random.Random(seed)
    universe = [f"S{i:03d}" for i in range(symbols)]
    prices = {s: Decimal(rng.randint(100, 50_000)) / 100 for s in universe}
    fractionable = {s: rng.random() < 0.8 for s in universe}
    cases = []
    for _ in range(portfolios):
        raw = {s: rng.random() for s in universe}
        total = sum(raw.values())
        targets = {s: 0.98 * w / total for s, w in raw.items()}
        holdings = {s: Decimal(rng.randint(0, 400)) for s in universe if rng.random() < 0.7}
        cases.append((holdings, targets, Decimal(rng.randint(1_000, 100_000))))
    start = time.perf_counter()
    plans = [
        plan_rebalance(f"p{i}", h, t, prices, cash, fractionable, PlanRules())
        for i, (h, t, cash) in enumerate(cases)
    ]
    planned = time.perf_counter() - start
    orders = [o for p in plans for o in p.orders]
    start = time.perf_counter()
    netted = net_orders("260105150000bnch", orders, fractionable)
    netting = time.perf_counter() - start
    return planned, len(orders), netting, len(netted)


def main() -> None:
    planned, orders, netting, netted = planner_timings()
    print(
        f"planner: {PORTFOLIOS} portfolios x {SYMBOLS} symbols in {planned:.3f} s "
        f"({planned / PORTFOLIOS * 1000:.1f} ms per portfolio), {orders} orders"
    )
    print(f"netting: {orders} orders into {netted} broker orders in {netting:.3f} s")


if __name__ == "__main__":
    main()
