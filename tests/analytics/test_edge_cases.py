"""Too-short and all-NaN returns give NaN quietly; results come back in the input's kind."""

import warnings
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

import pas.analytics as pa
from pas.analytics.stats import ROW_LOOP_MIN_PORTFOLIOS
from pas.errors import InputError
from tests.analytics.cases import MIN_ROWS, SERIES_STATISTICS, STATISTICS, random_returns

RETURNS, BENCHMARK = random_returns(rows=60, portfolios=3, seed=11)


@pytest.fixture(autouse=True)
def _warnings_are_errors() -> Iterator[None]:
    # A statistic that warns on odd input would flood a 500-portfolio report.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.mark.parametrize("name", STATISTICS)
def test_too_short_returns_give_nan(name: str) -> None:
    statistic = STATISTICS[name]
    rows = MIN_ROWS[name] - 1
    short, benchmark = RETURNS.iloc[:rows], BENCHMARK.iloc[:rows]
    assert np.isnan(statistic(short["p0"], benchmark))
    assert np.isnan(statistic(short["p0"].to_numpy(), benchmark.to_numpy()))
    assert statistic(short, benchmark).isna().all()
    by_array = statistic(short.to_numpy(), benchmark.to_numpy())
    assert isinstance(by_array, np.ndarray)
    assert by_array.shape == (3,)
    assert np.isnan(by_array).all()


@pytest.mark.parametrize("name", STATISTICS)
def test_enough_rows_give_a_number(name: str) -> None:
    # The other side of the too-short boundary: the minimum is not set too high.
    rows = MIN_ROWS[name]
    returns = pd.Series([-0.01, 0.02][:rows])
    benchmark = pd.Series([0.01, 0.015][:rows])
    assert not np.isnan(STATISTICS[name](returns, benchmark))


@pytest.mark.parametrize("name", STATISTICS)
def test_an_all_nan_portfolio_gives_nan_and_leaves_the_others_alone(name: str) -> None:
    statistic = STATISTICS[name]
    returns = RETURNS.copy()
    returns["p1"] = np.nan
    observed = statistic(returns, BENCHMARK)
    assert np.isnan(observed["p1"])
    expected = statistic(RETURNS[["p0", "p2"]], BENCHMARK)
    np.testing.assert_allclose(observed[["p0", "p2"]], expected, rtol=1e-12)
    assert np.isnan(statistic(returns["p1"], BENCHMARK))


@pytest.mark.parametrize("name", SERIES_STATISTICS)
def test_series_of_an_all_nan_portfolio_are_nan(name: str) -> None:
    returns = RETURNS.copy()
    returns["p1"] = np.nan
    observed = SERIES_STATISTICS[name](returns)
    assert isinstance(observed, pd.DataFrame)
    assert observed["p1"].isna().all()
    assert not observed[["p0", "p2"]].isna().any().any()


@pytest.mark.parametrize("name", SERIES_STATISTICS)
def test_series_keep_the_kind_and_shape_of_the_input(name: str) -> None:
    function = SERIES_STATISTICS[name]
    by_series = function(RETURNS["p0"])
    assert isinstance(by_series, pd.Series)
    pd.testing.assert_index_equal(by_series.index, RETURNS.index)
    assert by_series.name == "p0"
    by_frame = function(RETURNS)
    assert isinstance(by_frame, pd.DataFrame)
    assert by_frame.index.equals(RETURNS.index) and by_frame.columns.equals(RETURNS.columns)
    by_array = function(RETURNS.to_numpy())
    assert isinstance(by_array, np.ndarray) and by_array.shape == RETURNS.shape
    by_vector = function(RETURNS["p0"].to_numpy())
    assert isinstance(by_vector, np.ndarray) and by_vector.shape == (len(RETURNS),)
    np.testing.assert_array_equal(by_vector, by_series.to_numpy())
    empty = function(np.empty(0))
    assert isinstance(empty, np.ndarray) and empty.shape == (0,)


@pytest.mark.parametrize("name", ["max_drawdown", "calmar_ratio"])
def test_wide_and_narrow_panels_agree_to_the_bit(name: str) -> None:
    # Many portfolios step through the days one ufunc call at a time, few use NumPy's
    # accumulate; both must compound in the same order.
    wide, benchmark = random_returns(rows=80, portfolios=ROW_LOOP_MIN_PORTFOLIOS, seed=5)
    wide.iloc[::7, ::3] = np.nan
    narrow = pd.concat(
        [STATISTICS[name](wide.iloc[:, [j]], benchmark) for j in range(ROW_LOOP_MIN_PORTFOLIOS)]
    )
    np.testing.assert_array_equal(STATISTICS[name](wide, benchmark), narrow)


@pytest.mark.parametrize("name", SERIES_STATISTICS)
def test_wide_and_narrow_series_agree_to_the_bit(name: str) -> None:
    wide, _ = random_returns(rows=80, portfolios=ROW_LOOP_MIN_PORTFOLIOS, seed=5)
    wide.iloc[::7, ::3] = np.nan
    function = SERIES_STATISTICS[name]
    narrow = pd.concat([function(wide.iloc[:, [j]]) for j in range(ROW_LOOP_MIN_PORTFOLIOS)], axis=1)
    np.testing.assert_array_equal(function(wide), narrow)


