"""pas.analytics against the values empyrical-reloaded's own test suite pins.

The named datasets and the expected values are those of empyrical-reloaded's
tests/conftest.py and tests/test_stats.py, pinned there to 8 decimals (cumulative returns
to 4). Matching them shows we share its conventions, not only its current code.
"""

import numpy as np
import pandas as pd
import pytest

import pas.analytics as pa

DECIMALS = 8
NAN = np.nan


def _series(fractions: np.ndarray, freq: str = "D", tz: str | None = None) -> pd.Series:
    index = pd.date_range("2000-1-30", periods=len(fractions), freq=freq, tz=tz)
    return pd.Series(fractions, index=index, dtype=float)


def _daily(percentages: list[float], freq: str = "D") -> pd.Series:
    return _series(np.array(percentages, dtype=float) / 100, freq)


def _frame(one: list[float], two: list[float], freq: str) -> pd.DataFrame:
    index = pd.date_range("2000-1-30", periods=len(one), freq=freq)
    return pd.DataFrame({"one": one, "two": two}, index=index)


_ONE = [
    -0.00171614,
    0.01322056,
    0.03063862,
    -0.01422057,
    -0.00489779,
    0.01268925,
    -0.03357711,
    0.01797036,
]
_TWO = [
    0.01846232,
    0.00793951,
    -0.01448395,
    0.00422537,
    -0.00339611,
    0.03756813,
    0.0151531,
    0.03549769,
]
_NOISE = np.random.RandomState(1337).normal(0, 0.001, 1000)
_MIXED = [NAN, 1.0, 10.0, -4.0, 2.0, 3.0, 2.0, 1.0, -10.0]
_WEEKLY = [0.0, 1.0, 10.0, -4.0, 2.0, 3.0, 2.0, 1.0, -10.0]

DATASETS: dict[str, pd.Series | pd.DataFrame] = {
    "empty_returns": _daily([]),
    "one_return": _daily([1.0]),
    "simple_benchmark": _daily([0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0]),
    "positive_returns": _daily([1.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]),
    "negative_returns": _daily([0.0, -6.0, -7.0, -1.0, -9.0, -2.0, -6.0, -8.0, -5.0]),
    "all_negative_returns": _daily([-2.0, -6.0, -7.0, -1.0, -9.0, -2.0, -6.0, -8.0, -5.0]),
    "mixed_returns": _daily(_MIXED),
    "-mixed_returns": -_daily(_MIXED),
    "weekly_returns": _daily(_WEEKLY, freq="W"),
    "monthly_returns": _daily(_WEEKLY, freq="ME"),
    "udu_returns": _daily([10.0, -10.0, 10.0]),
    "flat_line_1": _daily([1.0] * 9),
    "flat_line_1_tz": _series(np.linspace(0.01, 0.01, num=1000), tz="UTC"),
    "flat_line_yearly": _daily([3.0, 3.0, 3.0], freq="YE"),
    "pos_line": _series(np.linspace(0, 1, num=1000), tz="UTC"),
    "noise": _series(_NOISE, tz="UTC"),
    "2 * noise": _series(2 * _NOISE, tz="UTC"),
    "inv_noise": _series(-_NOISE, tz="UTC"),
    "df_simple": _frame(_ONE, _TWO, "D"),
    "df_week": _frame(_ONE, _TWO, "W"),
    "df_month": _frame(_ONE, _TWO, "ME"),
    "df_input": _frame([NAN, *_ONE[1:]], [*_TWO[:-1], NAN], "D"),
}
DATASETS["negative_returns[1:]"] = DATASETS["negative_returns"].iloc[1:]

DAILY = pa.ANNUALIZATION_FACTORS["daily"]
WEEKLY = pa.ANNUALIZATION_FACTORS["weekly"]
MONTHLY = pa.ANNUALIZATION_FACTORS["monthly"]
YEARLY = pa.ANNUALIZATION_FACTORS["yearly"]


def data(name: str) -> pd.Series | pd.DataFrame:
    return DATASETS[name]


def threshold(name: str | float) -> float | pd.Series | pd.DataFrame:
    """A required return or risk-free rate: a number, or a named dataset."""
    return name if isinstance(name, float) else data(name)


