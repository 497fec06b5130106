"""Capital allocation across portfolios: relative weights, bounds, volatility targeting.

One module per stage, in the manner of PyPortfolioOpt: :mod:`~pas.allocation.estimates`
(the covariance), :mod:`~pas.allocation.methods` (the method registry),
:mod:`~pas.allocation.bounds` (the projection onto the bounds),
:mod:`~pas.allocation.target` (the volatility target), and
:mod:`~pas.allocation.engine`, which runs them in order.

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

from pas.allocation.bounds import check_bounds, project_capped_simplex
from pas.allocation.engine import (
    DEFAULT_METHOD,
    DEFAULT_MIN_HISTORY,
    DEFAULT_STATS_WINDOW,
    METHODS,
    Allocation,
    Proposal,
    allocate,
    compute_weights,
)
from pas.allocation.estimates import covariance
from pas.allocation.methods import SCORE_BLEND, SIZERS, risk_parity_weights, score_weights
from pas.allocation.target import TRADING_DAYS, target_exposure

__all__ = [
    "DEFAULT_METHOD",
    "DEFAULT_MIN_HISTORY",
    "DEFAULT_STATS_WINDOW",
    "METHODS",
    "SCORE_BLEND",
    "SIZERS",
    "TRADING_DAYS",
    "Allocation",
    "Proposal",
    "allocate",
    "check_bounds",
    "compute_weights",
    "covariance",
    "project_capped_simplex",
    "risk_parity_weights",
    "score_weights",
    "target_exposure",
]
