"""The tear sheet's numbers: drawdown episodes, rolling statistics, calendar returns,
partial periods — hand-computed figures and agreement with pas.analytics."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

from pas import analytics
from pas.report import measures as m
from tests.report.test_report import days

D = days(8, date(2025, 3, 3))  # Mon 3 .. Wed 12 March 2025


def test_a_drawdown_episode_runs_from_the_peak_to_the_first_day_back_at_it() -> None:
    # wealth: 1.1, 0.55, 0.66, 1.32 (back above 1.1), 1.188, 1.1286, 1.1286, 1.32
    returns = [0.1, -0.5, 0.2, 1.0, -0.1, -0.05, 0.0, 0.1696]
    worst, second = m.worst_drawdowns(D, returns)
    assert worst == m.Drawdown(start=D[0], trough=D[1], recovery=D[3], depth=pytest.approx(-0.5), length=3)
    # from the peak 1.32 on D[3] down to 1.1286 on D[5] (the equal D[6] is not lower), back on D[7]
    assert (second.start, second.trough, second.recovery) == (D[3], D[5], D[7])
    assert second.depth == pytest.approx(1.1286 / 1.32 - 1) and second.length == 4


def test_a_loss_on_the_first_day_starts_before_it_and_an_open_episode_has_no_recovery() -> None:
    (only,) = m.worst_drawdowns(D[:3], [-0.1, 0.05, -0.1])
    assert only.start is None and only.trough == D[2] and only.recovery is None
    assert only.depth == pytest.approx(0.9 * 1.05 * 0.9 - 1)
    assert only.length == 3  # from wealth 1 before D[0] to the last day, D[2]
    # the deepest episode matches pas.analytics' max drawdown (same wealth-1 start)
    assert only.depth == pytest.approx(float(analytics.max_drawdown(np.array([-0.1, 0.05, -0.1]))))  # type: ignore[arg-type]


def test_worst_drawdowns_are_the_deepest_first_and_at_most_five() -> None:
    # seven falls of 1%..7%, each followed by a rise just past the peak
    returns = [r for k in range(1, 8) for r in (-0.01 * k, 1 / (1 - 0.01 * k) - 1 + 1e-9)]
    found = m.worst_drawdowns(days(14), returns)
    assert [round(e.depth, 6) for e in found] == [-0.07, -0.06, -0.05, -0.04, -0.03]
    assert m.worst_drawdowns(D[:2], [0.01, 0.02]) == []


def test_rolling_volatility_and_beta_are_the_analytics_statistics_of_each_window() -> None:
    rng = np.random.default_rng(7)
    bench = rng.normal(0, 0.01, 80)
    returns = 0.5 * bench + rng.normal(0, 0.005, 80)
    vol = m.rolling_volatility(list(returns))
    beta = m.rolling_beta(list(returns), list(bench))
    assert all(math.isnan(v) for v in vol[: m.ROLLING_WINDOW - 1] + beta[: m.ROLLING_WINDOW - 1])
    for end in (m.ROLLING_WINDOW, 80):
        window = slice(end - m.ROLLING_WINDOW, end)
        assert vol[end - 1] == pytest.approx(float(analytics.annual_volatility(returns[window])), rel=1e-12)  # type: ignore[arg-type]
        expected = float(analytics.beta(returns[window], bench[window]))  # type: ignore[arg-type]
        assert beta[end - 1] == pytest.approx(expected, rel=1e-10)


def test_rolling_beta_skips_days_without_a_benchmark_and_needs_enough_of_them() -> None:
    rng = np.random.default_rng(3)
    bench = rng.normal(0, 0.01, m.ROLLING_WINDOW)
    returns = 2 * bench
    gappy = bench.copy()
    gappy[::2] = np.nan  # 31 benchmark days left: still enough
    assert m.rolling_beta(list(returns), list(gappy))[-1] == pytest.approx(2.0)
    gappy[: m.ROLLING_WINDOW - m.MIN_BETA_DAYS + 1] = np.nan  # one too few
    assert math.isnan(m.rolling_beta(list(returns), list(gappy))[-1])
    assert math.isnan(m.rolling_beta(list(returns), [0.001] * m.ROLLING_WINDOW)[-1])  # a flat benchmark


def test_yearly_and_cumulative_returns_compound_the_days() -> None:
    ds = [date(2024, 12, 30), date(2024, 12, 31), date(2025, 1, 2)]
    assert m.yearly_returns(ds, [0.1, 0.1, -0.5]) == {2024: pytest.approx(0.21), 2025: pytest.approx(-0.5)}
    assert m.cumulative_return([0.1, 0.1, -0.5]) == pytest.approx(1.21 * 0.5 - 1)


@pytest.mark.parametrize(
    ("first", "last", "partial"),
    [
        # New Year's Day is a holiday: a series from 2 January misses no trading day
        (date(2025, 1, 2), date(2025, 12, 31), set()),
        (date(2025, 1, 3), date(2025, 12, 31), {(2025, 1)}),
        (date(2025, 1, 2), date(2025, 12, 30), {(2025, 12)}),
        # 31 May 2025 is a Saturday: a series to Friday the 30th ends with the month
        (date(2025, 5, 14), date(2025, 5, 30), {(2025, 5)}),
        (date(2025, 5, 1), date(2025, 5, 30), set()),
    ],
)
def test_partial_months_miss_a_trading_day_of_the_month(
    first: date, last: date, partial: set[tuple[int, int]]
) -> None:
    assert m.partial_months([first, last]) == partial


def test_partial_years_start_after_the_first_or_end_before_the_last_trading_day() -> None:
    assert m.partial_years([date(2024, 1, 2), date(2025, 12, 31)]) == set()
    assert m.partial_years([date(2024, 3, 1), date(2025, 6, 30)]) == {2024, 2025}
    assert m.partial_years([]) == set()
