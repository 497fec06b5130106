"""Properties every statistic must have whatever the returns, checked with hypothesis."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import pas.analytics as pa
from tests.analytics.cases import SERIES_STATISTICS, STATISTICS

# Returns on a grid of 0.1 basis points between -20% and +20% a day: realistic values
# that keep hypothesis away from subnormal numbers, where every ratio is rounding noise.
_RETURN = st.integers(-2000, 2000).map(lambda tenths_of_bp: tenths_of_bp / 10_000.0)
_MAYBE_MISSING = st.one_of(_RETURN, _RETURN, _RETURN, st.just(np.nan))


@st.composite
def panels(draw: st.DrawFn, missing: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(returns of shape (rows, portfolios), benchmark of shape (rows,))."""
    rows = draw(st.integers(3, 40))
    portfolios = draw(st.integers(1, 4))
    elements = _MAYBE_MISSING if missing else _RETURN
    returns = draw(arrays(np.float64, (rows, portfolios), elements=elements))
    benchmark = draw(arrays(np.float64, rows, elements=elements))
    return returns, benchmark


def _same(observed: object, expected: object, name: str = "") -> None:
    np.testing.assert_allclose(
        np.asarray(observed, dtype=float),
        np.asarray(expected, dtype=float),
        rtol=1e-9,
        atol=1e-9,
        err_msg=name,
    )


@settings(max_examples=80, deadline=None)
@given(panel=panels(missing=True))
def test_a_2d_call_equals_one_call_per_portfolio(panel: tuple[np.ndarray, np.ndarray]) -> None:
    # Vectorising over portfolios must not let one portfolio's data, or its missing days,
    # leak into another's statistic.
    returns, benchmark = panel
    for name, statistic in STATISTICS.items():
        per_portfolio = [statistic(returns[:, j], benchmark) for j in range(returns.shape[1])]
        _same(statistic(returns, benchmark), per_portfolio, name)
    for name, function in SERIES_STATISTICS.items():
        columns = [function(returns[:, j]) for j in range(returns.shape[1])]
        _same(function(returns), np.column_stack(columns), name)


@settings(max_examples=80, deadline=None)
@given(panel=panels(missing=True), data=st.data())
def test_a_benchmark_column_per_portfolio_equals_one_call_per_portfolio(
    panel: tuple[np.ndarray, np.ndarray], data: st.DataObject
) -> None:
    # The trailing windows regress each as-of day's returns on its own benchmark window
    # in one call: each column must see only its own benchmark column.
    returns, _ = panel
    factors = data.draw(arrays(np.float64, returns.shape, elements=_MAYBE_MISSING))
    alphas, betas = pa.alpha_beta(returns, factors)
    for j in range(returns.shape[1]):
        alpha, beta = pa.alpha_beta(returns[:, j], factors[:, j])
        _same(alphas[j], alpha, f"alpha of column {j}")  # type: ignore[index]
        _same(betas[j], beta, f"beta of column {j}")  # type: ignore[index]


@settings(max_examples=60, deadline=None)
@given(panel=panels(), scale=st.floats(0.1, 10.0))
def test_scaling_returns_scales_risk_and_leaves_ratios_alone(
    panel: tuple[np.ndarray, np.ndarray], scale: float
) -> None:
    # Standard and downside deviations are first-degree homogeneous in the returns; a
    # ratio of a mean to a deviation, and a covariance over a variance scaled alike, is
    # scale-free. (Compounding makes annual return and drawdown non-linear, so not those.)
    returns, benchmark = panel
    scaled, scaled_benchmark = returns * scale, benchmark * scale
    _same(pa.annual_volatility(scaled), scale * pa.annual_volatility(returns))
    _same(pa.downside_risk(scaled), scale * pa.downside_risk(returns))
    _same(
        pa.tracking_error(scaled, scaled_benchmark),
        scale * pa.tracking_error(returns, benchmark),
    )
    _same(pa.sharpe_ratio(scaled), pa.sharpe_ratio(returns))
    _same(pa.sortino_ratio(scaled), pa.sortino_ratio(returns))
    _same(
        pa.information_ratio(scaled, scaled_benchmark),
        pa.information_ratio(returns, benchmark),
    )
    _same(pa.beta(scaled, scaled_benchmark), pa.beta(returns, benchmark))


@settings(max_examples=60, deadline=None)
@given(panel=panels(missing=True), shift=st.floats(-0.01, 0.01))
def test_shifting_portfolio_and_benchmark_together_leaves_beta_and_tracking_alone(
    panel: tuple[np.ndarray, np.ndarray], shift: float
) -> None:
    # Covariance and variance ignore a common constant, and active returns do not change
    # at all when both sides move by it.
    returns, benchmark = panel
    _same(pa.beta(returns + shift, benchmark + shift), pa.beta(returns, benchmark))
    _same(
        pa.tracking_error(returns + shift, benchmark + shift),
        pa.tracking_error(returns, benchmark),
    )


