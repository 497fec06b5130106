"""Statistics of portfolios against a benchmark: beta, alpha, tracking error, information ratio.

Conventions are those of :mod:`pas.analytics.stats` (daily noncumulative returns, 1-D or
one column per portfolio, NaN skipped; too-short input gives NaN). The benchmark is 1-D,
aligned with the rows by date when both are pandas, else by position.
"""

import numpy as np

from pas.analytics._panel import FloatArray, Panel, ReturnsLike, Statistic, Threshold, mean_and_deviation
from pas.analytics.periods import DAILY

MIN_FACTOR_VARIANCE = 1e-30
"""A benchmark variance below this counts as zero, so beta is NaN instead of huge; as
empyrical-reloaded does."""


def beta(returns: ReturnsLike, factor_returns: Threshold) -> Statistic:
    """Beta to a benchmark: Cov(r, b) / Var(b), by ordinary least squares.

    Only days where both the portfolio and the benchmark have a return count. A constant
    risk-free rate does not change beta, so there is no ``risk_free`` argument.

    Args:
        returns: Daily noncumulative returns, 1-D or one column per portfolio.
        factor_returns: Daily noncumulative benchmark returns, 1-D and aligned with the
            rows; aligned by date when both are pandas (dates missing from either side
            are skipped), else by position.

    Returns:
        The beta. NaN for fewer than two rows, for a portfolio with no day in common with
        the benchmark, and where the benchmark's variance is below 1e-30.
    """
    panel = Panel.of(returns)
    if panel.rows < 2:
        return panel.nan_stat()
    slope, _, _ = _regression(panel.values, _factor(panel, factor_returns))
    return panel.per_portfolio(slope)


def alpha(
    returns: ReturnsLike,
    factor_returns: Threshold,
    risk_free: float = 0.0,
    annualization: float = DAILY,
) -> Statistic:
    """Annualised Jensen's alpha, compounded as empyrical-reloaded does.

    ``(1 + mean((r - rf) - beta × (b - rf))) ** annualization - 1``: the mean daily
    residual return over the days both series have, compounded over a year (not the
    regression intercept × annualization).

    Args:
        returns: Daily noncumulative returns, 1-D or one column per portfolio.
        factor_returns: Daily noncumulative benchmark returns, 1-D and aligned with the
            rows; aligned by date when both are pandas, else by position.
        risk_free: The constant risk-free return per period (daily).
        annualization: Return periods per year; 252 for daily returns.

    Returns:
        The annual alpha as a fraction. NaN wherever :func:`beta` is NaN: fewer than two
        rows, no day in common with the benchmark, or a benchmark without variance.
    """
    return alpha_beta(returns, factor_returns, risk_free, annualization)[0]


def alpha_beta(
    returns: ReturnsLike,
    factor_returns: Threshold,
    risk_free: float = 0.0,
    annualization: float = DAILY,
) -> tuple[Statistic, Statistic]:
    """:func:`alpha` and :func:`beta` together, computing beta once.

    Args:
        returns: Daily noncumulative returns, 1-D or one column per portfolio.
        factor_returns: Daily noncumulative benchmark returns, 1-D and aligned with the
            rows; aligned by date when both are pandas, else by position.
        risk_free: The constant risk-free return per period (daily).
        annualization: Return periods per year; 252 for daily returns.

    Returns:
        ``(alpha, beta)``, each shaped like any other statistic (empyrical-reloaded puts
        the pair in the last axis of one array instead). Both NaN where :func:`beta` is.

    ``factor_returns`` may also be 2-D, one benchmark column per column of ``returns``
    (the same shape, by position): each column is regressed on its own benchmark column,
    as the trailing windows need (each as-of day has its own benchmark window).
    """
    panel = Panel.of(returns)
    if panel.rows < 2:
        return panel.nan_stat(), panel.nan_stat()
    slope, returns_mean, factor_mean = _regression(panel.values, _factor(panel, factor_returns))
    # The mean of (r - rf) - beta × (b - rf) over the days both have, term by term.
    daily_alpha = (returns_mean - risk_free) - slope * (factor_mean - risk_free)
    with np.errstate(invalid="ignore", over="ignore"):
        annual_alpha = (daily_alpha + 1.0) ** annualization - 1.0
    return panel.per_portfolio(annual_alpha), panel.per_portfolio(slope)


