"""Tail risk of daily returns: historical value at risk and conditional value at risk.

Conventions are those of :mod:`pas.analytics.stats` (daily noncumulative returns, 1-D or
one column per portfolio, NaN skipped; too-short input gives NaN).
"""

import numpy as np

from pas.analytics._panel import Panel, ReturnsLike, Statistic
from pas.errors import InputError

DEFAULT_CUTOFF = 0.05
"""The tail fraction of value at risk: the worst 5% of days."""


def value_at_risk(returns: ReturnsLike, cutoff: float = DEFAULT_CUTOFF) -> Statistic:
    """Historical value at risk: the ``cutoff`` quantile of daily returns.

    The quantile interpolates linearly between order statistics, as ``np.percentile``
    does (empyrical-reloaded calls it). As with ``np.percentile``, a portfolio with any
    NaN return has a NaN VaR: drop missing days first if they should be ignored (unlike
    :func:`conditional_value_at_risk`, which skips them).

    Args:
        returns: Daily noncumulative returns, 1-D or one column per portfolio.
        cutoff: The tail fraction, between 0 and 1; 0.05 for the worst 5% of days.

    Returns:
        The daily return at the cutoff quantile, as a fraction (negative is a loss). NaN
        for empty returns and for a portfolio with any NaN return.

    Raises:
        InputError: ``cutoff`` is outside [0, 1].
    """
    _check_cutoff(cutoff)
    panel = Panel.of(returns)
    if panel.rows < 1:
        return panel.nan_stat()
    values = panel.values
    position = (panel.rows - 1) * cutoff
    below = int(np.floor(position))
    fraction = position - below
    ordered = np.partition(values, below, axis=0)
    quantile = ordered[below]
    if fraction > 0 and below + 1 < panel.rows:
        above = ordered[below + 1 :].min(axis=0)
        quantile = quantile + (above - quantile) * fraction
    return panel.per_portfolio(np.where(np.isnan(values).any(axis=0), np.nan, quantile))


def conditional_value_at_risk(returns: ReturnsLike, cutoff: float = DEFAULT_CUTOFF) -> Statistic:
    """Historical conditional value at risk (expected shortfall), as empyrical-reloaded.

    The mean of the ``k + 1`` lowest returns, where ``k = floor((n - 1) × cutoff)`` and
    ``n`` counts the returns that are not NaN (missing days are skipped).

    Args:
        returns: Daily noncumulative returns, 1-D or one column per portfolio.
        cutoff: The tail fraction, between 0 and 1; 0.05 for the worst 5% of days.

    Returns:
        The mean daily return in the tail, as a fraction (negative is a loss). NaN for
        empty returns and for a portfolio whose returns are all NaN.

    Raises:
        InputError: ``cutoff`` is outside [0, 1].
    """
    _check_cutoff(cutoff)
    panel = Panel.of(returns)
    if panel.rows < 1:
        return panel.nan_stat()
    values = panel.values
    count = panel.rows - np.isnan(values).sum(axis=0)
    last = np.floor(np.maximum(count - 1, 0) * cutoff).astype(np.intp)
    # Portfolios with missing days have shorter tails. Bring the longest tail to the top
    # (NaN sorts last), order just those rows, and sum each column's own tail length.
    longest = int(last.max())
    head = np.sort(np.partition(values, longest, axis=0)[: longest + 1], axis=0)
    in_tail = np.arange(longest + 1)[:, np.newaxis] <= last
    tail_sum = np.add.reduce(head, axis=0, where=in_tail)
    with np.errstate(invalid="ignore"):
        return panel.per_portfolio(np.where(count > 0, tail_sum / (last + 1), np.nan))


def _check_cutoff(cutoff: float) -> None:
    if not 0.0 <= cutoff <= 1.0:
        raise InputError(
            f"cutoff must be a fraction between 0 and 1 (0.05 for the worst 5% of days), not {cutoff}"
        )
