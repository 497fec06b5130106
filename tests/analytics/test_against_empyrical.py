"""pas.analytics against empyrical-reloaded itself, on seeded random returns with NaNs.

Our 2-D call (one per statistic) must equal empyrical-reloaded called on each portfolio
in turn, to 1e-10, for DataFrames, 2-D arrays and single Series alike.
"""

from collections.abc import Callable

import empyrical as ep
import numpy as np
import pandas as pd
import pytest
from empyrical.stats import drawdown_series as ep_drawdown_series

import pas.analytics as pa
from pas.analytics.stats import ROW_LOOP_MIN_PORTFOLIOS
from tests.analytics.cases import random_returns

TOLERANCE = 1e-10
RISK_FREE = 0.0001
REQUIRED = 0.0002

# empyrical-reloaded's own warnings (NaN slices; a pandas deprecation in its alignment).
pytestmark = [
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:Sorting by default when concatenating"),
]


def _reference_cases(
    benchmark: pd.Series,
) -> dict[str, tuple[Callable[..., object], Callable[[pd.Series], float]]]:
    """Each statistic: (ours on any returns, empyrical-reloaded on one portfolio)."""
    root_year = np.sqrt(pa.DAILY)
    return {
        "annual_return": (pa.annual_return, ep.annual_return),
        "annual_volatility": (pa.annual_volatility, ep.annual_volatility),
        "sharpe_ratio": (
            lambda r: pa.sharpe_ratio(r, RISK_FREE),
            lambda s: ep.sharpe_ratio(s, RISK_FREE),
        ),
        "sortino_ratio": (
            lambda r: pa.sortino_ratio(r, REQUIRED),
            lambda s: ep.sortino_ratio(s, REQUIRED),
        ),
        "downside_risk": (
            lambda r: pa.downside_risk(r, REQUIRED),
            lambda s: ep.downside_risk(s, REQUIRED),
        ),
        "max_drawdown": (pa.max_drawdown, ep.max_drawdown),
        "calmar_ratio": (pa.calmar_ratio, ep.calmar_ratio),
        "alpha": (
            lambda r: pa.alpha(r, benchmark, RISK_FREE),
            lambda s: ep.alpha(s, benchmark, RISK_FREE),
        ),
        "beta": (lambda r: pa.beta(r, benchmark), lambda s: ep.beta(s, benchmark)),
        "alpha_beta.alpha": (
            lambda r: pa.alpha_beta(r, benchmark)[0],
            lambda s: ep.alpha_beta(s, benchmark)[0],
        ),
        "alpha_beta.beta": (
            lambda r: pa.alpha_beta(r, benchmark)[1],
            lambda s: ep.alpha_beta(s, benchmark)[1],
        ),
        # empyrical-reloaded has no tracking error: it is the volatility of active returns.
        "tracking_error": (
            lambda r: pa.tracking_error(r, benchmark),
            lambda s: ep.annual_volatility(s - benchmark),
        ),
        # ... and its excess_sharpe is our information ratio before annualisation.
        "information_ratio": (
            lambda r: pa.information_ratio(r, benchmark),
            lambda s: ep.excess_sharpe(s, benchmark) * root_year,
        ),
        "value_at_risk": (pa.value_at_risk, ep.value_at_risk),
        "conditional_value_at_risk": (
            pa.conditional_value_at_risk,
            ep.conditional_value_at_risk,
        ),
    }


RETURNS, BENCHMARK = random_returns(rows=400, portfolios=7, seed=20240601, nan_fraction=0.04)
# A portfolio that started late, and one whose return never changes (its Sharpe ratio
# is infinite, which empyrical-reloaded gets exactly too).
RETURNS.iloc[:150, 1] = np.nan
RETURNS.iloc[:, 2] = 0.0004
CLEAN_RETURNS, CLEAN_BENCHMARK = random_returns(rows=300, portfolios=5, seed=7)
# Wide enough for the day-by-day loop that running products and maxima use from
# ROW_LOOP_MIN_PORTFOLIOS portfolios on.
WIDE_RETURNS, WIDE_BENCHMARK = random_returns(rows=250, portfolios=40, seed=8, nan_fraction=0.02)
CASES = _reference_cases(BENCHMARK)
CLEAN_CASES = _reference_cases(CLEAN_BENCHMARK)
WIDE_CASES = _reference_cases(WIDE_BENCHMARK)


def _per_portfolio(reference: Callable[[pd.Series], float], returns: pd.DataFrame) -> np.ndarray:
    return np.array([reference(returns[column]) for column in returns.columns], dtype=float)


def assert_close(observed: object, expected: object) -> None:
    np.testing.assert_allclose(
        np.asarray(observed, dtype=float), np.asarray(expected, dtype=float), rtol=0, atol=1e-10
    )


