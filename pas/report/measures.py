"""The tear sheet's numbers: rolling statistics, calendar returns and drawdown episodes.

Pure functions of a book's daily noncumulative returns (fractions, oldest first). The
conventions, which the field does not agree on, are chosen here once and stated in the
README's "Statistics conventions":

- **Rolling windows** are :data:`ROLLING_WINDOW` trading days; a value needs a full window.
  Volatility is the sample deviation (ddof 1) × √252; beta is Cov/Var of the window's days
  that have a benchmark return (at least :data:`MIN_BETA_DAYS`).
- **Drawdown episodes** (the worst-drawdowns table) start on the peak's day (the last
  day at the running high before the fall; a fall on the first day starts on the day
  before, wealth 1), reach their trough on the lowest day, and recover on the first day
  wealth is back at the peak or above. The length counts trading days from the start to
  the recovery, or to the last day for an episode not recovered yet.
- **Partial months** (marked in the heat maps) are the first and last months of a series
  when an NYSE trading day of that month falls before its first day or after its last.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from pas.schedule import is_trading_day

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    type FloatArray = npt.NDArray[np.float64]

ROLLING_WINDOW = 63
"""Trading days in the rolling windows (about a quarter)."""
TRADING_DAYS = 252
"""Annualisation of rolling Sharpe ratio and volatility: √252."""
MIN_DEVIATION = 1e-12
"""A window whose daily returns deviate less than this does not vary: its Sharpe ratio is NaN."""
MIN_BETA_DAYS = 20
"""Benchmark days a rolling beta's window needs."""
WORST_DRAWDOWNS = 5
"""Episodes the worst-drawdowns table lists per book."""


def _windows(values: Sequence[float], window: int) -> tuple[FloatArray | None, int]:
    """Each trailing ``window`` of ``values`` as a row (None when there is no full one), and
    how many values there are."""
    import numpy as np
    from numpy.lib.stride_tricks import sliding_window_view

    r = np.asarray(values, dtype=np.float64)
    if len(r) < window:
        return None, len(r)
    return sliding_window_view(r, window), len(r)


