"""Historical value at risk (VaR) and conditional value at risk (CVaR).

Conventions (one for the whole of pas; the quantiles are :func:`pas.analytics.value_at_risk`
and :func:`pas.analytics.conditional_value_at_risk`):

- **Historical.** VaR at 95% is the loss of the 5% quantile of daily outcomes (linear
  interpolation between order statistics, as ``np.percentile``); CVaR (expected shortfall)
  is the mean of the ``floor((n - 1) × 0.05) + 1`` worst days.
- **Losses are positive** (:mod:`pas.analytics.losses`, the convention of every output).
  Both are returned as a loss fraction of equity (0.021 is a 2.1% loss) and in dollars
  (fraction × equity). A negative figure means even the tail day was a gain.
- **N days by the square-root-of-time rule**: the one-day figure × √N. It assumes daily
  outcomes are independent and identically distributed with zero mean (no trend, no
  volatility clustering, no autocorrelation); real returns cluster, so a √N figure is a
  rough guide beyond a few days, not a measured N-day quantile.
- **Two sources.** A portfolio's *realised* VaR comes from its daily returns (the stored
  daily metrics). A *holdings* VaR is of today's book: the hypothetical daily P&L of the
  current quantities over the stored close history, P&L_t = Σ_s qty_s × (close_{s,t} −
  close_{s,t−1}), so a position bought yesterday carries the risk of its price history at
  once. A missing close is carried forward (no change that day); a book's series starts
  on the first day any of its symbols has a close change.

NumPy is imported by this module: only commands that compute VaR import it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from pas.analytics import conditional_value_at_risk, value_at_risk
from pas.analytics.losses import as_loss
from pas.errors import InputError
from pas.models import Price
from pas.risk.books import ACCOUNT, BookView
from pas.store.base import Store

CONFIDENCES = (0.95, 0.99)
DEFAULT_CONFIDENCE = 0.95
DEFAULT_LOOKBACK_DAYS = 756  # three years of trading days

type FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class VarEstimate:
    """VaR and CVaR of one book at one confidence over ``days`` days.

    Attributes:
        observations: daily outcomes the estimate rests on.
        var, cvar: loss fractions of ``equity`` (positive is a loss); NaN without data.
        var_dollars, cvar_dollars: dollars; NaN when equity is unknown and there is no data.
    """

    confidence: float
    days: int
    observations: int
    equity: Decimal | None
    var: float
    cvar: float
    var_dollars: float
    cvar_dollars: float


def check_confidence(confidence: float) -> float:
    """The confidence level, as a fraction strictly between 0 and 1.

    Raises:
        InputError: outside (0, 1).
    """
    if not 0 < confidence < 1 or math.isnan(confidence):
        raise InputError(f"confidence must be between 0 and 1 (such as 0.95 or 0.99), got {confidence}")
    return confidence


def _cutoff(confidence: float) -> float:
    # 1 - 0.95 is 0.050000000000000044 in binary; rounding keeps the tail at 5% exactly.
    return round(1 - check_confidence(confidence), 12)


def sqrt_time(value: float, days: int) -> float:
    """A one-day risk figure scaled to ``days`` days by the square-root-of-time rule."""
    if days < 1:
        raise InputError(f"the horizon must be 1 day or more, got {days}")
    return value * math.sqrt(days)


def returns_var(
    returns: Sequence[float] | FloatArray,
    confidence: float = DEFAULT_CONFIDENCE,
    days: int = 1,
    equity: Decimal | None = None,
) -> VarEstimate:
    """VaR and CVaR from daily noncumulative returns (fractions), missing days dropped."""
    cutoff = _cutoff(confidence)
    values = np.asarray(returns, dtype=np.float64)
    values = values[~np.isnan(values)]
    var, cvar = _tail(values, cutoff)
    scale = float(equity) if equity is not None else math.nan
    return VarEstimate(
        confidence=confidence,
        days=days,
        observations=int(values.size),
        equity=equity,
        var=sqrt_time(var, days),
        cvar=sqrt_time(cvar, days),
        var_dollars=sqrt_time(var * scale, days),
        cvar_dollars=sqrt_time(cvar * scale, days),
    )


def pnl_var(
    pnl: FloatArray,
    confidence: float = DEFAULT_CONFIDENCE,
    days: int = 1,
    equity: Decimal | None = None,
) -> VarEstimate:
    """VaR and CVaR from a book's daily P&L in dollars (fractions are of ``equity``)."""
    cutoff = _cutoff(confidence)
    values = np.asarray(pnl, dtype=np.float64)
    var, cvar = _tail(values, cutoff)
    base = float(equity) if equity is not None and equity > 0 else math.nan
    return VarEstimate(
        confidence=confidence,
        days=days,
        observations=int(values.size),
        equity=equity,
        var=sqrt_time(var / base, days),
        cvar=sqrt_time(cvar / base, days),
        var_dollars=sqrt_time(var, days),
        cvar_dollars=sqrt_time(cvar, days),
    )