def test_a_list_is_one_portfolio() -> None:
    assert pa.annual_volatility([0.01, -0.01, 0.02]) == pa.annual_volatility(np.array([0.01, -0.01, 0.02]))


@pytest.mark.parametrize("name", STATISTICS)
def test_inputs_are_left_unchanged(name: str) -> None:
    returns, benchmark = RETURNS.copy(), BENCHMARK.copy()
    returns.iloc[3, 1] = np.nan
    before = returns.copy()
    STATISTICS[name](returns, benchmark)
    pd.testing.assert_frame_equal(returns, before)
    pd.testing.assert_series_equal(benchmark, BENCHMARK)


def test_first_day_loss_is_a_drawdown() -> None:
    # Wealth starts at 1 before the first return, so falling on day one counts.
    assert pa.max_drawdown([-0.1, 0.05]) == pytest.approx(-0.1)
    np.testing.assert_allclose(pa.drawdown_series([-0.1, 0.05]), [-0.1, -0.055])


def test_a_missing_day_counts_as_a_period_in_annual_return() -> None:
    # empyrical-reloaded's convention: NaN is a 0% day, so it stretches the time span.
    with_gap = pa.annual_return([0.01, np.nan], annualization=2)
    assert with_gap == pytest.approx(0.01)


def test_sortino_counts_every_day_in_the_downside_deviation() -> None:
    # Days above the required return are zero shortfall, not left out: sqrt(0.02² / 4).
    returns = [0.03, -0.02, 0.01, 0.04]
    assert pa.downside_risk(returns, annualization=1) == pytest.approx(0.01)


def test_tracking_error_and_information_ratio_are_annualised() -> None:
    active = RETURNS["p0"] - BENCHMARK
    expected_error = active.std(ddof=1) * np.sqrt(252)
    assert pa.tracking_error(RETURNS["p0"], BENCHMARK) == pytest.approx(expected_error)
    expected_ratio = active.mean() * 252 / expected_error
    assert pa.information_ratio(RETURNS["p0"], BENCHMARK) == pytest.approx(expected_ratio)


def test_identical_portfolio_and_benchmark_have_no_tracking_error() -> None:
    assert pa.tracking_error(BENCHMARK, BENCHMARK) == 0.0
    assert np.isnan(pa.information_ratio(BENCHMARK, BENCHMARK))


def test_beta_to_a_constant_benchmark_is_nan() -> None:
    # The mean of ten 1% days is not exactly 1% in floating point, so the benchmark's
    # variance comes out near 1e-36 rather than 0: it must still count as no variance.
    constant = pd.Series(0.01, index=RETURNS.index[:10])
    assert np.isnan(pa.beta(RETURNS["p0"].iloc[:10], constant))
    assert np.isnan(pa.alpha(RETURNS["p0"].iloc[:10], constant))


def test_three_dimensional_returns_are_refused() -> None:
    with pytest.raises(InputError, match=r"1-D \(one portfolio\) or 2-D .* not 3-D"):
        pa.sharpe_ratio(np.zeros((4, 2, 2)))


def test_a_benchmark_of_the_wrong_length_is_refused_with_the_fix() -> None:
    with pytest.raises(InputError, match="one value per row of returns \\(60\\), not shape"):
        pa.beta(RETURNS.to_numpy(), BENCHMARK.to_numpy()[:-1])


@pytest.mark.parametrize("cutoff", [-0.01, 1.5])
def test_a_cutoff_outside_zero_to_one_is_refused(cutoff: float) -> None:
    with pytest.raises(InputError, match="cutoff must be a fraction between 0 and 1"):
        pa.value_at_risk(RETURNS, cutoff)
    with pytest.raises(InputError, match="cutoff must be a fraction between 0 and 1"):
        pa.conditional_value_at_risk(RETURNS, cutoff)


def test_a_nearly_constant_portfolio_keeps_its_digits() -> None:
    # Deviations of 1e-9 around a mean of 1% (mean² / variance = 1e14): the one-pass sums
    # of values and squares would cancel to noise here, so such a column takes the deviations.
    rng = np.random.default_rng(3)
    steady = 0.01 + rng.normal(0.0, 1e-9, (250, 2))
    steady[:, 1] = np.linspace(0.01, 0.01 + 1e-9, 250)
    expected = np.std(steady, axis=0, ddof=1) * np.sqrt(pa.DAILY)
    np.testing.assert_allclose(pa.annual_volatility(steady), expected, rtol=1e-9)
    np.testing.assert_allclose(
        pa.sharpe_ratio(steady),
        steady.mean(axis=0) / np.std(steady, axis=0, ddof=1) * np.sqrt(pa.DAILY),
        rtol=1e-9,
    )


def test_downside_risk_skips_missing_days_in_their_column_only() -> None:
    returns = np.array([[-0.02, -0.02], [0.01, np.nan], [-0.01, -0.01], [0.03, 0.03]])
    risk = pa.downside_risk(returns, annualization=1)
    np.testing.assert_allclose(risk, [np.sqrt((0.02**2 + 0.01**2) / 4), np.sqrt((0.02**2 + 0.01**2) / 3)])
