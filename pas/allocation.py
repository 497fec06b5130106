"""Capital allocation across portfolios: relative weights, bounds, volatility targeting.

The core, :func:`compute_weights`, is a pure function of a matrix of daily returns (days ×
portfolios, NaN where a portfolio has no return, e.g. before its first day) and of each
portfolio's trailing statistics. :func:`allocate` is the thin layer that loads both from
the store, using only data up to the as-of day (no look-ahead).

Stages, in order:

1. **History.** A portfolio with fewer than ``min_history`` daily returns
   (:data:`DEFAULT_MIN_HISTORY`, 63 trading days ≈ one quarter) is *new*. Its statistics
   and volatility are noise, so it gets the neutral treatment: an equal share ``1/n`` of
   the book before the bounds are applied. The established portfolios share the rest
   (``n_established / n``) by the method. With no established portfolio every method
   gives equal weights.
2. **Method** (among the established portfolios):

   - ``equal``: ``1/n`` each (no history needed).
   - ``inverse_vol``: ``w_i ∝ 1/σ_i``, ``σ_i`` the standard deviation of the portfolio's
     own daily returns.
   - ``risk_parity``: equal risk contribution ``w_i (Σw)_i = wᵀΣw / n`` from the
     covariance ``Σ`` of the portfolios' daily returns, solved by Spinu's damped Newton
     method (see :func:`risk_parity_weights`).
   - ``score``: a blend of statistics. Each statistic of :data:`SCORE_BLEND` is turned
     into z-scores across the established portfolios (NaN → 0, the average; ±inf and
     |z| > 3 → ±3), max drawdown entering as ``-|max_drawdown|`` so a shallower drawdown
     scores higher; the score is the weighted sum ``s_i = Σ_k c_k z_ik`` with the weights
     of :data:`SCORE_BLEND` (they sum to 1), and weights are its softmax
     ``w_i ∝ exp(s_i)`` (positive; the best portfolio gets at most e⁶ ≈ 400 times the
     worst's weight).
3. **Bounds.** The weights are projected onto the capped simplex
   ``{w : Σw = 1, lo ≤ w_i ≤ hi}`` (Euclidean projection, see :func:`project_capped_simplex`).
   Clipping and renormalising would break the bounds; the projection keeps both.
4. **Volatility target.** With ``target_vol`` (annualised), the book's ex-ante volatility
   ``sqrt(252 · wᵀΣw)`` is held at or below it by scaling the exposure down
   (``exposure = min(1, target / σ_book)``; never above 1: no leverage). The rest is cash.

The covariance ``Σ``: variances from each portfolio's own history, correlations pairwise
over the days both have returns (at least ``min_history`` of them); a correlation that
cannot be estimated (a new portfolio, too short an overlap) is the average correlation of
the pairs that can (at least 0), and a new portfolio's variance is the median variance of
the established ones. The result is repaired to the nearest positive semi-definite matrix
(negative eigenvalues set to zero).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from pas.config import ALLOCATION_METHODS, DEFAULT_ALLOCATION_METHOD, DEFAULT_ALLOCATION_MIN_HISTORY
from pas.errors import InputError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from pas.store.base import Store

    Array = npt.NDArray[np.float64]
    Mask = npt.NDArray[np.bool_]

METHODS = ALLOCATION_METHODS
DEFAULT_METHOD = DEFAULT_ALLOCATION_METHOD
# Trading days of returns a portfolio needs before its statistics count (about a quarter:
# fewer give Sharpe ratios and volatilities dominated by noise).
DEFAULT_MIN_HISTORY = DEFAULT_ALLOCATION_MIN_HISTORY
# The trailing window whose statistics the score uses (one trading year).
DEFAULT_STATS_WINDOW = "252"
TRADING_DAYS = 252
# Statistic -> weight of its z-score in the score (sum 1). Risk-adjusted return counts
# most; the drawdown keeps a portfolio with a good ratio but a deep loss in check.
SCORE_BLEND: Mapping[str, float] = {
    "sharpe_ratio": 0.30,
    "sortino_ratio": 0.20,
    "information_ratio": 0.20,
    "alpha": 0.10,
    "max_drawdown": 0.20,
}
# z-scores are capped so that one outlier cannot take the whole book through the softmax.
Z_CAP = 3.0
# Daily volatility below this is treated as this (a portfolio that never moves would
# otherwise get an infinite inverse-volatility weight).
VOL_FLOOR = 1e-8
# Risk parity: Newton decrement at which the solution is converged, and an iteration cap.
RP_TOLERANCE = 1e-12
RP_MAX_ITER = 200


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


def check_bounds(n: int, lo: float, hi: float) -> None:
    """Refuses bounds that ``n`` portfolios cannot meet.

    Raises:
        InputError: ``n × lo > 1`` or ``n × hi < 1``; the message names the setting.
    """
    if n * lo > 1.0 + 1e-12:
        raise InputError(
            f"MIN_ALLOCATION {lo:g} × {n} portfolios = {n * lo:g} is more than 1; "
            f"lower MIN_ALLOCATION to at most {1 / n:.6g}"
        )
    if n * hi < 1.0 - 1e-12:
        raise InputError(
            f"MAX_ALLOCATION {hi:g} × {n} portfolios = {n * hi:g} is less than 1; "
            f"raise MAX_ALLOCATION to at least {1 / n:.6g}"
        )


def project_capped_simplex(v: Array, lo: float, hi: float) -> Array:
    """The Euclidean projection of ``v`` onto ``{w : Σw = 1, lo ≤ w_i ≤ hi}``.

    The projection is ``w_i = clip(v_i − τ, lo, hi)`` for the shift ``τ`` at which the
    sum is 1; the sum is non-increasing in ``τ``, so ``τ`` is found by bisection to machine
    precision. A last step moves the remaining rounding error onto weights with room,
    so the bounds hold exactly and the sum is 1 to within a few ulps.

    Raises:
        InputError: the bounds cannot be met (see :func:`check_bounds`).
    """
    import numpy as np

    n = len(v)
    check_bounds(n, lo, hi)
    t_low = float(np.min(v)) - hi  # every weight at hi: sum n·hi ≥ 1
    t_high = float(np.max(v)) - lo  # every weight at lo: sum n·lo ≤ 1
    for _ in range(200):
        mid = 0.5 * (t_low + t_high)
        if mid in (t_low, t_high):
            break
        if float(np.clip(v - mid, lo, hi).sum()) > 1.0:
            t_low = mid
        else:
            t_high = mid
    w: Array = np.clip(v - 0.5 * (t_low + t_high), lo, hi)
    for _ in range(3):
        gap = 1.0 - math.fsum(w.tolist())
        if gap == 0.0:
            break
        room = (hi - w) if gap > 0 else (w - lo)
        order = np.argsort(-room, kind="stable")
        for i in order:
            step = min(abs(gap), float(room[i]))
            if step <= 0.0:
                break
            w[i] = min(hi, max(lo, w[i] + math.copysign(step, gap)))
            gap = 1.0 - math.fsum(w.tolist())
            if gap == 0.0:
                break
    return w


def covariance(returns: Array, established: Mask, min_overlap: int) -> Array:
    """The covariance matrix of daily returns described in the module docstring.

    Args:
        returns: days × portfolios, NaN where a portfolio has no return.
        established: boolean mask of the portfolios with enough history.
        min_overlap: days two portfolios need in common for their own correlation.
    """
    import numpy as np

    mask = ~np.isnan(returns)
    m = mask.astype(np.float64)
    x = np.where(mask, returns, 0.0)
    count = mask.sum(axis=0).astype(np.float64)
    mean = np.divide(x.sum(axis=0), count, out=np.zeros(len(count)), where=count > 0)
    dev = np.where(mask, x - mean, 0.0)
    var = np.divide((dev**2).sum(axis=0), count - 1, out=np.zeros(len(count)), where=count > 1)
    # Pairwise over the common days: sums of products, of each side and of squares.
    pairs = m.T @ m
    sxy = x.T @ x
    sx = x.T @ m  # [i, j] = sum of x_i on the days j has a return
    sxx = (x**2).T @ m
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = sxy - sx * sx.T / pairs
        vx = sxx - sx**2 / pairs
        corr = cov / np.sqrt(vx * vx.T)
    both = np.outer(established, established).astype(bool) & (pairs >= min_overlap) & np.isfinite(corr)
    np.fill_diagonal(both, False)
    corr = np.clip(corr, -1.0, 1.0)
    known = corr[both]
    fill = max(0.0, float(known.mean())) if known.size else 0.0
    corr = np.where(both, corr, fill)
    np.fill_diagonal(corr, 1.0)
    est_var = var[established]
    typical = float(np.median(est_var)) if est_var.size else 0.0
    var = np.where(established, var, typical)
    sd = np.sqrt(np.maximum(var, 0.0))
    sigma = corr * np.outer(sd, sd)
    vals, vecs = np.linalg.eigh(0.5 * (sigma + sigma.T))
    repaired: Array = (vecs * np.maximum(vals, 0.0)) @ vecs.T
    return 0.5 * (repaired + repaired.T)


def risk_parity_weights(sigma: Array) -> Array:
    """Equal-risk-contribution weights of a covariance matrix.

    Minimises the convex ``f(x) = ½ xᵀΣx − (1/n) Σ log x_i`` (Spinu 2013, "An algorithm for
    computing risk parity weights") by damped Newton steps ``x ← x − d / (1 + λ)``, ``λ``
    the Newton decrement, which keep ``x`` positive, then full steps; at the minimum
    ``x_i (Σx)_i = 1/n`` for every i, so ``w = x / Σx`` has equal risk contributions.
    Deterministic; converges when ``λ`` < :data:`RP_TOLERANCE`. A tiny ridge keeps a
    singular ``Σ`` (duplicate portfolios) solvable.
    """
    import numpy as np

    n = len(sigma)
    scale = float(np.mean(np.diag(sigma))) or 1.0
    s = sigma / scale + 1e-10 * np.eye(n)
    b = np.full(n, 1.0 / n)
    x = 1.0 / np.sqrt(np.maximum(np.diag(s), 1e-12))
    x *= math.sqrt(1.0 / float(x @ s @ x))
    for _ in range(RP_MAX_ITER):
        grad = s @ x - b / x
        hess = s + np.diag(b / x**2)
        step = np.linalg.solve(hess, grad)
        decrement = math.sqrt(max(float(grad @ step), 0.0))
        if decrement < RP_TOLERANCE:
            break
        x = x - (step / (1.0 + decrement) if decrement > 0.25 else step)
        x = np.maximum(x, 1e-300)
    w: Array = x / x.sum()
    return w


def score_weights(stats: Sequence[Mapping[str, float]]) -> Array:
    """Softmax of the blended z-scores of :data:`SCORE_BLEND` (see the module docstring)."""
    import numpy as np

    n = len(stats)
    score = np.zeros(n)
    for name, coef in SCORE_BLEND.items():
        raw = np.array([float(s.get(name, math.nan)) for s in stats])
        if name == "max_drawdown":
            raw = -np.abs(raw)
        z = np.zeros(n)
        finite = np.isfinite(raw)
        if finite.sum() >= 2:
            sd = float(raw[finite].std())
            if sd > 0:
                z[finite] = (raw[finite] - raw[finite].mean()) / sd
        z[np.isposinf(raw)] = Z_CAP
        z[np.isneginf(raw)] = -Z_CAP
        score += coef * np.clip(z, -Z_CAP, Z_CAP)
    e = np.exp(score - score.max())
    w: Array = e / e.sum()
    return w


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
    """Sizes portfolios as fractions of the account (see the module docstring).

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
    n = len(names)
    if n == 0:
        raise InputError("no portfolio to allocate to; add one with `pas portfolio add`")
    check_bounds(n, min_alloc, max_alloc)
    if target_vol is not None and not target_vol > 0:
        raise InputError(f"the volatility target must be more than 0, got {target_vol}")

    days = (~np.isnan(data)).sum(axis=0)
    established = days >= max(min_history, 2)
    n_est = int(established.sum())
    notes: list[str] = []
    new = [names[i] for i in range(n) if not established[i]]
    if new and method != "equal":
        notes.append(f"fewer than {min_history} days of returns, given an equal share: {', '.join(new)}")
    sigma = covariance(data, established, max(min_history, 2)) if n_est else None

    raw = np.full(n, 1.0 / n)
    if method != "equal" and n_est:
        idx = np.flatnonzero(established)
        if method == "inverse_vol":
            assert sigma is not None
            inv = 1.0 / np.maximum(np.sqrt(np.diag(sigma)[idx]), VOL_FLOOR)
            part = inv / inv.sum()
        elif method == "risk_parity":
            assert sigma is not None
            part = risk_parity_weights(sigma[np.ix_(idx, idx)])
        else:
            part = score_weights([stats.get(names[i], {}) for i in idx])
        raw[idx] = part * (n_est / n)
    if method == "risk_parity" and (min_alloc > 0 or max_alloc < 1):
        notes.append("risk parity weights were projected onto the bounds; risk contributions may differ")
    w = project_capped_simplex(raw, min_alloc, max_alloc)

    exposure, vol = 1.0, None
    if sigma is not None:
        book = math.sqrt(max(float(w @ sigma @ w), 0.0) * TRADING_DAYS)
        if target_vol is not None and book > target_vol:
            exposure = target_vol / book
            # Rounding must not leave the scaled book a hair above the target.
            while exposure * book > target_vol:
                exposure = math.nextafter(exposure, 0.0)
        vol = exposure * book
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