def _tail(values: FloatArray, cutoff: float) -> tuple[float, float]:
    """VaR and CVaR of one 1-D series as losses (the quantile and tail mean, negated)."""
    var, cvar = value_at_risk(values, cutoff), conditional_value_at_risk(values, cutoff)
    assert isinstance(var, float) and isinstance(cvar, float)  # 1-D in, floats out
    return as_loss(var), as_loss(cvar)


def close_matrix(
    history: Mapping[str, Sequence[Price]], symbols: Sequence[str], lookback: int | None = None
) -> tuple[list[date], FloatArray]:
    """Closes as a (days, symbols) array on the union of days, NaN where none is stored.

    ``lookback`` keeps the latest that many days.
    """
    days = sorted({p.day for s in symbols for p in history.get(s, ())})
    if lookback is not None:
        days = days[-lookback:] if lookback > 0 else []
    row = {d: i for i, d in enumerate(days)}
    closes = np.full((len(days), len(symbols)), np.nan)
    for col, symbol in enumerate(symbols):
        kept = [(row[p.day], float(p.close)) for p in history.get(symbol, ()) if p.day in row]
        if kept:
            at, values = zip(*kept, strict=True)
            closes[list(at), col] = values
    return days, closes


def price_changes(closes: FloatArray) -> FloatArray:
    """Day-over-day close changes, (days − 1, symbols); a missing close is carried forward,
    and a change before a symbol's first close is NaN."""
    if closes.shape[0] < 2:
        return np.empty((0, closes.shape[1]))
    rows = np.arange(closes.shape[0])[:, np.newaxis]
    last_seen = np.maximum.accumulate(np.where(np.isnan(closes), 0, rows), axis=0)
    filled = np.take_along_axis(closes, last_seen, axis=0)
    return filled[1:] - filled[:-1]


def holdings_pnl(changes: FloatArray, quantities: FloatArray) -> list[FloatArray]:
    """Hypothetical daily P&L in dollars of each book: ``changes`` (days, symbols) times
    ``quantities`` (symbols, books), one matrix product for every book.

    Each book's series starts on the first day one of its symbols has a change, so the
    years before a young book's first close do not count as quiet days.
    """
    known = ~np.isnan(changes)
    pnl = np.where(known, changes, 0.0) @ quantities
    # Per book: rows where any held symbol had a change; the series starts at the first.
    active = (known.astype(np.float64) @ (quantities != 0).astype(np.float64)) > 0
    series = []
    for book in range(quantities.shape[1]):
        hits = np.flatnonzero(active[:, book])
        series.append(pnl[hits[0] :, book] if hits.size else np.empty(0))
    return series


@dataclass(frozen=True)
class BookVar:
    """VaR of one book from one source: ``realised`` (daily returns) or ``holdings``."""

    book: str
    source: str
    estimate: VarEstimate


def book_vars(
    store: Store,
    books: Sequence[BookView],
    levels: Sequence[float],
    days: int = 1,
    lookback: int = DEFAULT_LOOKBACK_DAYS,
    realised: bool = True,
) -> list[BookVar]:
    """Realised VaR of each portfolio from its stored daily metrics (the last ``lookback``
    days), and holdings VaR of each book over the last ``lookback`` days of stored closes:
    one price query and one matrix product for every book together.
    """
    symbols = sorted({s for b in books for s in b.quantities})
    history = store.price_history(symbols, _calendar_start(store, lookback)) if symbols else {}
    _, closes = close_matrix(history, symbols, lookback + 1)
    quantities = np.array(
        [[float(b.quantities.get(s, 0)) for b in books] for s in symbols], dtype=np.float64
    ).reshape(len(symbols), len(books))
    series = holdings_pnl(price_changes(closes), quantities)
    out: list[BookVar] = []
    for book, pnl in zip(books, series, strict=True):
        if realised and book.name != ACCOUNT:
            metrics = store.daily_metrics(book.name)[-lookback:] if lookback > 0 else []
            rets = [m.ret for m in metrics]
            equity = book.equity if book.equity is not None else (metrics[-1].equity if metrics else None)
            out.extend(BookVar(book.name, "realised", returns_var(rets, c, days, equity)) for c in levels)
        out.extend(BookVar(book.name, "holdings", pnl_var(pnl, c, days, book.equity)) for c in levels)
    return out


def _calendar_start(store: Store, lookback: int) -> date:
    # Trading days are about 5/7 of calendar days; the margin covers holidays. The exact
    # window is then cut to ``lookback`` days of closes.
    return store.clock().date() - timedelta(days=lookback * 7 // 5 + 30)
