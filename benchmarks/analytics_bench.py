"""Times pas.analytics against empyrical-reloaded on 500 portfolios × 1,260 days.

pas.analytics gets the whole DataFrame, one call per statistic. empyrical-reloaded is
called two ways: once per portfolio (a loop over the DataFrame's columns, each a
Series), and once on the whole 2-D data where it accepts that (what an expert does:
the DataFrame, or its array with the benchmark as a column; the active returns of the
tracking error are subtracted inside the timed call). Its best call is the faster of
the two whose answer agrees with pas to 1e-10 (a 2-D call that raises, or gives one
number for all portfolios, does not count). Each timing is the best of a few repeats,
all sides alike. Prints per-statistic times, pas's ratio to the loop and to empyrical's
best call, and the largest absolute difference; exits 1 if a goal is missed (20× the
loop over the set, no statistic slower than empyrical's best call, differences below
1e-10; issues 5 and 18).

``--before DIR`` also times pas's side with the ``pas`` of DIR (the code before a
change, ``git archive REF pas | tar -x -C DIR``), alternating with the installed one,
and prints the medians and their ratio.

    .venv/bin/python benchmarks/analytics_bench.py [--nan-fraction 0.01] [--before DIR]
"""

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import empyrical as ep
import numpy as np
import pandas as pd
from _before_after import alternate, print_ratios
from empyrical.stats import drawdown_series as ep_drawdown_series

import pas.analytics as pa

PORTFOLIOS = 500
DAYS = 1_260
SEED = 20240601
REPEATS = 15
GOAL_SPEEDUP = 20.0
GOAL_DIFFERENCE = 1e-10


def make_returns(nan_fraction: float) -> tuple[pd.DataFrame, pd.Series]:
    """Seeded daily returns of portfolios loaded on one benchmark, plus that benchmark."""
    rng = np.random.default_rng(SEED)
    index = pd.bdate_range("2020-01-01", periods=DAYS)
    benchmark = rng.normal(0.0004, 0.01, DAYS)
    loadings = rng.uniform(-0.5, 1.5, PORTFOLIOS)
    returns = np.outer(benchmark, loadings) + rng.normal(0.0001, 0.008, (DAYS, PORTFOLIOS))
    returns[rng.random(returns.shape) < nan_fraction] = np.nan
    columns = [f"portfolio_{i:03d}" for i in range(PORTFOLIOS)]
    return pd.DataFrame(returns, index=index, columns=columns), pd.Series(benchmark, index=index)


Call = Callable[[pd.DataFrame], object]


def statistics(benchmark: pd.Series) -> dict[str, tuple[Call, Callable[[pd.Series], object], Call | None]]:
    """Each statistic: (pas.analytics on all portfolios, empyrical-reloaded on one, and
    empyrical-reloaded on all at once where it takes 2-D data, else None)."""
    root_year = np.sqrt(pa.DAILY)
    column = benchmark.to_numpy()[:, np.newaxis]  # empyrical's 2-D factor: a column
    return {
        "annual_return": (pa.annual_return, ep.annual_return, ep.annual_return),
        "annual_volatility": (pa.annual_volatility, ep.annual_volatility, ep.annual_volatility),
        "sharpe_ratio": (pa.sharpe_ratio, ep.sharpe_ratio, ep.sharpe_ratio),
        "sortino_ratio": (pa.sortino_ratio, ep.sortino_ratio, ep.sortino_ratio),
        "downside_risk": (pa.downside_risk, ep.downside_risk, ep.downside_risk),
        "max_drawdown": (pa.max_drawdown, ep.max_drawdown, ep.max_drawdown),
        "calmar_ratio": (pa.calmar_ratio, ep.calmar_ratio, None),  # raises on 2-D
        "alpha": (
            lambda r: pa.alpha(r, benchmark),
            lambda s: ep.alpha(s, benchmark),
            lambda r: ep.alpha(r.to_numpy(), column),
        ),
        "beta": (
            lambda r: pa.beta(r, benchmark),
            lambda s: ep.beta(s, benchmark),
            lambda r: ep.beta(r.to_numpy(), column),
        ),
        "alpha_beta": (
            lambda r: np.column_stack(pa.alpha_beta(r, benchmark)),
            lambda s: ep.alpha_beta(s, benchmark),
            lambda r: ep.alpha_beta(r.to_numpy(), column),
        ),
        # empyrical-reloaded has no tracking error; it is the volatility of active returns,
        "tracking_error": (
            lambda r: pa.tracking_error(r, benchmark),
            lambda s: ep.annual_volatility(s - benchmark),
            lambda r: ep.annual_volatility(r.sub(benchmark, axis=0)),
        ),
        # and its excess_sharpe is the information ratio before annualisation.
        "information_ratio": (
            lambda r: pa.information_ratio(r, benchmark),
            lambda s: ep.excess_sharpe(s, benchmark) * root_year,
            lambda r: ep.excess_sharpe(r.to_numpy(), column) * root_year,
        ),
        # One percentile of all portfolios' returns together on 2-D data: not per portfolio.
        "value_at_risk": (pa.value_at_risk, ep.value_at_risk, None),
        "conditional_value_at_risk": (pa.conditional_value_at_risk, ep.conditional_value_at_risk, None),
        "cumulative_returns": (pa.cumulative_returns, ep.cum_returns, ep.cum_returns),
        "drawdown_series": (pa.drawdown_series, ep_drawdown_series, ep_drawdown_series),
    }


