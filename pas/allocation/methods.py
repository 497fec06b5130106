"""Stage 2 of the allocation: the methods that size the established portfolios.

:data:`SIZERS` maps each method but ``equal`` (the neutral share every portfolio gets
without a method) to a function of the established portfolios' covariance and trailing
statistics that returns their relative weights (positive, sum 1).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Array = npt.NDArray[np.float64]

EQUAL = "equal"
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

Sizer = Callable[["Array", Sequence[Mapping[str, float]]], "Array"]
"""(covariance of daily returns, trailing statistics), both of the established portfolios
in one order -> their relative weights."""


def inverse_vol_weights(sigma: Array, stats: Sequence[Mapping[str, float]]) -> Array:
    """``w_i ∝ 1/σ_i``, ``σ_i`` the daily volatility on the diagonal of ``sigma``."""
    import numpy as np

    inv = 1.0 / np.maximum(np.sqrt(np.diag(sigma)), VOL_FLOOR)
    w: Array = inv / inv.sum()
    return w


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
    """Softmax of the blended z-scores of :data:`SCORE_BLEND` (see :mod:`pas.allocation`)."""
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


SIZERS: Mapping[str, Sizer] = {
    "inverse_vol": inverse_vol_weights,
    "risk_parity": lambda sigma, stats: risk_parity_weights(sigma),
    "score": lambda sigma, stats: score_weights(stats),
}
