"""Inputs shared by the pas.analytics tests: every statistic behind one call signature."""

from collections.abc import Callable

import numpy as np
import pandas as pd

import pas.analytics as pa
from pas.analytics._panel import ReturnsLike, Statistic

type StatisticCall = Callable[[ReturnsLike, ReturnsLike], Statistic]

# Each statistic called as f(returns, benchmark); the ones without a benchmark ignore it.
STATISTICS: dict[str, StatisticCall] = {
    "annual_return": lambda r, b: pa.annual_return(r),
    "annual_volatility": lambda r, b: pa.annual_volatility(r),
    "sharpe_ratio": lambda r, b: pa.sharpe_ratio(r, risk_free=0.0001),
    "sortino_ratio": lambda r, b: pa.sortino_ratio(r, required_return=0.0002),
    "downside_risk": lambda r, b: pa.downside_risk(r, required_return=0.0002),
    "max_drawdown": lambda r, b: pa.max_drawdown(r),
    "calmar_ratio": lambda r, b: pa.calmar_ratio(r),
    "alpha": lambda r, b: pa.alpha(r, b, risk_free=0.0001),
    "beta": lambda r, b: pa.beta(r, b),
    "tracking_error": lambda r, b: pa.tracking_error(r, b),
    "information_ratio": lambda r, b: pa.information_ratio(r, b),
    "value_at_risk": lambda r, b: pa.value_at_risk(r),
    "conditional_value_at_risk": lambda r, b: pa.conditional_value_at_risk(r),
}

# The fewest rows each statistic needs; with fewer it is NaN.
MIN_ROWS = {
    name: 1
    if name
    in {
        "annual_return",
        "downside_risk",
        "max_drawdown",
        "calmar_ratio",
        "value_at_risk",
        "conditional_value_at_risk",
    }
    else 2
    for name in STATISTICS
}

SERIES_STATISTICS: dict[str, Callable[[ReturnsLike], object]] = {
    "cumulative_returns": pa.cumulative_returns,
    "drawdown_series": pa.drawdown_series,
}


def random_returns(
    rows: int, portfolios: int, seed: int, nan_fraction: float = 0.0
) -> tuple[pd.DataFrame, pd.Series]:
    """Seeded daily returns (about 0.05% mean, 1% volatility) and a correlated benchmark.

    Returns and benchmark lose ``nan_fraction`` of their values to NaN at random.
    """
    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2020-01-01", periods=rows, name="date")
    benchmark = rng.normal(0.0004, 0.01, rows)
    loadings = rng.uniform(-0.5, 1.5, portfolios)
    values = np.outer(benchmark, loadings) + rng.normal(0.0001, 0.008, (rows, portfolios))
    values[rng.random(values.shape) < nan_fraction] = np.nan
    benchmark[rng.random(rows) < nan_fraction / 2] = np.nan
    columns = pd.Index([f"p{i}" for i in range(portfolios)], name="portfolio")
    return (
        pd.DataFrame(values, index=index, columns=columns),
        pd.Series(benchmark, index=index, name="benchmark"),
    )
