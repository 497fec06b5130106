"""Contract of performance: daily metrics, trailing statistics and applied allocations, on every backend."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from pas.models import AppliedAllocation, DailyMetric, TrailingStats
from pas.store.base import Store
from tests.conftest import FakeClock

T = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


def test_daily_metrics_round_trip_replace_and_range(store: Store) -> None:
    store.put_daily_metrics(
        [
            DailyMetric("a", date(2026, 1, 6), 0.01, Decimal("10100.5"), 0.002, "update"),
            DailyMetric("a", date(2026, 1, 5), -0.02),
            DailyMetric("b", date(2026, 1, 5), 0.5),
        ]
    )
    assert [m.day for m in store.daily_metrics("a")] == [date(2026, 1, 5), date(2026, 1, 6)]
    assert store.daily_metrics("a")[1] == DailyMetric(
        "a", date(2026, 1, 6), 0.01, Decimal("10100.5"), 0.002, "update"
    )
    store.put_daily_metrics([DailyMetric("a", date(2026, 1, 5), 0.03, source="post")])
    assert store.daily_metrics("a", end=date(2026, 1, 5)) == [DailyMetric("a", date(2026, 1, 5), 0.03)]
    assert store.daily_metrics("a", start=date(2026, 1, 6))[0].ret == 0.01
    assert store.metric_days("a") == {date(2026, 1, 5), date(2026, 1, 6)}
    assert store.metric_days("nobody") == set()


def test_trailing_stats_are_read_as_of_a_day_without_look_ahead(store: Store) -> None:
    store.put_trailing_stats(
        [
            TrailingStats("a", date(2026, 1, 5), "63", {"sharpe_ratio": 1.5, "alpha": math.nan}),
            TrailingStats("a", date(2026, 1, 7), "63", {"sharpe_ratio": 2.0}),
            TrailingStats("a", date(2026, 1, 7), "inception", {"sharpe_ratio": 0.5}),
        ]
    )
    latest = store.trailing_stats("a", "63")
    assert latest is not None and (latest.as_of, latest.values["sharpe_ratio"]) == (date(2026, 1, 7), 2.0)
    earlier = store.trailing_stats("a", "63", as_of=date(2026, 1, 6))
    assert earlier is not None and earlier.as_of == date(2026, 1, 5)
    assert math.isnan(earlier.values["alpha"]), "NaN survives the store"
    assert store.trailing_stats("a", "63", as_of=date(2026, 1, 4)) is None
    store.put_trailing_stats([TrailingStats("a", date(2026, 1, 7), "63", {"sharpe_ratio": 3.0})])
    again = store.trailing_stats("a", "63")
    assert again is not None and again.values == {"sharpe_ratio": 3.0}
    assert store.delete_trailing_stats_from("a", date(2026, 1, 6)) == 2
    remaining = store.trailing_stats("a", "63")
    assert remaining is not None and remaining.as_of == date(2026, 1, 5)


def test_allocations_round_trip_newest_first_and_as_of(store: Store) -> None:
    assert store.latest_allocation() is None and store.allocation_history() == []
    first = AppliedAllocation(date(2026, 1, 2), T, "score", {"b": 0.3, "a": 0.7}, 0.8, 0.1)
    second = AppliedAllocation(date(2026, 1, 9), T, "equal", {"a": 0.5, "b": 0.5})
    same_day = AppliedAllocation(date(2026, 1, 9), T, "risk_parity", {"a": 0.4, "b": 0.6}, 1.0, 0.12)
    for a in (first, second, same_day):
        store.put_allocation(a)
    # Newest by as-of day; on the same day the one applied last wins.
    assert store.allocation_history() == [same_day, second, first]
    assert store.allocation_history(limit=1) == [same_day]
    assert store.latest_allocation() == same_day
    assert store.latest_allocation(as_of=date(2026, 1, 8)) == first, "no look-ahead"
    assert store.latest_allocation(as_of=date(2026, 1, 1)) is None
    assert second.ex_ante_vol is None and store.allocation_history()[1].ex_ante_vol is None


def test_a_crash_between_statistics_and_metrics_is_completed_by_the_next_update(
    store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Statistics are written before the metrics they come from: a crash in between leaves
    the days missing, and the next update computes them and their statistics again."""
    from pas.metrics import update_metrics
    from pas.models import CashFlow, Portfolio, Price, Schedule

    days = [date(2026, 1, 5) + timedelta(days=n) for n in (0, 1, 2, 3, 4, 7, 8)]
    store.upsert_prices([Price("SPY", d, Decimal(100 + n)) for n, d in enumerate(days)])
    store.add_portfolio(Portfolio("p", "manual", Schedule.DAILY, T, Decimal(1000)))
    store.add_cash_flow(CashFlow("p", Decimal(500), T, "cf1", "fund"))
    clock.advance(30 * 86400)
    written: list[str] = []

    def dying_on_the_second(name: str, real: Any) -> Any:
        def write(rows: object) -> int:
            if written and written[-1] != name:
                raise KeyboardInterrupt  # the process dies between the two writes
            written.append(name)
            return int(real(rows))

        return write

    for name in ("put_daily_metrics", "put_trailing_stats"):
        monkeypatch.setattr(store, name, dying_on_the_second(name, getattr(store, name)))
    with pytest.raises(KeyboardInterrupt):
        update_metrics(store, store.get_portfolio("p"), "SPY")  # type: ignore[arg-type]
    monkeypatch.undo()
    done = update_metrics(store, store.get_portfolio("p"), "SPY")  # type: ignore[arg-type]
    assert done.written == len(days) - 1
    last = store.trailing_stats("p", "inception")
    assert last is not None and last.as_of == days[-1] and last.values["days"] == len(days) - 1
