"""Trailing statistics of a portfolio's daily metrics, over windows of :data:`WINDOWS`.

They are the :mod:`pas.analytics` functions, stored under the functions' names plus
``days`` and ``cumulative_return``. NumPy is imported inside the functions that need it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from pas.metrics.returns import index_on_or_after
from pas.models import DailyMetric, TrailingStats

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from pas.store.base import Store

    FloatArray = npt.NDArray[np.float64]
    IntArray = npt.NDArray[np.int64]

FIXED_WINDOWS = (63, 126, 252)
"""Trailing windows in trading days: a quarter, half a year and a year."""
INCEPTION = "inception"
WINDOWS: tuple[str, ...] = (*(str(w) for w in FIXED_WINDOWS), INCEPTION)
"""Window names as stored: the allocation engine reads them by these names."""
MIN_INCEPTION_RETURNS = 2
"""Statistics since inception need at least this many returns (a deviation needs two)."""
INCEPTION_CHUNK = 256
"""As-of days per block of expanding windows (a block is history × this many floats)."""

STATISTICS: tuple[str, ...] = (
    "days",
    "cumulative_return",
    "annual_return",
    "annual_volatility",
    "sharpe_ratio",
    "sortino_ratio",
    "downside_risk",
    "max_drawdown",
    "calmar_ratio",
    "alpha",
    "beta",
    "tracking_error",
    "information_ratio",
    "value_at_risk",
    "conditional_value_at_risk",
)
"""Names of the stored statistics: ``pas.analytics`` function names, plus ``days`` (the
number of returns used) and ``cumulative_return`` (compounded over the window)."""


def trailing_stats_table(
    portfolio: str, metrics: Sequence[DailyMetric], from_day: date | None = None
) -> list[TrailingStats]:
    """Statistics of every window as of every metric day on or after ``from_day``.

    The statistics as of day D use only the returns of days up to D (no look-ahead). A
    fixed window (63, 126, 252 trading days) with fewer returns than its length stores NaN
    for every statistic but ``days``; ``inception`` needs at least
    :data:`MIN_INCEPTION_RETURNS` returns. Benchmark-relative statistics (``alpha``,
    ``beta``, ``tracking_error``, ``information_ratio``) skip days without a benchmark
    return; NaN when none is stored.

    Fixed windows run every :mod:`pas.analytics` function once over a (window × as-of days)
    array of sliding windows. ``inception`` pads expanding windows with NaN for the
    functions that skip NaN exactly as they skip absent days, and calls the others
    (``annual_return``, ``calmar_ratio`` and ``value_at_risk``, which count or refuse NaN)
    per as-of day. ``alpha`` and ``beta`` are computed per as-of day in every window,
    because pas.analytics regresses all columns on one benchmark series while each as-of
    day has its own benchmark window.

    Args:
        portfolio: the portfolio's id.
        metrics: all its daily metrics, oldest first.
        from_day: the first as-of day to compute (default: the first metric day).

    Returns:
        One :class:`TrailingStats` per (as-of day, window), keyed by :data:`STATISTICS`.
    """
    import numpy as np

    if not metrics:
        return []
    days = [m.day for m in metrics]
    returns = np.array([m.ret for m in metrics], dtype=np.float64)
    bench = np.array([np.nan if m.benchmark_ret is None else m.benchmark_ret for m in metrics])
    first = 0 if from_day is None else index_on_or_after(days, from_day)
    if first >= len(days):
        return []
    tables = {str(w): _fixed_window(returns, bench, w, first) for w in FIXED_WINDOWS}
    tables[INCEPTION] = _inception(returns, bench, first)
    out = []
    for column, index in enumerate(range(first, len(days))):
        for window in WINDOWS:
            values = {name: float(tables[window][name][column]) for name in STATISTICS}
            out.append(TrailingStats(portfolio, days[index], window, values))
    return out


def recompute_trailing_stats(
    store: Store, portfolio: str, from_day: date, pending: Sequence[DailyMetric] = ()
) -> int:
    """Replaces a portfolio's statistics as of ``from_day`` and later with fresh ones.

    Statistics as of earlier days cannot have changed (they use only earlier returns).

    Args:
        pending: metrics the caller stores next (each replaces a stored one of its day).
            The statistics are written before them, so a crash in between leaves their
            days missing, which the next ``pas metrics update`` computes again with their
            statistics; the other order could leave new metrics with stale statistics
            that nothing recomputes. This order holds on every backend, with or without
            transactions.

    Returns:
        How many (as-of day, window) rows were stored.
    """
    by_day = {m.day: m for m in store.daily_metrics(portfolio)} | {m.day: m for m in pending}
    stats = trailing_stats_table(portfolio, [by_day[d] for d in sorted(by_day)], from_day)
    store.delete_trailing_stats_from(portfolio, from_day)
    return store.put_trailing_stats(stats)


def _statistics(windows: FloatArray, factors: FloatArray) -> dict[str, FloatArray]:
    """Each statistic of every column of ``windows`` (rows: days; columns: as-of days).

    ``factors`` holds each column's benchmark returns, NaN where missing. Absent days at
    the end of a column are NaN (inception); only functions exact under NaN padding are
    called here.
    """
    import numpy as np

    from pas import analytics

    active = windows - factors
    stats: dict[str, FloatArray] = {
        "cumulative_return": np.asarray(analytics.cumulative_returns(windows))[-1],
        "annual_volatility": np.asarray(analytics.annual_volatility(windows)),
        "sharpe_ratio": np.asarray(analytics.sharpe_ratio(windows)),
        "sortino_ratio": np.asarray(analytics.sortino_ratio(windows)),
        "downside_risk": np.asarray(analytics.downside_risk(windows)),
        "max_drawdown": np.asarray(analytics.max_drawdown(windows)),
        "conditional_value_at_risk": np.asarray(analytics.conditional_value_at_risk(windows)),
        # r − b against a zero benchmark is the same arithmetic as r against b, column by column.
        "tracking_error": np.asarray(analytics.tracking_error(active, 0.0)),
        "information_ratio": np.asarray(analytics.information_ratio(active, 0.0)),
    }
    return stats


def _alpha_beta(windows: FloatArray, factors: FloatArray) -> dict[str, FloatArray]:
    """``alpha`` and ``beta`` of each column on its own column of benchmark returns, over
    the days both have (NaN padding drops out), in one call for every column."""
    import numpy as np

    from pas import analytics

    alphas, betas = analytics.alpha_beta(windows, factors)
    return {"alpha": np.asarray(alphas), "beta": np.asarray(betas)}


def _fixed_window(returns: FloatArray, bench: FloatArray, window: int, first: int) -> dict[str, FloatArray]:
    """Statistics of a fixed window as of days ``first`` … last; NaN while too short."""
    import numpy as np
    from numpy.lib.stride_tricks import sliding_window_view

    count = len(returns) - first
    out = {name: np.full(count, np.nan) for name in STATISTICS}
    out["days"] = np.minimum(np.arange(first, len(returns)) + 1, window).astype(np.float64)
    # Column j of the sliding view ends on day j + window − 1.
    start = max(first - window + 1, 0)
    if len(returns) < window or start + window - 1 >= len(returns):
        return out
    windows = sliding_window_view(returns, window)[start:].T
    factors = sliding_window_view(bench, window)[start:].T
    full = windows.shape[1]
    stats = _statistics(windows, factors)
    from pas import analytics

    stats["annual_return"] = np.asarray(analytics.annual_return(windows))
    stats["calmar_ratio"] = np.asarray(analytics.calmar_ratio(windows))
    stats["value_at_risk"] = np.asarray(analytics.value_at_risk(windows))
    stats.update(_alpha_beta(windows, factors))
    for name, values in stats.items():
        out[name][count - full :] = values
    return out


def _inception(returns: FloatArray, bench: FloatArray, first: int) -> dict[str, FloatArray]:
    """Statistics since the first return as of days ``first`` … last.

    Expanding windows are built :data:`INCEPTION_CHUNK` as-of days at a time, so memory
    stays linear in the history.
    """
    import numpy as np

    n = len(returns)
    parts: list[dict[str, FloatArray]] = []
    for chunk in range(first, n, INCEPTION_CHUNK):
        ends = np.arange(chunk, min(chunk + INCEPTION_CHUNK, n))  # as-of index of each column
        lengths = ends + 1
        rows = int(lengths[-1])
        present = np.arange(rows)[:, np.newaxis] <= ends  # day i is in column j's window
        windows = np.where(present, returns[:rows, np.newaxis], np.nan)
        factors = np.where(present, bench[:rows, np.newaxis], np.nan)
        part = _statistics(windows, factors)
        part.update(_alpha_beta(windows, factors))
        part.update(_expanding(returns, windows, lengths))
        part["days"] = np.array(lengths, dtype=np.float64)
        short = part["days"] < MIN_INCEPTION_RETURNS
        for name, values in part.items():
            if name != "days":
                values[short] = np.nan
        parts.append(part)
    return {name: np.concatenate([p[name] for p in parts]) for name in STATISTICS}


def _expanding(returns: FloatArray, windows: FloatArray, lengths: IntArray) -> dict[str, FloatArray]:
    """``annual_return``, ``calmar_ratio`` and ``value_at_risk`` of each column's first
    ``lengths[j]`` returns, for every column at once.

    These three count a NaN as a period (or refuse it), so NaN padding would change them;
    they are computed from running products and minima over the prefixes instead, with
    the arithmetic of :mod:`pas.analytics` (CAGR ``growth ** (1 / years) − 1``, drawdown
    from a start of 1, VaR interpolated linearly between order statistics as
    ``np.percentile``), so each equals the function called on its prefix.
    """
    import numpy as np

    from pas.analytics import DAILY, DEFAULT_CUTOFF

    last = lengths - 1
    prefix = returns[: int(lengths[-1])]
    missing = np.isnan(prefix)
    wealth = np.multiply.accumulate(np.where(missing, 1.0, prefix + 1.0))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        relative = wealth / np.maximum(np.maximum.accumulate(wealth), 1.0)
        drawdown = np.fmin.accumulate(relative)[last] - 1.0
        present = np.cumsum(~missing)[last] > 0
        annual = np.where(present, wealth[last] ** (1 / (lengths / DAILY)) - 1, np.nan)
        ratio = annual / np.abs(drawdown)
    calmar = np.where(present & (drawdown < 0) & np.isfinite(ratio), ratio, np.nan)
    ordered = np.sort(windows, axis=0)  # the NaN padding sorts after every return
    position = last * DEFAULT_CUTOFF
    below = np.floor(position).astype(np.int64)
    fraction = position - below
    columns = np.arange(len(lengths))
    quantile = ordered[below, columns]
    above = ordered[np.minimum(below + 1, last), columns]
    between = (fraction > 0) & (below + 1 < lengths)
    quantile = np.where(between, quantile + (above - quantile) * fraction, quantile)
    var = np.where(np.cumsum(missing)[last] > 0, np.nan, quantile)
    return {"annual_return": annual, "calmar_ratio": calmar, "value_at_risk": var}