def assert_statistic(observed: object, expected: object, decimals: int = DECIMALS) -> None:
    if isinstance(expected, pd.Series):
        assert isinstance(observed, pd.Series)
        pd.testing.assert_index_equal(observed.index, expected.index)
    np.testing.assert_almost_equal(np.asarray(observed), np.asarray(expected), decimals)


@pytest.mark.parametrize(
    ("returns", "expected"),
    [
        ("empty_returns", NAN),
        ("one_return", 0.0),
        ("simple_benchmark", 0.0),
        ("mixed_returns", -0.1),
        ("positive_returns", -0.0),
        ("negative_returns", -0.36590730),
        ("all_negative_returns", -0.378589157),
        ("udu_returns", -0.10),
    ],
)
def test_max_drawdown(returns: str, expected: float) -> None:
    assert_statistic(pa.max_drawdown(data(returns)), expected)


@pytest.mark.parametrize(
    ("returns", "annualization", "expected"),
    [
        ("empty_returns", DAILY, NAN),
        ("one_return", DAILY, 11.274002099240244),
        ("mixed_returns", DAILY, 1.9135925373194231),
        ("flat_line_1_tz", DAILY, 11.274002099240256),
        ("weekly_returns", WEEKLY, 0.24690830513998208),
        ("monthly_returns", MONTHLY, 0.052242061386048144),
        ("flat_line_yearly", YEARLY, 0.03),
    ],
)
def test_annual_return(returns: str, annualization: int, expected: float) -> None:
    assert_statistic(pa.annual_return(data(returns), annualization), expected)


@pytest.mark.parametrize(
    ("returns", "annualization", "expected"),
    [
        ("flat_line_1_tz", DAILY, 0.0),
        ("mixed_returns", DAILY, 0.9136465399704637),
        ("weekly_returns", WEEKLY, 0.38851569394870583),
        ("monthly_returns", MONTHLY, 0.18663690238892558),
    ],
)
def test_annual_volatility(returns: str, annualization: int, expected: float) -> None:
    assert_statistic(pa.annual_volatility(data(returns), annualization), expected)


@pytest.mark.parametrize(
    ("returns", "annualization", "expected"),
    [
        ("empty_returns", DAILY, NAN),
        ("one_return", DAILY, NAN),
        ("mixed_returns", DAILY, 19.135925373194233),
        ("weekly_returns", WEEKLY, 2.4690830513998208),
        ("monthly_returns", MONTHLY, 0.52242061386048144),
    ],
)
def test_calmar_ratio(returns: str, annualization: int, expected: float) -> None:
    assert_statistic(pa.calmar_ratio(data(returns), annualization), expected)


@pytest.mark.parametrize(
    ("returns", "risk_free", "expected"),
    [
        ("empty_returns", 0.0, NAN),
        ("one_return", 0.0, NAN),
        ("mixed_returns", "mixed_returns", NAN),
        ("mixed_returns", 0.0, 1.7238613961706866),
        ("mixed_returns", "simple_benchmark", 0.34111411441060574),
        ("positive_returns", 0.0, 52.915026221291804),
        ("negative_returns", 0.0, -24.406808633910085),
        ("flat_line_1", 0.0, np.inf),
    ],
)
def test_sharpe_ratio(returns: str, risk_free: str | float, expected: float) -> None:
    assert_statistic(pa.sharpe_ratio(data(returns), threshold(risk_free)), expected)


@pytest.mark.parametrize(
    ("returns", "required", "annualization", "expected"),
    [
        ("empty_returns", 0.0, DAILY, NAN),
        ("one_return", 0.0, DAILY, 0.0),
        ("mixed_returns", "mixed_returns", DAILY, 0.0),
        ("mixed_returns", 0.0, DAILY, 0.60448325038829653),
        ("mixed_returns", 0.1, DAILY, 1.7161730681956295),
        ("weekly_returns", 0.0, WEEKLY, 0.25888650451930134),
        ("weekly_returns", 0.1, WEEKLY, 0.7733045971672482),
        ("monthly_returns", 0.0, MONTHLY, 0.1243650540411842),
        ("monthly_returns", 0.1, MONTHLY, 0.37148351242013422),
        (
            "df_simple",
            0.0,
            DAILY,
            pd.Series([0.20671788246185202, 0.083495680595704475], index=["one", "two"]),
        ),
        (
            "df_week",
            0.0,
            WEEKLY,
            pd.Series([0.093902996054410062, 0.037928477556776516], index=["one", "two"]),
        ),
        (
            "df_month",
            0.0,
            MONTHLY,
            pd.Series([0.045109540184877193, 0.018220251263412916], index=["one", "two"]),
        ),
    ],
)
def test_downside_risk(returns: str, required: str | float, annualization: int, expected: object) -> None:
    observed = pa.downside_risk(data(returns), threshold(required), annualization)
    assert_statistic(observed, expected)