def tracking_error(
    returns: ReturnsLike, factor_returns: Threshold, annualization: float = DAILY
) -> Statistic:
    """Annualised tracking error: std(r - b, ddof 1) × √annualization.

    Annualised on purpose; empyrical-reloaded has no tracking error of its own. Active
    returns whose present values are all equal have a tracking error of exactly zero.

    Args:
        returns: Daily noncumulative returns, 1-D or one column per portfolio.
        factor_returns: Daily noncumulative benchmark returns, 1-D and aligned with the
            rows; aligned by date when both are pandas, else by position.
        annualization: Return periods per year; 252 for daily returns.

    Returns:
        The tracking error as a fraction. NaN for fewer than two rows and for a portfolio
        with fewer than two days in common with the benchmark.
    """
    panel = Panel.of(returns)
    if panel.rows < 2:
        return panel.nan_stat()
    _, error = _active_mean_error(panel, factor_returns, annualization)
    return panel.per_portfolio(error)


def information_ratio(
    returns: ReturnsLike, factor_returns: Threshold, annualization: float = DAILY
) -> Statistic:
    """Annualised information ratio: mean(r - b) × annualization / :func:`tracking_error`.

    Annualised on purpose: empyrical-reloaded's ``excess_sharpe`` is the same ratio per
    period, so this is ``excess_sharpe × √annualization``. A zero tracking error gives
    ±inf (NaN if the mean active return is also zero).

    Args:
        returns: Daily noncumulative returns, 1-D or one column per portfolio.
        factor_returns: Daily noncumulative benchmark returns, 1-D and aligned with the
            rows; aligned by date when both are pandas, else by position.
        annualization: Return periods per year; 252 for daily returns.

    Returns:
        The information ratio. NaN for fewer than two rows and for a portfolio with fewer
        than two days in common with the benchmark.
    """
    panel = Panel.of(returns)
    if panel.rows < 2:
        return panel.nan_stat()
    mean, error = _active_mean_error(panel, factor_returns, annualization)
    with np.errstate(divide="ignore", invalid="ignore"):
        return panel.per_portfolio(mean * annualization / error)


def _factor(panel: Panel, factor_returns: Threshold) -> FloatArray:
    """The benchmark as a (rows, 1) column aligned with the returns, or as given when it
    is 2-D in the returns' shape (one benchmark column per column of returns)."""
    if np.ndim(factor_returns) == 2 and np.shape(factor_returns) == panel.values.shape:
        return np.asarray(factor_returns, dtype=np.float64)
    factor: FloatArray = np.broadcast_to(panel.aligned(factor_returns, "factor_returns"), (panel.rows, 1))
    return factor


def _regression(values: FloatArray, factor: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """OLS of each column on ``factor`` (rows, 1), or on its own column of ``factor``
    (the values' shape), over the days both have.

    Returns the slope and, over those same days, the mean of each column and of the
    factor. The covariance centres both (empyrical-reloaded centres only the factor, the
    same sum in exact arithmetic), so a large mean against a small spread loses no digits.
    """
    paired = ~(np.isnan(values) | np.isnan(factor))
    if paired.all() and factor.shape[1] == 1:
        count = values.shape[0]
        factor_mean = np.full(values.shape[1], factor.mean())
        centred = factor[:, 0] - factor_mean[0]
        returns_mean = values.mean(axis=0)
        # einsum, not @: a BLAS call this small costs more in waking BLAS threads (ms on
        # a busy machine) than it saves.
        covariance = np.einsum("i,ij->j", centred, values - returns_mean) / count
        variance = np.full(values.shape[1], np.einsum("i,i", centred, centred) / count)
    else:
        count = paired.sum(axis=0)
        known_factor = np.broadcast_to(np.where(np.isnan(factor), 0.0, factor), values.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            factor_mean = np.einsum("ij,ij->j", known_factor, paired) / count
            paired_values = np.where(paired, values, 0.0)
            returns_mean = paired_values.sum(axis=0) / count
            # Both centred before the products (two passes): sum(b × r) - mean b × sum(r)
            # cancels its leading digits when the returns' mean is large against their
            # spread (a series regressed on itself had a beta off by 4e-12).
            centred = np.subtract(factor, factor_mean)
            np.copyto(centred, 0.0, where=~paired)
            np.subtract(paired_values, returns_mean, out=paired_values)
            covariance = np.einsum("ij,ij->j", centred, paired_values) / count
            del paired_values
            variance = np.einsum("ij,ij->j", centred, centred) / count
    variance[variance < MIN_FACTOR_VARIANCE] = np.nan
    with np.errstate(invalid="ignore"):
        slope: FloatArray = covariance / variance
    return slope, returns_mean, factor_mean


def _active_mean_error(
    panel: Panel, factor_returns: Threshold, annualization: float
) -> tuple[FloatArray, FloatArray]:
    """Mean daily active return and annualised tracking error per column."""
    active = np.subtract(panel.values, _factor(panel, factor_returns))
    mean, std = mean_and_deviation(active)
    return mean, std * np.sqrt(annualization)
