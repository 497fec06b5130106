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
    sum_of_squares,
)
from pas.analytics.periods import DAILY

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
    _, std = mean_and_deviation(panel.values)
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
    mean, std = mean_and_deviation(_less(panel.values, panel.aligned(risk_free, "risk_free")))
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
    required = panel.aligned(required_return, "required_return")
    return panel.per_portfolio(_downside_risk(panel.values, required, annualization))


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
    required = panel.aligned(required_return, "required_return")
    annual_mean = nanmean(_less(panel.values, required)) * annualization
    with np.errstate(divide="ignore", invalid="ignore"):
        return panel.per_portfolio(annual_mean / _downside_risk(panel.values, required, annualization))


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


def _less(values: FloatArray, threshold: float | FloatArray) -> FloatArray:
    """``values - threshold``; the values themselves (not a copy) for a threshold of 0."""
    if np.ndim(threshold) == 0 and threshold == 0:
        return values
    return np.subtract(values, threshold)


def _downside_risk(values: FloatArray, required: float | FloatArray, annualization: float) -> FloatArray:
    """Downside deviation of ``values`` below ``required`` (a constant or a column)."""
    shifted = _less(values, required)
    below = np.minimum(shifted, 0.0, out=None if shifted is values else shifted)
    rows = below.shape[0]
    # A column's sum of squares is NaN only when it has a missing value: those columns
    # alone are averaged again over their present values.
    mean_square = sum_of_squares(below) / rows
    redo = np.isnan(mean_square)
    if redo.any():
        mean_square[redo] = nanmean(np.square(below[:, redo]))
    risk: FloatArray = np.sqrt(mean_square) * np.sqrt(annualization)
    return risk