@pytest.mark.parametrize(
    ("returns", "required", "annualization", "expected"),
    [
        ("empty_returns", 0.0, DAILY, NAN),
        ("one_return", 0.0, DAILY, NAN),
        ("mixed_returns", "mixed_returns", DAILY, NAN),
        ("mixed_returns", 0.0, DAILY, 2.605531251673693),
        ("mixed_returns", "flat_line_1", DAILY, -1.3934779588919977),
        ("positive_returns", 0.0, DAILY, np.inf),
        ("negative_returns", 0.0, DAILY, -13.532743075043401),
        ("simple_benchmark", 0.0, DAILY, np.inf),
        ("weekly_returns", 0.0, WEEKLY, 1.1158901056866439),
        ("monthly_returns", 0.0, MONTHLY, 0.53605626741889756),
        (
            "df_simple",
            0.0,
            DAILY,
            pd.Series([3.0639640966566306, 38.090963117002495], index=["one", "two"]),
        ),
        (
            "df_week",
            0.0,
            WEEKLY,
            pd.Series([1.3918264112070571, 17.303077589064618], index=["one", "two"]),
        ),
        (
            "df_month",
            0.0,
            MONTHLY,
            pd.Series([0.6686117809312383, 8.3121296084492844], index=["one", "two"]),
        ),
    ],
)
def test_sortino_ratio(returns: str, required: str | float, annualization: int, expected: object) -> None:
    observed = pa.sortino_ratio(data(returns), threshold(required), annualization)
    assert_statistic(observed, expected)


@pytest.mark.parametrize(
    ("returns", "benchmark", "excess_sharpe"),
    [
        ("empty_returns", 0.0, NAN),
        ("one_return", 0.0, NAN),
        ("pos_line", "pos_line", NAN),
        ("mixed_returns", 0.0, 0.10859306069076737),
        ("mixed_returns", "flat_line_1", -0.06515583641446039),
    ],
)
def test_information_ratio(returns: str, benchmark: str | float, excess_sharpe: float) -> None:
    # empyrical-reloaded pins excess_sharpe, the same ratio per period; ours is annualised.
    observed = pa.information_ratio(data(returns), threshold(benchmark))
    assert_statistic(observed, excess_sharpe * np.sqrt(DAILY))


@pytest.mark.parametrize(
    ("returns", "benchmark", "expected_alpha", "expected_beta"),
    [
        ("empty_returns", "simple_benchmark", NAN, NAN),
        ("one_return", "one_return", NAN, NAN),
        ("mixed_returns", "negative_returns[1:]", -0.9997853834885004, -0.71296296296296313),
        ("mixed_returns", "mixed_returns", 0.0, 1.0),
        ("mixed_returns", "-mixed_returns", 0.0, -1.0),
    ],
)
def test_alpha_beta(returns: str, benchmark: str, expected_alpha: float, expected_beta: float) -> None:
    observed_alpha, observed_beta = pa.alpha_beta(data(returns), data(benchmark))
    assert_statistic(observed_alpha, expected_alpha)
    assert_statistic(observed_beta, expected_beta)
    assert_statistic(pa.alpha(data(returns), data(benchmark)), expected_alpha)
    assert_statistic(pa.beta(data(returns), data(benchmark)), expected_beta)


@pytest.mark.parametrize(
    ("returns", "benchmark", "expected"),
    [
        ("empty_returns", "simple_benchmark", NAN),
        ("one_return", "one_return", NAN),
        ("noise", "noise", 1.0),
        ("2 * noise", "noise", 2.0),
        ("noise", "inv_noise", -1.0),
        ("2 * noise", "inv_noise", -2.0),
    ],
)
def test_beta(returns: str, benchmark: str, expected: float) -> None:
    assert_statistic(pa.beta(data(returns), data(benchmark)), expected)