def best_time(function: Callable[[], object]) -> tuple[float, object]:
    """The fastest of REPEATS runs, in seconds, and the result."""
    best, result = float("inf"), None
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def largest_difference(ours: object, theirs: object) -> float:
    """The largest absolute difference; inf where only one side is NaN or infinite."""
    a, b = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    same_special = (np.isnan(a) & np.isnan(b)) | (np.isinf(a) & (a == b))
    differences = np.where(same_special, 0.0, np.abs(a - b))
    return float(np.nan_to_num(differences, nan=np.inf).max(initial=0.0))


def pas_times(returns: pd.DataFrame, benchmark: pd.Series) -> dict[str, float]:
    """The best time of pas's call of each statistic, in seconds."""
    return {
        name: best_time(lambda ours=ours: ours(returns))[0]
        for name, (ours, _, _) in statistics(benchmark).items()
    }


def empyrical_2d(theirs: Call | None, returns: pd.DataFrame, ours: object) -> float:
    """Time of empyrical's call on all portfolios at once; inf when it has none, raises,
    or answers something other than pas (to 1e-10)."""
    if theirs is None:
        return float("inf")
    try:
        elapsed, result = best_time(lambda: theirs(returns))
        difference = largest_difference(ours, result)
    except (ValueError, TypeError):
        return float("inf")
    return elapsed if difference < GOAL_DIFFERENCE else float("inf")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nan-fraction", type=float, default=0.0, help="share of returns made missing")
    parser.add_argument("--before", type=Path, help="also time pas's side with the pas package of DIR")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds of --before")
    parser.add_argument("--pas-only", action="store_true", help="print pas's times as JSON (for --before)")
    args = parser.parse_args()
    returns, benchmark = make_returns(args.nan_fraction)
    if args.pas_only:
        print(json.dumps(pas_times(returns, benchmark)))
        return 0
    columns = [returns[column] for column in returns.columns]
    print(
        f"{PORTFOLIOS} portfolios × {DAYS} days, {args.nan_fraction:.1%} NaN, "
        f"best of {REPEATS}; numpy {np.__version__}, pandas {pd.__version__}, "
        f"empyrical-reloaded {ep.__version__}"
    )
    print(
        f"{'statistic':<27}{'pas ms':>9}{'ep loop ms':>12}{'ep 2-D ms':>11}"
        f"{'× loop':>8}{'× best':>8}{'max |diff|':>12}"
    )
    total_ours = total_theirs = worst = 0.0
    slowest = float("inf")
    for name, (ours, theirs, theirs_2d) in statistics(benchmark).items():
        ours_time, ours_result = best_time(lambda ours=ours: ours(returns))
        theirs_time, theirs_result = best_time(lambda theirs=theirs: [theirs(column) for column in columns])
        assert isinstance(theirs_result, list)
        if np.ndim(theirs_result[0]) == 1 and name != "alpha_beta":
            theirs_result = np.column_stack(theirs_result)  # one series per portfolio
        difference = largest_difference(ours_result, theirs_result)
        flat_time = empyrical_2d(theirs_2d, returns, ours_result)
        best = min(theirs_time, flat_time)
        total_ours += ours_time
        total_theirs += theirs_time
        worst = max(worst, difference)
        slowest = min(slowest, best / ours_time)
        flat = f"{flat_time * 1e3:>11.2f}" if np.isfinite(flat_time) else f"{'n/a':>11}"
        print(
            f"{name:<27}{ours_time * 1e3:>9.2f}{theirs_time * 1e3:>12.1f}{flat}"
            f"{theirs_time / ours_time:>7.0f}×{best / ours_time:>7.2f}×{difference:>12.1e}"
        )
    speedup = total_theirs / total_ours
    print(f"{'total':<27}{total_ours * 1e3:>9.2f}{total_theirs * 1e3:>12.1f}{'':>11}{speedup:>7.0f}×")
    met = speedup >= GOAL_SPEEDUP and worst < GOAL_DIFFERENCE and slowest >= 1.0
    print(
        f"goal {'met' if met else 'MISSED'}: {speedup:.0f}× the loop over the set "
        f"(goal {GOAL_SPEEDUP:.0f}×), "
        f"slowest statistic {slowest:.2f}× empyrical's best call (goal ≥ 1), "
        f"largest difference {worst:.1e} (goal < {GOAL_DIFFERENCE:.0e})"
    )
    if args.before is not None:
        command = [sys.executable, __file__, "--pas-only", f"--nan-fraction={args.nan_fraction}"]
        print(f"\npas before ({args.before}) and after, median of {args.rounds} alternating runs:")
        print_ratios(*alternate(command, args.before, args.rounds))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
