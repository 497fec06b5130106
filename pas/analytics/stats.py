"""Performance and risk statistics of portfolios, computed column-wise in NumPy.

Every function takes daily noncumulative returns (0.01 is a 1% gain that day), either 1-D
for one portfolio or 2-D with one column per portfolio, as an array-like, a Series or a
DataFrame. A statistic is a float for 1-D input and one value per column for 2-D input: an
ndarray, or a Series indexed by the columns when given a DataFrame. ``cumulative_returns``
and ``drawdown_series`` give back the input's shape and kind.

Conventions follow empyrical-reloaded (https://github.com/stefan-jansen/empyrical-reloaded)
so that results agree with it to 1e-10 wherever it defines the statistic; the docstrings
name the few places where they differ on purpose. Missing observations (NaN) are skipped
unless a docstring says otherwise. Too-short input, and a portfolio whose returns are all
NaN, give NaN; no statistic raises for them.
"""

import numpy as np

from pas.analytics._panel import (
    FloatArray,
    Panel,
    ReturnsLike,
    SeriesLike,
    Statistic,
    Threshold,
    nanmean,
    nanmean_std,
    present,
    zero_dispersion,
)
from pas.analytics.periods import DAILY
from pas.errors import InputError

DEFAULT_CUTOFF = 0.05
"""The tail fraction of value at risk: the worst 5% of days."""

MIN_FACTOR_VARIANCE = 1e-30
"""A benchmark variance below this counts as zero, so beta is NaN instead of huge; as
empyrical-reloaded does."""


def annual_return(returns: ReturnsLike, annualization: float = DAILY) -> Statistic:
    """Compound annual growth rate (CAGR).

    ``(prod(1 + r)) ** (annualization / rows) - 1``. A missing return counts as a day with
    a 0% return: it is left out of the product but still counts as a period in ``rows``,
    as empyrical-reloaded does.

    Args:
        returns: Daily noncumulative returns, 1-D or one column per portfolio.
        annualization: Return periods per year; 252 for daily returns.

    Returns:
        The annual growth rate as a fraction (0.1 is 10% a year). NaN for empty returns
        and for a portfolio whose returns are all NaN (empyrical-reloaded gives 0.0 there).
    """
    panel = Panel.of(returns)
    if panel.rows < 1:
        return panel.nan_stat()
    return panel.per_portfolio(_annual_return(panel.values, annualization))


def annual_volatility(returns: ReturnsLike, annualization: float = DAILY) -> Statistic:
    """Annualised volatility: the sample standard deviation (ddof 1) × √annualization.

    Args:
        returns: Daily noncumulative returns, 1-D or one column per portfolio.
        annualization: Return periods per year; 252 for daily returns.

    Returns:
        The annual volatility as a fraction. NaN for fewer than two rows and for a
        portfolio with fewer than two returns that are not NaN.
    """
    panel = Panel.of(returns)
    if panel.rows < 2:
        return panel.nan_stat()
    _, std = nanmean_std(panel.values)
    return panel.per_portfolio(std * np.sqrt(annualization))


def sharpe_ratio(
    returns: ReturnsLike, risk_free: Threshold = 0.0, annualization: float = DAILY
) -> Statistic:
    """Annualised Sharpe ratio: mean(r - rf) / std(r - rf, ddof 1) × √annualization.

    Excess returns whose present values are all equal have a deviation of exactly zero,
    so the ratio is ±inf (NaN if the mean excess is also zero), as in empyrical-reloaded.

    Args:
        returns: Daily noncumulative returns, 1-D or one column per portfolio.
        risk_free: The risk-free return per period (daily, not annual): a constant, or 1-D
            aligned with the rows (by date when both are pandas).
        annualization: Return periods per year; 252 for daily returns.

    Returns:
        The Sharpe ratio. NaN for fewer than two rows and for a portfolio with fewer than
        two returns that are not NaN.
    """
    panel = Panel.of(returns)
    if panel.rows < 2:
        return panel.nan_stat()
    excess = panel.values - panel.aligned(risk_free, "risk_free")
    mean, std = nanmean_std(excess)
    std = zero_dispersion(excess, std)
    with np.errstate(divide="ignore", invalid="ignore"):
        return panel.per_portfolio(mean / std * np.sqrt(annualization))


def downside_risk(
    returns: ReturnsLike, required_return: Threshold = 0.0, annualization: float = DAILY
) -> Statistic:
    """Annualised downside deviation below a required return.

    ``sqrt(mean(min(r - required, 0) ** 2)) × √annualization``, where the mean runs over
    all present observations: days above the required return count as zero shortfall, as
    in empyrical-reloaded (and Sortino's own definition), not only the losing days.

    Args:
        returns: Daily noncumulative returns, 1-D or one column per portfolio.
        required_return: The minimum acceptable return per period (daily): a constant, or
            1-D aligned with the rows (by date when both are pandas).
        annualization: Return periods per year; 252 for daily returns.

    Returns:
        The downside deviation as a fraction. NaN for empty returns and for a portfolio
        whose returns are all NaN; a single return is enough.
    """
    panel = Panel.of(returns)
    if panel.rows < 1:
        return panel.nan_stat()
    shortfall = panel.values - panel.aligned(required_return, "required_return")
    return panel.per_portfolio(_downside_risk(shortfall, annualization))


