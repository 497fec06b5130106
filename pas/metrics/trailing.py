"""Trailing statistics of a portfolio's daily metrics, over windows of :data:`WINDOWS`.

They are the :mod:`pas.analytics` functions, stored under the functions' names plus
``days`` and ``cumulative_return``. NumPy is imported inside the functions that need it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from itertools import pairwise
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
INCEPTION_CHUNK = 64
"""As-of days per block of windows (a block is at most (history + 441) × this many floats)."""

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

    Every (window, as-of day) is one column of one array per window: each fixed window's
    array has exactly its rows, inception's is NaN-padded to its longest column, so each
    :mod:`pas.analytics` function runs once per window and block of as-of days, whatever
    the portfolios (:func:`_chunk`). ``alpha`` and ``beta`` regress each column on its own
    benchmark column.

    Args:
        portfolio: the portfolio's id.
        metrics: all its daily metrics, oldest first.
        from_day: the first as-of day to compute (default: the first metric day).

    Returns:
        One :class:`TrailingStats` per (as-of day, window), keyed by :data:`STATISTICS`.
    """
    return trailing_stats_tables([(portfolio, metrics, from_day)])[0]


def trailing_stats_tables(
    books: Sequence[tuple[str, Sequence[DailyMetric], date | None]],
) -> list[list[TrailingStats]]:
    """:func:`trailing_stats_table` of several portfolios at once: (portfolio, metrics,
    from_day) each, the statistics of each in the same order.

    Every portfolio's (window, as-of day) columns go into the same blocks of each window's
    array, so a weekly update of five portfolios costs the :mod:`pas.analytics` calls of
    one. A column reads only its own portfolio's returns, and each statistic of a column
    is that of its own rows (the padding drops out), so each portfolio's statistics are
    those it gets alone, but for the last bits of a sum NumPy takes in another order over
    a wider array (as it does over blocks of other sizes already).
    """
    import numpy as np

    returns_of, bench_of, ends_of, base_of, spans = [], [], [], [], []
    offset = 0
    for _, metrics, from_day in books:
        days = [m.day for m in metrics]
        first = 0 if from_day is None else index_on_or_after(days, from_day)
        returns_of.append(np.array([m.ret for m in metrics], dtype=np.float64))
        bench_of.append(np.array([np.nan if m.benchmark_ret is None else m.benchmark_ret for m in metrics]))
        ends_of.append(np.arange(offset + first, offset + len(days), dtype=np.int64))
        base_of.append(np.full(max(len(days) - first, 0), offset, dtype=np.int64))
        spans.append((days, first))
        offset += len(days)
    if offset == 0:
        return [[] for _ in books]
    ends, base = np.concatenate(ends_of), np.concatenate(base_of)
    tables = _tables(np.concatenate(returns_of), np.concatenate(bench_of), ends, base)
    # One tuple of Python floats per (window, column): read off each array once, not a
    # NumPy scalar at a time.
    rows = {w: list(zip(*(tables[w][name].tolist() for name in STATISTICS), strict=True)) for w in WINDOWS}
    out: list[list[TrailingStats]] = []
    column = 0
    for (portfolio, _, _), (days, first) in zip(books, spans, strict=True):
        own = []
        for index in range(first, len(days)):
            for window in WINDOWS:
                values = dict(zip(STATISTICS, rows[window][column], strict=True))
                own.append(TrailingStats(portfolio, days[index], window, values))
            column += 1
        out.append(own)
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
    return recompute_all_trailing_stats(store, [(portfolio, from_day, pending)])


