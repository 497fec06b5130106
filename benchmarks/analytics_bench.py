"""Times pas.analytics against empyrical-reloaded on 500 portfolios × 1,260 days.

pas.analytics gets the whole DataFrame, one call per statistic; empyrical-reloaded is
called once per portfolio (a loop over the DataFrame's columns, each a Series), as one
would use it on many portfolios. Each timing is the best of a few repeats, both sides
alike. Prints per-statistic and total times, their ratio and the largest absolute
difference between the two results; exits 1 if the goals (20× faster, differences below
1e-10) are missed.

    .venv/bin/python benchmarks/analytics_bench.py [--nan-fraction 0.01]
"""

import argparse
import sys
import time
from collections.abc import Callable

import empyrical as ep
import numpy as np
import pandas as pd
from empyrical.stats import drawdown_series as ep_drawdown_series

import pas.analytics as pa

PORTFOLIOS = 500
DAYS = 1_260
SEED = 20240601
REPEATS = 5
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


def statistics(
    benchmark: pd.Series,
) -> dict[str, tuple[Callable[[pd.DataFrame], object], Callable[[pd.Series], object]]]:
    """Each statistic: (pas.analytics on all portfolios, empyrical-reloaded on one)."""
    root_year = np.sqrt(pa.DAILY)
    return {
        "annual_return": (pa.annual_return, ep.annual_return),
        "annual_volatility": (pa.annual_volatility, ep.annual_volatility),
        "sharpe_ratio": (pa.sharpe_ratio, ep.sharpe_ratio),
        "sortino_ratio": (pa.sortino_ratio, ep.sortino_ratio),
        "downside_risk": (pa.downside_risk, ep.downside_risk),
        "max_drawdown": (pa.max_drawdown, ep.max_drawdown),
        "calmar_ratio": (pa.calmar_ratio, ep.calmar_ratio),
        "alpha": (lambda r: pa.alpha(r, benchmark), lambda s: ep.alpha(s, benchmark)),
        "beta": (lambda r: pa.beta(r, benchmark), lambda s: ep.beta(s, benchmark)),
        "alpha_beta": (
            lambda r: np.column_stack(pa.alpha_beta(r, benchmark)),
            lambda s: ep.alpha_beta(s, benchmark),
        ),
        # empyrical-reloaded has no tracking error; it is the volatility of active returns,
        "tracking_error": (
            lambda r: pa.tracking_error(r, benchmark),
            lambda s: ep.annual_volatility(s - benchmark),
        ),
        # and its excess_sharpe is the information ratio before annualisation.
        "information_ratio": (
            lambda r: pa.information_ratio(r, benchmark),
            lambda s: ep.excess_sharpe(s, benchmark) * root_year,
        ),
        "value_at_risk": (pa.value_at_risk, ep.value_at_risk),
        "conditional_value_at_risk": (pa.conditional_value_at_risk, ep.conditional_value_at_risk),
        "cumulative_returns": (pa.cumulative_returns, ep.cum_returns),
        "drawdown_series": (pa.drawdown_series, ep_drawdown_series),
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nan-fraction", type=float, default=0.0, help="share of returns made missing")
    args = parser.parse_args()
    returns, benchmark = make_returns(args.nan_fraction)
    columns = [returns[column] for column in returns.columns]
    print(
        f"{PORTFOLIOS} portfolios × {DAYS} days, {args.nan_fraction:.1%} NaN, "
        f"best of {REPEATS}; numpy {np.__version__}, pandas {pd.__version__}, "
        f"empyrical-reloaded {ep.__version__}"
    )
    print(f"{'statistic':<27}{'pas ms':>9}{'empyrical ms':>14}{'ratio':>8}{'max |diff|':>12}")
    total_ours = total_theirs = worst = 0.0
    for name, (ours, theirs) in statistics(benchmark).items():
        ours_time, ours_result = best_time(lambda ours=ours: ours(returns))
        theirs_time, theirs_result = best_time(lambda theirs=theirs: [theirs(column) for column in columns])
        assert isinstance(theirs_result, list)
        if np.ndim(theirs_result[0]) == 1 and name != "alpha_beta":
            theirs_result = np.column_stack(theirs_result)  # one series per portfolio
        difference = largest_difference(ours_result, theirs_result)
        total_ours += ours_time
        total_theirs += theirs_time
        worst = max(worst, difference)
        print(
            f"{name:<27}{ours_time * 1e3:>9.2f}{theirs_time * 1e3:>14.1f}"
            f"{theirs_time / ours_time:>7.0f}×{difference:>12.1e}"
        )
    speedup = total_theirs / total_ours
    print(f"{'total':<27}{total_ours * 1e3:>9.2f}{total_theirs * 1e3:>14.1f}{speedup:>7.0f}×{worst:>12.1e}")
    met = speedup >= GOAL_SPEEDUP and worst < GOAL_DIFFERENCE
    print(
        f"goal {'met' if met else 'MISSED'}: {speedup:.0f}× faster (goal {GOAL_SPEEDUP:.0f}×), "
        f"largest difference {worst:.1e} (goal < {GOAL_DIFFERENCE:.0e})"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
