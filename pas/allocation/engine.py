"""The allocation engine: the stages of :mod:`pas.allocation` in order, and the store edge.

:func:`compute_weights` is pure (returns matrix and statistics in, :class:`Allocation`
out); :func:`allocate` loads both from the store up to the as-of day and calls it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from pas.allocation.bounds import check_bounds, project_capped_simplex
from pas.allocation.estimates import covariance
from pas.allocation.methods import EQUAL, SIZERS
from pas.allocation.target import target_exposure
from pas.config import ALLOCATION_METHODS, DEFAULT_ALLOCATION_METHOD, DEFAULT_ALLOCATION_MIN_HISTORY
from pas.errors import InputError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from pas.store.base import Store

    Array = npt.NDArray[np.float64]

METHODS = ALLOCATION_METHODS
DEFAULT_METHOD = DEFAULT_ALLOCATION_METHOD
# Trading days of returns a portfolio needs before its statistics count (about a quarter:
# fewer give Sharpe ratios and volatilities dominated by noise).
DEFAULT_MIN_HISTORY = DEFAULT_ALLOCATION_MIN_HISTORY
# The trailing window whose statistics the score uses (one trading year).
DEFAULT_STATS_WINDOW = "252"


@dataclass(frozen=True)
class Allocation:
    """How the account's equity is split.

    Attributes:
        weights: relative weight per portfolio (sum 1, each within the bounds).
        exposure: fraction of the account invested (0 < exposure ≤ 1; the rest is cash).
        ex_ante_vol: annualised volatility of the invested book after scaling, None when
            no portfolio has enough history to estimate it.
        notes: what a reader should know (new portfolios, target not applied...).
        method: the method used.
        history: days of returns per portfolio up to the as-of day.
    """

    weights: dict[str, float]
    exposure: float
    ex_ante_vol: float | None
    notes: tuple[str, ...] = ()
    method: str = DEFAULT_METHOD
    history: dict[str, int] = field(default_factory=dict)

    def final(self) -> dict[str, float]:
        """Fraction of the account per portfolio: relative weight × exposure."""
        return {p: w * self.exposure for p, w in self.weights.items()}


def compute_weights(
    returns: Any,
    stats: Mapping[str, Mapping[str, float]],
    method: str = DEFAULT_METHOD,
    min_alloc: float = 0.0,
    max_alloc: float = 1.0,
    target_vol: float | None = None,
    min_history: int = DEFAULT_MIN_HISTORY,
    portfolios: Sequence[str] | None = None,
) -> Allocation:
    """Sizes portfolios as fractions of the account (see :mod:`pas.allocation`).

    Args:
        returns: daily noncumulative returns, days × portfolios (a 2-D array, NaN before a
            portfolio's first day, or a DataFrame whose columns are the portfolios).
        stats: trailing statistics per portfolio (names of :mod:`pas.analytics`); a
            missing portfolio or statistic counts as average.
        method: one of :data:`METHODS`.
        min_alloc: lowest relative weight of a portfolio (fraction).
        max_alloc: highest relative weight of a portfolio (fraction).
        target_vol: annualised volatility the book is held at or below, None for none.
        min_history: days of returns a portfolio needs to be sized by the method.
        portfolios: the column names when ``returns`` is an array.

    Raises:
        InputError: unknown method, no portfolio, mismatched shapes, or bounds that
            cannot be met.
    """
    import numpy as np

    if method not in METHODS:
        raise InputError(f"unknown allocation method {method!r}; use one of {', '.join(METHODS)}")
    names, data = _returns_matrix(returns, portfolios)
    n = len(names)
    check_bounds(n, min_alloc, max_alloc)
    if target_vol is not None and not target_vol > 0:
        raise InputError(f"the volatility target must be more than 0, got {target_vol}")

    # Stage 1, history: who is established; the covariance estimate over them.
    days = (~np.isnan(data)).sum(axis=0)
    established = days >= max(min_history, 2)
    notes: list[str] = []
    new = [names[i] for i in range(n) if not established[i]]
    if new and method != EQUAL:
        notes.append(f"fewer than {min_history} days of returns, given an equal share: {', '.join(new)}")
    sigma = covariance(data, established, max(min_history, 2)) if established.any() else None

    # Stage 2, method: an equal share each, the established ones' total split by the method.
    raw = np.full(n, 1.0 / n)
    if method != EQUAL and sigma is not None:
        idx = np.flatnonzero(established)
        part = SIZERS[method](sigma[np.ix_(idx, idx)], [stats.get(names[i], {}) for i in idx])
        raw[idx] = part * (len(idx) / n)
    if method == "risk_parity" and (min_alloc > 0 or max_alloc < 1):
        notes.append("risk parity weights were projected onto the bounds; risk contributions may differ")
    # Stage 3, bounds.
    w = project_capped_simplex(raw, min_alloc, max_alloc)

    # Stage 4, volatility target.
    exposure, vol = 1.0, None
    if sigma is not None:
        exposure, vol = target_exposure(w, sigma, target_vol)
    elif target_vol is not None:
        notes.append(
            f"no portfolio has {min_history} days of returns: volatility target not applied (exposure 100%)"
        )
    return Allocation(
        weights={p: float(x) for p, x in zip(names, w, strict=True)},
        exposure=exposure,
        ex_ante_vol=vol,
        notes=tuple(notes),
        method=method,
        history={p: int(d) for p, d in zip(names, days, strict=True)},
    )


def _returns_matrix(returns: Any, portfolios: Sequence[str] | None) -> tuple[list[str], Array]:
    """The portfolio names and the days × portfolios float matrix of ``returns``.

    Raises:
        InputError: no names for an array, a shape that does not match, or no portfolio.
    """
    import numpy as np

    if hasattr(returns, "columns"):
        names = [str(c) for c in returns.columns]
        data = np.asarray(returns.to_numpy(dtype=np.float64))
    else:
        if portfolios is None:
            raise InputError("name the portfolios (the columns of the returns)")
        names = list(portfolios)
        data = np.asarray(returns, dtype=np.float64)
    if data.ndim != 2 or data.shape[1] != len(names):
        raise InputError(f"returns must be days × {len(names)} portfolios, got shape {data.shape}")
    if not names:
        raise InputError("no portfolio to allocate to; add one with `pas portfolio add`")
    return names, data


@dataclass(frozen=True)
class Proposal:
    """An allocation computed from the store, with the statistics it used."""

    as_of: date
    allocation: Allocation
    stats: dict[str, dict[str, float]]


def allocate(
    store: Store,
    portfolios: Sequence[str],
    as_of: date,
    *,
    method: str = DEFAULT_METHOD,
    min_alloc: float = 0.0,
    max_alloc: float = 1.0,
    target_vol: float | None = None,
    min_history: int = DEFAULT_MIN_HISTORY,
    window: str = DEFAULT_STATS_WINDOW,
) -> Proposal:
    """Loads daily returns and trailing statistics up to ``as_of`` and sizes the portfolios.

    Statistics are those of ``window`` computed as of ``as_of`` or earlier (the store's
    no-look-ahead read); returns are those of days up to and including ``as_of``.
    """
    import numpy as np

    series = {p: {m.day: m.ret for m in store.daily_metrics(p, end=as_of)} for p in portfolios}
    days = sorted({d for s in series.values() for d in s})
    row = {d: i for i, d in enumerate(days)}
    data = np.full((len(days), len(portfolios)), np.nan)
    for j, p in enumerate(portfolios):
        for d, r in series[p].items():
            data[row[d], j] = r
    stats: dict[str, dict[str, float]] = {}
    for p in portfolios:
        found = store.trailing_stats(p, window, as_of=as_of)
        stats[p] = dict(found.values) if found is not None else {}
    allocation = compute_weights(
        data,
        stats,
        method=method,
        min_alloc=min_alloc,
        max_alloc=max_alloc,
        target_vol=target_vol,
        min_history=min_history,
        portfolios=portfolios,
    )
    return Proposal(as_of, allocation, stats)