@pytest.mark.parametrize("name", CASES)
def test_frame_matches_empyrical_per_portfolio(name: str) -> None:
    ours, reference = CASES[name]
    observed = ours(RETURNS)
    assert isinstance(observed, pd.Series)
    pd.testing.assert_index_equal(observed.index, RETURNS.columns)
    assert_close(observed, _per_portfolio(reference, RETURNS))


@pytest.mark.parametrize("name", CASES)
def test_array_matches_empyrical_per_portfolio(name: str) -> None:
    ours, reference = CASES[name]
    observed = ours(RETURNS.to_numpy())
    assert isinstance(observed, np.ndarray)
    assert observed.shape == (RETURNS.shape[1],)
    assert_close(observed, _per_portfolio(reference, RETURNS))


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("column", ["p0", "p1"])
def test_series_matches_empyrical(name: str, column: str) -> None:
    ours, reference = CASES[name]
    observed = ours(RETURNS[column])
    assert isinstance(observed, float)
    assert_close(observed, reference(RETURNS[column]))


@pytest.mark.parametrize("name", CLEAN_CASES)
def test_frame_without_nan_matches_empyrical(name: str) -> None:
    # Without NaN every statistic takes its fast path, and VaR is defined everywhere.
    ours, reference = CLEAN_CASES[name]
    expected = _per_portfolio(reference, CLEAN_RETURNS)
    assert not np.isnan(expected).any()
    assert_close(ours(CLEAN_RETURNS), expected)


@pytest.mark.parametrize("name", WIDE_CASES)
def test_many_portfolios_match_empyrical(name: str) -> None:
    assert WIDE_RETURNS.shape[1] >= ROW_LOOP_MIN_PORTFOLIOS
    ours, reference = WIDE_CASES[name]
    assert_close(ours(WIDE_RETURNS), _per_portfolio(reference, WIDE_RETURNS))


def test_value_at_risk_is_nan_for_a_portfolio_with_any_nan_as_in_empyrical() -> None:
    observed = pa.value_at_risk(RETURNS)
    assert observed.isna().tolist() == RETURNS.isna().any().tolist()


@pytest.mark.parametrize("cutoff", [0.0, 0.05, 0.1, 0.37, 0.5, 1.0])
@pytest.mark.parametrize("name", ["value_at_risk", "conditional_value_at_risk"])
def test_tail_risk_matches_empyrical_at_any_cutoff(name: str, cutoff: float) -> None:
    # 21 rows put 0.05, 0.1, 0.5 exactly on an order statistic: no interpolation there.
    returns = RETURNS.iloc[:21]
    assert returns.isna().any().sum() > 1 and not returns.isna().all().all()
    ours, reference = getattr(pa, name), getattr(ep, name)
    expected = _per_portfolio(lambda s: reference(s, cutoff), returns)
    assert_close(ours(returns, cutoff), expected)


@pytest.mark.parametrize("returns", [RETURNS, WIDE_RETURNS], ids=["narrow", "wide"])
@pytest.mark.parametrize("starting_value", [0.0, 100.0])
def test_cumulative_returns_match_empyrical(returns: pd.DataFrame, starting_value: float) -> None:
    observed = pa.cumulative_returns(returns, starting_value)
    assert isinstance(observed, pd.DataFrame)
    pd.testing.assert_index_equal(observed.index, returns.index)
    expected = ep.cum_returns(returns, starting_value=starting_value)
    assert_close(observed, expected)
    assert_close(pa.cumulative_returns(returns.to_numpy(), starting_value), expected)


@pytest.mark.parametrize("returns", [RETURNS, WIDE_RETURNS], ids=["narrow", "wide"])
def test_drawdown_series_matches_empyrical(returns: pd.DataFrame) -> None:
    observed = pa.drawdown_series(returns)
    assert isinstance(observed, pd.DataFrame)
    assert_close(observed, ep_drawdown_series(returns))
    assert_close(pa.drawdown_series(returns["p0"]), ep_drawdown_series(returns["p0"]))


def test_benchmark_is_aligned_by_date_as_in_empyrical() -> None:
    # A benchmark in another order and with extra dates must give the same answer.
    shuffled = pd.concat([BENCHMARK, pd.Series([0.5], index=[pd.Timestamp("1999-12-31")])]).sample(
        frac=1.0, random_state=3
    )
    for function in (pa.alpha, pa.beta, pa.tracking_error, pa.information_ratio):
        assert_close(function(RETURNS, shuffled), function(RETURNS, BENCHMARK))
    assert_close(pa.beta(RETURNS["p0"], shuffled), ep.beta(RETURNS["p0"], shuffled))