def sortino_ratio(
    returns: ReturnsLike, required_return: Threshold = 0.0, annualization: float = DAILY
) -> Statistic:
    """Annualised Sortino ratio: mean(r - required) × annualization / downside_risk.

    The downside deviation is :func:`downside_risk`, over all present observations. With
    no shortfall at all the ratio is +inf, as in empyrical-reloaded.

    Args:
        returns: Daily noncumulative returns, 1-D or one column per portfolio.
        required_return: The minimum acceptable return per period (daily): a constant, or
            1-D aligned with the rows (by date when both are pandas).
        annualization: Return periods per year; 252 for daily returns.

    Returns:
        The Sortino ratio. NaN for fewer than two rows and for a portfolio whose returns
        are all NaN.
    """
    panel = Panel.of(returns)
    if panel.rows < 2:
        return panel.nan_stat()
    shortfall = panel.values - panel.aligned(required_return, "required_return")
    annual_mean = nanmean(shortfall) * annualization
    with np.errstate(divide="ignore", invalid="ignore"):
        return panel.per_portfolio(annual_mean / _downside_risk(shortfall, annualization))


def max_drawdown(returns: ReturnsLike) -> Statistic:
    """Maximum drawdown: the worst fall of wealth from its running peak.

    Wealth starts at 1 before the first return, so a loss on the first day is already a
    drawdown. A missing return counts as a 0% day, as in empyrical-reloaded.

    Args:
        returns: Daily noncumulative returns, 1-D or one column per portfolio.

    Returns:
        The maximum drawdown as a fraction of the peak, zero or negative (-0.2 is a 20%
        fall). NaN for empty returns and for a portfolio whose returns are all NaN
        (empyrical-reloaded gives 0.0 there).
    """
    panel = Panel.of(returns)
    if panel.rows < 1:
        return panel.nan_stat()
    return panel.per_portfolio(_max_drawdown(panel.values))