def recompute_all_trailing_stats(
    store: Store, books: Sequence[tuple[str, date, Sequence[DailyMetric]]]
) -> int:
    """:func:`recompute_trailing_stats` of several portfolios, (portfolio, from_day,
    pending) each, computed together (:func:`trailing_stats_tables`).

    Returns:
        How many (as-of day, window) rows were stored in all.
    """
    series = []
    for portfolio, from_day, pending in books:
        stored = store.daily_metrics(portfolio)
        if not pending or ((not stored or stored[-1].day < pending[0].day) and _ascending(pending)):
            merged = [*stored, *pending]  # the usual case: new days after the stored ones
        else:
            by_day = {m.day: m for m in stored} | {m.day: m for m in pending}
            merged = [by_day[d] for d in sorted(by_day)]
        series.append((portfolio, merged, from_day))
    written = 0
    for (portfolio, _, from_day), stats in zip(series, trailing_stats_tables(series), strict=True):
        store.delete_trailing_stats_from(portfolio, from_day)
        written += store.put_trailing_stats(stats)
    return written


def _tables(
    returns: FloatArray, bench: FloatArray, ends: IntArray, base: IntArray
) -> dict[str, dict[str, FloatArray]]:
    """Every window's statistics as of the days of index ``ends`` (each column's
    portfolio's returns start at index ``base``), :data:`INCEPTION_CHUNK` as-of days at a
    time (so memory stays linear in the history)."""
    import numpy as np

    n = len(ends)
    parts = [
        _chunk(returns, bench, ends[at : at + INCEPTION_CHUNK], base[at : at + INCEPTION_CHUNK])
        for at in range(0, n, INCEPTION_CHUNK)
    ]
    if not parts:
        return {w: {name: np.empty(0) for name in STATISTICS} for w in WINDOWS}
    return {w: {name: np.concatenate([p[w][name] for p in parts]) for name in STATISTICS} for w in WINDOWS}


def _chunk(
    returns: FloatArray, bench: FloatArray, ends: IntArray, base: IntArray
) -> dict[str, dict[str, FloatArray]]:
    """Every window's statistics as of the days of index ``ends``.

    Each (window, as-of day) is one column of returns from its first day (at the earliest
    its portfolio's first, ``base``) to the as-of day. A fixed window's columns fill an
    array of exactly its rows, so its statistics take NumPy's one-pass paths; the
    inception columns, whose lengths differ, are padded with NaN after their last day
    (:func:`_columns`). A fixed window has a column only as of the days it is full; before
    them it is NaN.
    """
    import numpy as np

    lived = ends - base + 1  # returns up to each as-of day
    out: dict[str, dict[str, FloatArray]] = {}
    for window in FIXED_WINDOWS:
        full = lived >= window
        table = {name: np.full(len(ends), np.nan) for name in STATISTICS}
        if full.any():
            lengths = np.full(int(full.sum()), window)
            for name, values in _columns(returns, bench, ends[full] - window + 1, lengths).items():
                table[name][full] = values
        table["days"] = np.minimum(lived, window).astype(np.float64)
        out[str(window)] = table
    inception = _columns(returns, bench, base, lived)
    short = lived < MIN_INCEPTION_RETURNS
    for values in inception.values():
        values[short] = np.nan
    inception["days"] = lived.astype(np.float64)
    out[INCEPTION] = inception
    return out


def _columns(
    returns: FloatArray, bench: FloatArray, starts: IntArray, lengths: IntArray
) -> dict[str, FloatArray]:
    """Every statistic but ``days`` of the columns of ``lengths[j]`` returns from index
    ``starts[j]``, in one array: NaN-padded after each column's last day when the lengths
    differ, so each statistic runs once over all of them."""
    import numpy as np

    longest = int(lengths.max())
    row = np.arange(longest)[:, np.newaxis]
    at = np.minimum(starts + row, len(returns) - 1)
    if int(lengths.min()) == longest:
        windows, factors = returns[at], bench[at]
    else:
        inside = row < lengths
        windows = np.where(inside, returns[at], np.nan)
        factors = np.where(inside, bench[at], np.nan)
    return _statistics(windows, factors) | _alpha_beta(windows, factors) | _counted(windows, lengths)


def _ascending(metrics: Sequence[DailyMetric]) -> bool:
    """Whether the metrics' days strictly increase (one metric a day, oldest first)."""
    return all(a.day < b.day for a, b in pairwise(metrics))


