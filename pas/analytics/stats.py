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
import numpy.typing as npt

from pas.analytics._panel import (
    FloatArray,
    Panel,
    ReturnsLike,
    SeriesLike,
    Statistic,
    Threshold,
    mean_and_deviation,
    nanmean,
)
from pas.analytics.periods import DAILY
from pas.errors import InputError

DEFAULT_CUTOFF = 0.05
"""The tail fraction of value at risk: the worst 5% of days."""

MIN_FACTOR_VARIANCE = 1e-30
"""A benchmark variance below this counts as zero, so beta is NaN instead of huge; as
empyrical-reloaded does."""

ROW_LOOP_MIN_PORTFOLIOS = 32
"""From this many portfolios on, running products and maxima step through the days with
one ufunc call per day, vectorised across portfolios: NumPy's ``accumulate`` costs about
3 ns per element whatever the memory layout, the day loop about a third of that with
hundreds of portfolios. With few portfolios the per-call overhead wins. Both compute in
the same order, so the results are identical to the bit."""


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
    gross, present = _gross(panel.values)
    growth = gross.prod(axis=0)
    return panel.per_portfolio(_annualise_growth(growth, panel.rows, annualization, present))


def annual_volatility(returns: ReturnsLike, annualization: float = DAILY) -> Statistic:
    """Annualised volatility: the sample standard deviation (ddof 1) × √annualization.

    Identical returns have a volatility of exactly 0 (empyrical-reloaded can leave a
    rounding residue near 1e-18 there).

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
    _, std = mean_and_deviation(np.array(panel.values, order="C"))
    return panel.per_portfolio(std * np.sqrt(annualization))


def sharpe_ratio(returns: ReturnsLike, risk_free: Threshold = 0.0, annualization: float = DAILY) -> Statistic:
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
    excess = np.subtract(panel.values, panel.aligned(risk_free, "risk_free"), order="C")
    mean, std = mean_and_deviation(excess)
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
    shortfall = np.subtract(panel.values, panel.aligned(required_return, "required_return"), order="C")
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
    shortfall = np.subtract(panel.values, panel.aligned(required_return, "required_return"), order="C")
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
    relative, _, present = _wealth_to_peak(panel.values)
    return panel.per_portfolio(_deepest(relative, present))


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
    relative, growth, present = _wealth_to_peak(panel.values)
    drawdown = _deepest(relative, present)
    annual = _annualise_growth(growth, panel.rows, annualization, present)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = annual / np.abs(drawdown)
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
    gross, present = _gross(panel.values)
    wealth = _wealth(gross)
    if starting_value == 0:
        wealth -= 1.0
    else:
        wealth *= starting_value
    wealth[:, ~present] = np.nan
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
    drawdowns, _, present = _wealth_to_peak(panel.values)
    drawdowns -= 1.0
    drawdowns[:, ~present] = np.nan
    return panel.like_input(drawdowns)


def _gross(values: FloatArray) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """``1 + r`` in a new C-ordered array, a missing return counted as 0%.

    Also returns which columns have any return at all.
    """
    gross = np.add(values, 1.0, order="C")
    missing = np.isnan(values)
    if not missing.any():
        return gross, np.ones(values.shape[1], dtype=bool)
    np.copyto(gross, 1.0, where=missing)
    return gross, ~missing.all(axis=0)


def _annualise_growth(
    growth: FloatArray, rows: int, annualization: float, present: npt.NDArray[np.bool_]
) -> FloatArray:
    """CAGR from total growth over ``rows`` periods; NaN for columns without returns."""
    years = rows / annualization
    with np.errstate(invalid="ignore", over="ignore"):
        annual = growth ** (1 / years) - 1
    return np.where(present, annual, np.nan)


def _wealth(gross: FloatArray) -> FloatArray:
    """Wealth from a start of 1: the running product of ``gross`` down the rows, in place."""
    rows, columns = gross.shape
    if columns < ROW_LOOP_MIN_PORTFOLIOS:
        wealth: FloatArray = np.multiply.accumulate(gross, axis=0, out=gross)
        return wealth
    for row in range(1, rows):
        np.multiply(gross[row - 1], gross[row], out=gross[row])
    return gross


def _wealth_to_peak(
    values: FloatArray,
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    """Wealth over its running peak on each day, wealth starting at 1 before the first.

    The start counts as a peak, so a first-day loss is a drawdown. Returns that ratio,
    the final wealth, and which columns have any return. Works in one array the size of
    the returns: a second one costs more in fresh memory than the arithmetic.
    """
    relative, present = _gross(values)
    rows, columns = relative.shape
    with np.errstate(divide="ignore", invalid="ignore"):
        if columns < ROW_LOOP_MIN_PORTFOLIOS:
            wealth = np.multiply.accumulate(relative, axis=0)
            peak = np.maximum.accumulate(wealth, axis=0)
            np.divide(wealth, np.maximum(peak, 1.0, out=peak), out=relative)
            final = wealth[-1] if rows else np.ones(columns)
        else:
            final, peak = np.ones(columns), np.ones(columns)
            for row in relative:
                np.multiply(final, row, out=final)
                np.maximum(peak, final, out=peak)
                np.divide(final, peak, out=row)
    return relative, final, present


def _deepest(relative: FloatArray, present: npt.NDArray[np.bool_]) -> FloatArray:
    """The maximum drawdown from wealth over its running peak."""
    return np.where(present, np.fmin.reduce(relative, axis=0) - 1.0, np.nan)


def _downside_risk(shortfall: FloatArray, annualization: float) -> FloatArray:
    """Downside deviation of ``r - required``, overwriting ``shortfall``."""
    below = np.minimum(shortfall, 0.0, out=shortfall)
    risk: FloatArray = np.sqrt(nanmean(np.square(below, out=below))) * np.sqrt(annualization)
    return risk


def _factor(panel: Panel, factor_returns: Threshold) -> FloatArray:
    """The benchmark as a (rows, 1) column aligned with the returns."""
    factor: FloatArray = np.broadcast_to(panel.aligned(factor_returns, "factor_returns"), (panel.rows, 1))
    return factor


def _regression(values: FloatArray, factor: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """OLS of each column on ``factor`` (rows, 1) over the days both have.

    Returns the slope and, over those same days, the mean of each column and of the
    factor. The covariance centres only the factor, as empyrical-reloaded does.
    """
    paired = ~(np.isnan(values) | np.isnan(factor))
    if paired.all():
        count = values.shape[0]
        factor_mean = np.full(values.shape[1], factor.mean())
        centred = factor[:, 0] - factor_mean[0]
        returns_mean = values.mean(axis=0)
        # einsum, not @: a BLAS call this small costs more in waking BLAS threads (ms on
        # a busy machine) than it saves.
        covariance = np.einsum("i,ij->j", centred, values) / count
        variance = np.full(values.shape[1], np.einsum("i,i", centred, centred) / count)
    else:
        count = paired.sum(axis=0)
        known_factor = np.where(np.isnan(factor[:, 0]), 0.0, factor[:, 0])
        with np.errstate(divide="ignore", invalid="ignore"):
            factor_mean = np.einsum("i,ij->j", known_factor, paired) / count
            paired_values = np.where(paired, values, 0.0)
            returns_sum = paired_values.sum(axis=0)
            returns_mean = returns_sum / count
            # sum((b - mean b) × r) = sum(b × r) - mean b × sum(r): the factor is centred
            # after summing, which spares a second array the size of the returns.
            cross = np.einsum("i,ij->j", known_factor, paired_values)
            covariance = (cross - factor_mean * returns_sum) / count
            del paired_values  # its memory serves the next array
            centred = np.subtract(factor, factor_mean)
            np.copyto(centred, 0.0, where=~paired)
            variance = np.einsum("ij,ij->j", centred, centred) / count
    variance[variance < MIN_FACTOR_VARIANCE] = np.nan
    with np.errstate(invalid="ignore"):
        slope: FloatArray = covariance / variance
    return slope, returns_mean, factor_mean


def _active_mean_error(
    panel: Panel, factor_returns: Threshold, annualization: float
) -> tuple[FloatArray, FloatArray]:
    """Mean daily active return and annualised tracking error per column."""
    active = np.subtract(panel.values, _factor(panel, factor_returns), order="C")
    mean, std = mean_and_deviation(active)
    return mean, std * np.sqrt(annualization)


def _check_cutoff(cutoff: float) -> None:
    if not 0.0 <= cutoff <= 1.0:
        raise InputError(
            f"cutoff must be a fraction between 0 and 1 (0.05 for the worst 5% of days), not {cutoff}"
        )