def calmar_ratio(returns: ReturnsLike, annualization: float = DAILY) -> Statistic:
    """Calmar ratio: :func:`annual_return` / \\|:func:`max_drawdown`\\|.

    Args:
        returns: Daily noncumulative returns, 1-D or one column per portfolio.
        annualization: Return periods per year; 252 for daily returns.

    Returns:
        The Calmar ratio. NaN where there is no drawdown (the ratio is undefined), where it
        would be infinite, for empty returns and for a portfolio whose returns are all NaN.
    """
    panel = Panel.of(returns)
    if panel.rows < 1:
        return panel.nan_stat()
    drawdown = _max_drawdown(panel.values)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = _annual_return(panel.values, annualization) / np.abs(drawdown)
    return panel.per_portfolio(np.where((drawdown < 0) & np.isfinite(ratio), ratio, np.nan))


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
    return panel.per_portfolio(_beta(panel.values, _factor(panel, factor_returns)))


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
        The annual alpha as a fraction. NaN wherever :func:`beta` is NaN.
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
        the pair in the last axis of one array instead). NaN for fewer than two rows.
    """
    panel = Panel.of(returns)
    if panel.rows < 2:
        return panel.nan_stat(), panel.nan_stat()
    factor = _factor(panel, factor_returns)
    slope = _beta(panel.values, factor)
    residual = (panel.values - risk_free) - slope * (factor - risk_free)
    with np.errstate(invalid="ignore", over="ignore"):
        annual_alpha = (nanmean(residual) + 1.0) ** annualization - 1.0
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
    missing = np.isnan(values)
    if not missing.any():
        last = int(np.floor((panel.rows - 1) * cutoff))
        tail = np.partition(values, last, axis=0)[: last + 1]
        return panel.per_portfolio(tail.mean(axis=0))
    # Columns differ in how many returns they have, so in where their tail ends: sort
    # (NaN goes last) and read each column's running sum at its own tail length.
    count = panel.rows - missing.sum(axis=0)
    last = np.floor(np.maximum(count - 1, 0) * cutoff).astype(np.intp)
    running = np.cumsum(np.sort(values, axis=0), axis=0)
    tail_sum = np.take_along_axis(running, last[np.newaxis, :], axis=0)[0]
    return panel.per_portfolio(np.where(count > 0, tail_sum / (last + 1), np.nan))


def cumulative_returns(returns: ReturnsLike, starting_value: float = 0.0) -> SeriesLike:
    """Cumulative returns: the compounded return from the start to each day.

    A missing return counts as a 0% day, as in empyrical-reloaded.

    Args:
        returns: Daily noncumulative returns, 1-D or one column per portfolio.
        starting_value: 0 for cumulative returns as fractions (0.1 is up 10%); any other
            value gives the wealth of that starting amount instead (100 → 110).

    Returns:
        The input's shape and kind (ndarray, Series or DataFrame). A portfolio whose
        returns are all NaN gives all NaN (empyrical-reloaded gives zeros); empty returns
        give an empty result.
    """
    panel = Panel.of(returns)
    wealth = np.cumprod(_gross(panel.values), axis=0)
    if starting_value == 0:
        wealth -= 1.0
    else:
        wealth *= starting_value
    wealth[:, ~present(panel.values)] = np.nan
    return panel.like_input(wealth)


def drawdown_series(returns: ReturnsLike) -> SeriesLike:
    """Drawdown on each day: wealth / running peak - 1, zero or negative.

    Wealth starts at 1 before the first return, so a loss on the first day is already a
    drawdown. A missing return counts as a 0% day. The minimum is :func:`max_drawdown`.

    Args:
        returns: Daily noncumulative returns, 1-D or one column per portfolio.

    Returns:
        The input's shape and kind (ndarray, Series or DataFrame). A portfolio whose
        returns are all NaN gives all NaN; empty returns give an empty result
        (empyrical-reloaded gives a bare NaN there).
    """
    panel = Panel.of(returns)
    drawdowns = _relative_to_peak(panel.values)[1:] - 1.0
    drawdowns[:, ~present(panel.values)] = np.nan
    return panel.like_input(drawdowns)


def _gross(values: FloatArray) -> FloatArray:
    """``1 + r`` in a new array, with a missing return counted as 0%."""
    gross = values + 1.0
    missing = np.isnan(gross)
    if missing.any():
        gross[missing] = 1.0
    return gross


def _annual_return(values: FloatArray, annualization: float) -> FloatArray:
    growth = _gross(values).prod(axis=0)
    years = values.shape[0] / annualization
    with np.errstate(invalid="ignore", over="ignore"):
        annual = growth ** (1 / years) - 1
    return np.where(present(values), annual, np.nan)


def _relative_to_peak(values: FloatArray) -> FloatArray:
    """Wealth over its running peak, from an anchor row of wealth 1 before the first day."""
    wealth = np.empty((values.shape[0] + 1, values.shape[1]))
    wealth[0] = 1.0
    wealth[1:] = _gross(values)
    np.cumprod(wealth, axis=0, out=wealth)
    peak = np.maximum.accumulate(wealth, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.divide(wealth, peak, out=peak)


def _max_drawdown(values: FloatArray) -> FloatArray:
    worst = np.fmin.reduce(_relative_to_peak(values), axis=0) - 1.0
    return np.where(present(values), worst, np.nan)


def _downside_risk(shortfall: FloatArray, annualization: float) -> FloatArray:
    below = np.minimum(shortfall, 0.0)
    risk: FloatArray = np.sqrt(nanmean(np.square(below, out=below))) * np.sqrt(annualization)
    return risk


def _factor(panel: Panel, factor_returns: Threshold) -> FloatArray:
    """The benchmark as a (rows, 1) column aligned with the returns."""
    factor: FloatArray = np.broadcast_to(
        panel.aligned(factor_returns, "factor_returns"), (panel.rows, 1)
    )
    return factor


def _beta(values: FloatArray, factor: FloatArray) -> FloatArray:
    """OLS slope of each column on ``factor`` (rows, 1), over the days both have."""
    paired = ~(np.isnan(values) | np.isnan(factor))
    if paired.all():
        centred = factor[:, 0] - factor[:, 0].mean()
        covariance = centred @ values / values.shape[0]
        variance = np.full(values.shape[1], centred @ centred / values.shape[0])
    else:
        count = paired.sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            factor_mean = np.where(paired, factor, 0.0).sum(axis=0) / count
            centred = np.where(paired, factor - factor_mean, 0.0)
            covariance = np.einsum("ij,ij->j", centred, np.where(paired, values, 0.0)) / count
            variance = np.einsum("ij,ij->j", centred, centred) / count
    variance[variance < MIN_FACTOR_VARIANCE] = np.nan
    with np.errstate(invalid="ignore"):
        slope: FloatArray = covariance / variance
    return slope


def _active_mean_error(
    panel: Panel, factor_returns: Threshold, annualization: float
) -> tuple[FloatArray, FloatArray]:
    """Mean daily active return and annualised tracking error per column."""
    active = panel.values - _factor(panel, factor_returns)
    mean, std = nanmean_std(active)
    return mean, zero_dispersion(active, std) * np.sqrt(annualization)


def _check_cutoff(cutoff: float) -> None:
    if not 0.0 <= cutoff <= 1.0:
        raise InputError(
            f"cutoff must be a fraction between 0 and 1 (0.05 for the worst 5% of days), "
            f"not {cutoff}"
        )