@settings(max_examples=60, deadline=None)
@given(panel=panels(missing=True), shift=st.floats(-0.01, 0.01))
def test_shifting_only_the_portfolio_moves_daily_alpha_by_the_shift(
    panel: tuple[np.ndarray, np.ndarray], shift: float
) -> None:
    # Alpha is the mean daily residual compounded over a year: undo the compounding and a
    # constant added to the portfolio's returns comes back out exactly; beta is unmoved.
    returns, benchmark = panel
    shifted_alpha, shifted_beta = pa.alpha_beta(returns + shift, benchmark)
    alpha, beta = pa.alpha_beta(returns, benchmark)
    _same(shifted_beta, beta)
    growth, shifted_growth = 1 + np.asarray(alpha), 1 + np.asarray(shifted_alpha)
    # Where a year's compounding leaves less than 0.1% of wealth, taking the 252nd root
    # magnifies rounding past the tolerance, and where it overflows there is nothing to
    # take the root of: neither says anything about alpha, so skip them.
    # Where the mean daily residual is below -100% (two points and a huge beta), a year of
    # compounding raises a negative growth to an even power and loses its sign: skip it too.
    with np.errstate(invalid="ignore"):
        conditioned = (growth > 1e-3) & (shifted_growth > 1e-3)
        daily_shift = shifted_growth ** (1 / pa.DAILY) - growth ** (1 / pa.DAILY)
        both = ~np.isnan(returns) & ~np.isnan(benchmark)[:, None]
        residual = np.where(both, returns - np.asarray(beta) * benchmark[:, None], 0.0).sum(axis=0)
        count = both.sum(axis=0)
        daily = np.divide(residual, count, out=np.full(residual.shape, np.nan), where=count > 0)
    conditioned &= np.isfinite(growth) & np.isfinite(shifted_growth) & (daily > -1) & (daily + shift > -1)
    _same(daily_shift[conditioned], np.full(conditioned.sum(), shift))
    assert np.array_equal(np.isnan(alpha), np.isnan(beta))


@settings(max_examples=60, deadline=None)
@given(panel=panels(), shift=st.floats(-0.01, 0.01))
def test_shifting_returns_and_risk_free_together_leaves_sharpe_alone(
    panel: tuple[np.ndarray, np.ndarray], shift: float
) -> None:
    # The Sharpe ratio sees only excess returns, which a common shift does not change.
    returns, _ = panel
    _same(pa.sharpe_ratio(returns + shift, risk_free=shift), pa.sharpe_ratio(returns))
    _same(
        pa.sortino_ratio(returns + shift, required_return=shift),
        pa.sortino_ratio(returns),
    )


@settings(max_examples=60, deadline=None)
@given(panel=panels(missing=True))
def test_a_portfolio_regressed_on_itself_has_beta_one_and_no_alpha(
    panel: tuple[np.ndarray, np.ndarray],
) -> None:
    # The least-squares line of a series on itself is the identity.
    _, benchmark = panel
    alpha, beta = pa.alpha_beta(benchmark, benchmark)
    if not np.isnan(beta):
        assert beta == pytest.approx(1.0)
        assert alpha == pytest.approx(0.0, abs=1e-10)


@settings(max_examples=60, deadline=None)
@given(panel=panels(missing=True))
def test_max_drawdown_is_the_deepest_point_of_the_drawdown_series(
    panel: tuple[np.ndarray, np.ndarray],
) -> None:
    # Both measure wealth against its running peak from a start of 1; daily losses are
    # at most 20% here, so wealth stays positive and the drawdown lies in [-1, 0].
    returns, _ = panel
    drawdowns = np.asarray(pa.drawdown_series(returns))
    worst = np.asarray(pa.max_drawdown(returns))
    _same(drawdowns.min(axis=0), worst)
    assert np.all((worst <= 0) & (worst >= -1) | np.isnan(worst))


@settings(max_examples=60, deadline=None)
@given(panel=panels(missing=True))
def test_annual_return_compounds_to_the_final_cumulative_return(
    panel: tuple[np.ndarray, np.ndarray],
) -> None:
    # CAGR is the total growth spread evenly over the years the rows span.
    returns, _ = panel
    total = np.asarray(pa.cumulative_returns(returns))[-1]
    years = returns.shape[0] / pa.DAILY
    _same(pa.annual_return(returns), (1 + total) ** (1 / years) - 1)


@settings(max_examples=60, deadline=None)
@given(panel=panels(), cutoff=st.floats(0.0, 1.0))
def test_expected_shortfall_is_no_better_than_value_at_risk(
    panel: tuple[np.ndarray, np.ndarray], cutoff: float
) -> None:
    # CVaR averages the returns at or below the cutoff quantile, so it cannot exceed VaR,
    # and VaR is a quantile, so it lies between the worst and the best day.
    returns, _ = panel
    var = np.asarray(pa.value_at_risk(returns, cutoff))
    cvar = np.asarray(pa.conditional_value_at_risk(returns, cutoff))
    assert np.all(cvar <= var + 1e-15)
    assert np.all((returns.min(axis=0) <= var) & (var <= returns.max(axis=0)))


@settings(max_examples=60, deadline=None)
@given(panel=panels())
def test_frames_and_arrays_give_the_same_numbers(panel: tuple[np.ndarray, np.ndarray]) -> None:
    # pandas is only a wrapper: labels must not change any value.
    returns, benchmark = panel
    index = pd.bdate_range("2021-01-01", periods=returns.shape[0])
    frame = pd.DataFrame(returns, index=index)
    series = pd.Series(benchmark, index=index)
    for name, statistic in STATISTICS.items():
        by_frame = statistic(frame, series)
        assert isinstance(by_frame, pd.Series), name
        _same(by_frame, statistic(returns, benchmark))


@pytest.mark.parametrize("benchmark", [[0.1182, 0.1201, np.nan], [0.1182, 0.1201]])
def test_a_large_mean_against_a_small_spread_loses_no_digits(benchmark: list[float]) -> None:
    # Found by the property above: a one-pass covariance (sum b·r − mean b · sum r) gave
    # this series a beta on itself of 1 − 3.5e-12 and an annual alpha of 1.06e-10.
    returns = np.array(benchmark)
    alpha, beta = pa.alpha_beta(returns, returns)
    assert beta == pytest.approx(1.0, abs=1e-15)
    assert alpha == pytest.approx(0.0, abs=1e-14)