def _statistics(windows: FloatArray, factors: FloatArray) -> dict[str, FloatArray]:
    """The statistics of every column of ``windows`` (rows: days) that skip NaN exactly as
    they skip absent days, so the padding after a column's last day drops out.

    ``factors`` holds each column's benchmark returns, NaN where missing.
    """
    import numpy as np

    from pas import analytics

    active = windows - factors
    return {
        "annual_volatility": np.asarray(analytics.annual_volatility(windows)),
        "sharpe_ratio": np.asarray(analytics.sharpe_ratio(windows)),
        "sortino_ratio": np.asarray(analytics.sortino_ratio(windows)),
        "downside_risk": np.asarray(analytics.downside_risk(windows)),
        "conditional_value_at_risk": np.asarray(analytics.conditional_value_at_risk(windows)),
        # r − b against a zero benchmark is the same arithmetic as r against b, column by column.
        "tracking_error": np.asarray(analytics.tracking_error(active, 0.0)),
        "information_ratio": np.asarray(analytics.information_ratio(active, 0.0)),
    }


def _alpha_beta(windows: FloatArray, factors: FloatArray) -> dict[str, FloatArray]:
    """``alpha`` and ``beta`` of each column on its own column of benchmark returns, over
    the days both have (NaN padding drops out), in one call for every column."""
    import numpy as np

    from pas import analytics

    alphas, betas = analytics.alpha_beta(windows, factors)
    return {"alpha": np.asarray(alphas), "beta": np.asarray(betas)}


def _counted(windows: FloatArray, lengths: IntArray) -> dict[str, FloatArray]:
    """``cumulative_return``, ``max_drawdown``, ``annual_return``, ``calmar_ratio`` and
    ``value_at_risk`` of each column's first ``lengths[j]`` rows, for every column at once,
    from one running product of wealth.

    The last three count a NaN as a period (or refuse it), so the NaN padding would change
    them; all five are read off the wealth and its running peak with the arithmetic of
    :mod:`pas.analytics` (wealth from a start of 1, a missing return a 0% day; CAGR
    ``growth ** (1 / years) − 1``; VaR interpolated linearly between order statistics as
    ``np.percentile``), so each equals the function called on the column's rows. Padding
    multiplies wealth by exactly 1, so the wealth, its peak and the drawdown after a
    column's last row repeat that row's.
    """
    import numpy as np

    from pas.analytics import DAILY, DEFAULT_CUTOFF

    last, columns = lengths - 1, np.arange(len(lengths))
    missing = np.isnan(windows)
    absent = missing.sum(axis=0)
    present = absent < windows.shape[0]  # any return at all
    wealth = windows + 1.0
    np.copyto(wealth, 1.0, where=missing)
    np.multiply.accumulate(wealth, axis=0, out=wealth)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        peak = np.maximum.accumulate(wealth, axis=0)
        relative = np.divide(wealth, np.maximum(peak, 1.0, out=peak), out=peak)
        drawdown = np.where(present, np.fmin.reduce(relative, axis=0) - 1.0, np.nan)
        growth = wealth[last, columns]
        annual = np.where(present, growth ** (1 / (lengths / DAILY)) - 1, np.nan)
        ratio = annual / np.abs(drawdown)
    calmar = np.where(present & (drawdown < 0) & np.isfinite(ratio), ratio, np.nan)
    position = last * DEFAULT_CUTOFF
    below = np.floor(position).astype(np.int64)
    fraction = position - below
    above_at = np.minimum(below + 1, last)
    # NaN (padding or missing) sorts after every return; only these ranks need ordering.
    ordered = np.partition(windows, np.unique(np.concatenate([below, above_at])), axis=0)
    quantile = ordered[below, columns]
    above = ordered[above_at, columns]
    between = (fraction > 0) & (below + 1 < lengths)
    quantile = np.where(between, quantile + (above - quantile) * fraction, quantile)
    padding = windows.shape[0] - lengths
    return {
        "cumulative_return": np.where(present, growth - 1.0, np.nan),
        "max_drawdown": drawdown,
        "annual_return": annual,
        "calmar_ratio": calmar,
        "value_at_risk": np.where(absent > padding, np.nan, quantile),
    }
