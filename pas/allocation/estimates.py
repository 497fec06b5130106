"""The estimates the allocation methods need: the covariance of the portfolios' returns."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Array = npt.NDArray[np.float64]
    Mask = npt.NDArray[np.bool_]


def covariance(returns: Array, established: Mask, min_overlap: int) -> Array:
    """The covariance matrix of daily returns described in :mod:`pas.allocation`.

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
