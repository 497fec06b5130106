"""The trailing statistics of every window, as of every day, are the :mod:`pas.analytics`
functions called on that window's returns alone (issue 18: each fixed window in an array
of exactly its rows, inception NaN-padded; the drawdown, cumulative return, annual return,
Calmar ratio and VaR read off one running product of wealth and a partial sort)."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pytest

from pas import analytics
from pas.metrics import STATISTICS, trailing_stats_tables
from pas.models import DailyMetric

START = date(2024, 1, 1)
ONE_SERIES = (
    "annual_return",
    "annual_volatility",
    "sharpe_ratio",
    "sortino_ratio",
    "downside_risk",
    "max_drawdown",
    "calmar_ratio",
    "value_at_risk",
    "conditional_value_at_risk",
)
AGAINST_BENCHMARK = ("alpha", "beta", "tracking_error", "information_ratio")


def _book(portfolio: str, count: int, seed: int) -> tuple[list[DailyMetric], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    returns = rng.normal(0.0004, 0.012, count)
    returns[rng.random(count) < 0.03] = 0.0  # flat days: ties in the order statistics
    bench = rng.normal(0.0003, 0.009, count)
    bench[rng.random(count) < 0.05] = np.nan  # days without a benchmark return
    metrics = [
        DailyMetric(portfolio, START + timedelta(days=i), float(r), None, None if math.isnan(b) else float(b))
        for i, (r, b) in enumerate(zip(returns, bench, strict=True))
    ]
    return metrics, returns, bench


def _by_analytics(returns: np.ndarray, bench: np.ndarray) -> dict[str, float]:
    out = {name: float(getattr(analytics, name)(returns)) for name in ONE_SERIES}
    out |= {name: float(getattr(analytics, name)(returns, bench)) for name in AGAINST_BENCHMARK}
    out["cumulative_return"] = float(np.asarray(analytics.cumulative_returns(returns))[-1])
    out["days"] = float(len(returns))
    return out


def test_every_window_as_of_every_day_is_the_analytics_functions_on_its_returns() -> None:
    # Books of different lengths computed together: each inception column is padded to
    # the longest of its block, blocks of 64 as-of days, and every window both short of
    # and past its length.
    sizes = {"a": 300, "b": 70, "c": 260}
    books = {p: _book(p, n, seed) for seed, (p, n) in enumerate(sizes.items())}
    tables = trailing_stats_tables([(p, metrics, None) for p, (metrics, _, _) in books.items()])
    checked = 0
    for (portfolio, (_, returns, bench)), table in zip(books.items(), tables, strict=True):
        assert len(table) == 4 * sizes[portfolio]
        for stats in table:
            upto = (stats.as_of - START).days + 1
            window = upto if stats.window == "inception" else int(stats.window)
            if upto < window or upto < 2:
                assert stats.values["days"] == min(upto, window)
                assert all(math.isnan(v) for k, v in stats.values.items() if k != "days")
                continue
            want = _by_analytics(returns[upto - window : upto], bench[upto - window : upto])
            assert set(stats.values) == set(STATISTICS)
            for name in STATISTICS:
                assert stats.values[name] == pytest.approx(want[name], rel=1e-12, abs=1e-15, nan_ok=True), (
                    portfolio,
                    stats.as_of,
                    stats.window,
                    name,
                )
            checked += 1
    assert checked > 1_000