def rolling_sharpe(returns: Sequence[float], window: int = ROLLING_WINDOW) -> list[float]:
    """Annualised Sharpe ratio over each trailing ``window`` of daily returns (NaN where
    the window is not full or its returns do not vary); one value per day."""
    import numpy as np

    windows, n = _windows(returns, window)
    out = np.full(n, np.nan)
    if windows is not None:
        mean, std = windows.mean(axis=1), windows.std(axis=1, ddof=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            # Identical returns leave a rounding residue instead of a zero deviation.
            out[window - 1 :] = np.where(std > MIN_DEVIATION, mean / std * np.sqrt(TRADING_DAYS), np.nan)
    result: list[float] = out.tolist()
    return result


def rolling_volatility(returns: Sequence[float], window: int = ROLLING_WINDOW) -> list[float]:
    """Annualised volatility (sample deviation × √252, a fraction) of each trailing
    ``window`` of daily returns; NaN until the window is full."""
    import numpy as np

    windows, n = _windows(returns, window)
    out = np.full(n, np.nan)
    if windows is not None:
        out[window - 1 :] = windows.std(axis=1, ddof=1) * np.sqrt(TRADING_DAYS)
    result: list[float] = out.tolist()
    return result


def rolling_beta(
    returns: Sequence[float], benchmark: Sequence[float], window: int = ROLLING_WINDOW
) -> list[float]:
    """Beta to the benchmark, Cov(r, b) / Var(b), over each trailing ``window`` of days.

    Args:
        returns: the book's daily returns.
        benchmark: the benchmark's return on the same days, NaN where it has none.
        window: trading days per window.

    Returns:
        One value per day: NaN until the window is full, where fewer than
        :data:`MIN_BETA_DAYS` of its days have a benchmark return, or where the benchmark
        does not vary.
    """
    import numpy as np

    windows, n = _windows(returns, window)
    bench, _ = _windows(benchmark, window)
    out = np.full(n, np.nan)
    if windows is not None and bench is not None:
        r, b = windows, bench
        known = ~np.isnan(b)
        count = known.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            rm = np.where(known, r, 0.0).sum(axis=1) / count
            bm = np.nansum(b, axis=1) / count
            dr, db = np.where(known, r - rm[:, None], 0.0), np.where(known, b - bm[:, None], 0.0)
            var = (db * db).sum(axis=1)
            slope = (dr * db).sum(axis=1) / var
        out[window - 1 :] = np.where((count >= MIN_BETA_DAYS) & (var > MIN_DEVIATION**2), slope, np.nan)
    result: list[float] = out.tolist()
    return result


def growth(returns: Sequence[float]) -> list[float]:
    """Growth of one dollar at each day's close, from 1 before the first return."""
    out, wealth = [], 1.0
    for r in returns:
        wealth *= 1 + r
        out.append(wealth)
    return out


def drawdowns(returns: Sequence[float]) -> list[float]:
    """Each day's wealth below its running peak (0 or negative), wealth 1 before day one."""
    out, peak = [], 1.0
    for wealth in growth(returns):
        peak = max(peak, wealth)
        out.append(wealth / peak - 1)
    return out


@dataclass(frozen=True)
class Drawdown:
    """One drawdown episode (see the module's conventions).

    Attributes:
        start: the peak's day (None when the fall began on the first day: from wealth 1).
        trough: the lowest day.
        recovery: the first day back at the peak, None while not recovered.
        depth: the trough below the peak, a negative fraction.
        length: trading days from the start to the recovery (or to the last day).
    """

    start: date | None
    trough: date
    recovery: date | None
    depth: float
    length: int


def worst_drawdowns(
    days: Sequence[date], returns: Sequence[float], count: int = WORST_DRAWDOWNS
) -> list[Drawdown]:
    """The ``count`` deepest drawdown episodes, deepest first (ties: the earlier first)."""
    episodes: list[Drawdown] = []
    peak, high = -1, 1.0  # the peak's index (-1: before the first day, wealth 1) and wealth
    trough: int | None = None  # the episode's lowest day so far; None outside an episode
    low = wealth = 1.0
    for i, r in enumerate(returns):
        wealth *= 1 + r
        if wealth >= high:
            if trough is not None:
                episodes.append(_episode(days, peak, trough, i, low / high - 1))
            peak, high, trough = i, wealth, None
        elif trough is None or wealth < low:
            trough, low = i, wealth
    if trough is not None:
        episodes.append(_episode(days, peak, trough, None, low / high - 1))
    return sorted(episodes, key=lambda e: e.depth)[:count]


def _episode(days: Sequence[date], peak: int, trough: int, end: int | None, depth: float) -> Drawdown:
    last = end if end is not None else len(days) - 1
    return Drawdown(
        start=days[peak] if peak >= 0 else None,
        trough=days[trough],
        recovery=days[end] if end is not None else None,
        depth=depth,
        length=last - peak,
    )


def yearly_returns(days: Sequence[date], returns: Sequence[float]) -> dict[int, float]:
    """Compounded return of each calendar year that has days."""
    growth: dict[int, float] = {}
    for d, r in zip(days, returns, strict=True):
        growth[d.year] = growth.get(d.year, 1.0) * (1 + r)
    return {y: g - 1 for y, g in growth.items()}


def monthly_returns(days: Sequence[date], returns: Sequence[float]) -> dict[tuple[int, int], float]:
    """Compounded return of each (year, month) that has days."""
    growth: dict[tuple[int, int], float] = {}
    for d, r in zip(days, returns, strict=True):
        growth[(d.year, d.month)] = growth.get((d.year, d.month), 1.0) * (1 + r)
    return {k: g - 1 for k, g in growth.items()}


def cumulative_return(returns: Sequence[float]) -> float:
    """The compounded return over all days (0 for none)."""
    return math.prod(1 + r for r in returns) - 1


def partial_months(days: Sequence[date]) -> set[tuple[int, int]]:
    """The first and last (year, month) of ``days`` when they miss a trading day of that
    month (the series starts after the month's first trading day or ends before its last)."""
    if not days:
        return set()
    first, last = min(days), max(days)
    partial: set[tuple[int, int]] = set()
    d = first.replace(day=1)
    if any(is_trading_day(d + timedelta(i)) for i in range((first - d).days)):
        partial.add((first.year, first.month))
    d = last + timedelta(1)
    while d.month == last.month:
        if is_trading_day(d):
            partial.add((last.year, last.month))
            break
        d += timedelta(1)
    return partial


def partial_years(days: Sequence[date]) -> set[int]:
    """The years of ``days`` whose first or last month is partial, or that start after
    January or end before December."""
    if not days:
        return set()
    first, last = min(days), max(days)
    partial = {y for y, _ in partial_months(days)}
    if first.month > 1:
        partial.add(first.year)
    if last.month < 12:
        partial.add(last.year)
    return partial


def aligned(days: Sequence[date], values: Mapping[date, float]) -> list[float]:
    """``values`` on each of ``days``, NaN where a day has none."""
    return [values.get(d, math.nan) for d in days]
