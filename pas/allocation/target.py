"""Stage 4 of the allocation: holding the book's ex-ante volatility at or below a target."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Array = npt.NDArray[np.float64]

TRADING_DAYS = 252


def target_exposure(weights: Array, sigma: Array, target_vol: float | None) -> tuple[float, float]:
    """The exposure that holds the book at or below ``target_vol``, and the book's volatility.

    Args:
        weights: relative weights of the portfolios (sum 1).
        sigma: covariance of their daily returns.
        target_vol: annualised volatility (fraction) the book is held at or below, None
            for no target.

    Returns:
        ``(exposure, ex_ante_vol)``: the fraction of the account invested,
        ``min(1, target / σ_book)`` (never above 1: no leverage), and the annualised
        volatility ``exposure · sqrt(252 · wᵀΣw)`` of the invested book.
    """
    book = math.sqrt(max(float(weights @ sigma @ weights), 0.0) * TRADING_DAYS)
    exposure = 1.0
    if target_vol is not None and book > target_vol:
        exposure = target_vol / book
        # Rounding must not leave the scaled book a hair above the target.
        while exposure * book > target_vol:
            exposure = math.nextafter(exposure, 0.0)
    return exposure, exposure * book