@pytest.mark.parametrize(
    ("returns", "cutoff", "expected"),
    [
        ([1.0, 2.0], 0.0, 1.0),
        ([1.0, 2.0], 0.3, 1.3),
        ([1.0, 2.0], 1.0, 2.0),
        ([1, 81, 82, 83, 84, 85], 0.1, 41),
        ([1, 81, 82, 83, 84, 85], 0.2, 81),
        ([1, 81, 82, 83, 84, 85], 0.3, 81.5),
    ],
)
def test_value_at_risk(returns: list[float], cutoff: float, expected: float) -> None:
    assert_statistic(pa.value_at_risk(returns, cutoff), expected)


@pytest.mark.parametrize("cutoff", [0, 0.0499, 0.05, 0.20, 0.999, 1])
def test_value_at_risk_is_the_linear_percentile(cutoff: float) -> None:
    returns = np.random.RandomState(1337).normal(0, 0.02, 21)
    assert_statistic(pa.value_at_risk(returns, cutoff), np.percentile(returns, cutoff * 100))


@pytest.mark.parametrize("cutoff", [0, 0.0499, 0.05, 0.20, 0.999, 1])
def test_conditional_value_at_risk_averages_returns_at_or_below_var(cutoff: float) -> None:
    returns = np.random.RandomState(1337).normal(0, 0.02, 21)
    var = pa.value_at_risk(returns, cutoff)
    expected = returns[returns <= var].mean()
    assert_statistic(pa.conditional_value_at_risk(returns, cutoff), expected)


@pytest.mark.parametrize("cutoff", [0.0, 1.0])
def test_conditional_value_at_risk_of_one_return_is_that_return(cutoff: float) -> None:
    assert pa.conditional_value_at_risk([-0.0123], cutoff) == -0.0123


@pytest.mark.parametrize(
    ("returns", "starting_value", "expected"),
    [
        ("empty_returns", 0.0, []),
        (
            "mixed_returns",
            0.0,
            [0.0, 0.01, 0.111, 0.066559, 0.08789, 0.12052, 0.14293, 0.15436, 0.03893],
        ),
        (
            "mixed_returns",
            100.0,
            [100.0, 101.0, 111.1, 106.65599, 108.78912, 112.05279, 114.29384, 115.43678, 103.8931],
        ),
        (
            "negative_returns",
            0.0,
            [0.0, -0.06, -0.1258, -0.13454, -0.21243, -0.22818, -0.27449, -0.33253, -0.3659],
        ),
    ],
)
def test_cumulative_returns(returns: str, starting_value: float, expected: list[float]) -> None:
    observed = pa.cumulative_returns(data(returns), starting_value)
    assert isinstance(observed, pd.Series)
    pd.testing.assert_index_equal(observed.index, data(returns).index)
    np.testing.assert_almost_equal(observed.to_numpy(), expected, 4)


@pytest.mark.parametrize(
    ("starting_value", "one", "two"),
    [
        (
            0.0,
            [0.0, 0.013221, 0.044264, 0.029414, 0.024372, 0.037371, 0.002539, 0.020555],
            [0.018462, 0.026548, 0.011680, 0.015955, 0.012504, 0.050542, 0.066461, 0.066461],
        ),
        (
            100.0,
            [
                100.0,
                101.322056,
                104.426424,
                102.941421,
                102.437235,
                103.737087,
                100.253895,
                102.055494,
            ],
            [
                101.846232,
                102.654841,
                101.167994,
                101.595466,
                101.250436,
                105.054226,
                106.646123,
                106.646123,
            ],
        ),
    ],
)
def test_cumulative_returns_of_a_frame(starting_value: float, one: list[float], two: list[float]) -> None:
    returns = data("df_input")
    observed = pa.cumulative_returns(returns, starting_value)
    assert isinstance(observed, pd.DataFrame)
    pd.testing.assert_index_equal(observed.index, returns.index)
    pd.testing.assert_index_equal(observed.columns, returns.columns)
    np.testing.assert_almost_equal(observed.to_numpy(), np.column_stack([one, two]), 4)
