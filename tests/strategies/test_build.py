"""Building weights from the store: point-in-time loading and the staleness refusal, on
every backend."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from pas.errors import InputError, StaleDataError
from pas.models import Portfolio, Schedule
from pas.records import Record, natural_key
from pas.store.base import Store
from pas.strategies.build import as_of_time, build_weights
from tests.conftest import FakeClock


def award(ticker: str, amount: str, public: datetime) -> Record:
    identity = {"ticker": ticker, "amount": amount, "at": public.isoformat()}
    return Record("contracts", natural_key("contracts", identity), ticker, public.date(), public, identity)


def portfolio(strategy: str = "gov_contracts", **params: object) -> Portfolio:
    return Portfolio("gov", strategy, Schedule.DAILY, datetime(2026, 1, 1, tzinfo=UTC), params=params)


def test_build_reads_only_what_was_public_by_the_as_of_time(store: Store, clock: FakeClock) -> None:
    now = clock.now
    store.upsert_records(
        "contracts",
        [
            award("AAA", "300", now - timedelta(days=2)),
            award("BBB", "100", now - timedelta(days=1)),
            award("CCC", "900", now + timedelta(hours=1)),  # not public yet
        ],
    )
    built = build_weights(store, portfolio(max_weight=1.0, min_names=1), now, max_stale_days=10)
    assert built.weights == {"AAA": 0.75, "BBB": 0.25}
    assert [(u.name, u.records, u.newest) for u in built.datasets] == [
        ("contracts", 2, now - timedelta(days=1))
    ]
    earlier = build_weights(
        store, portfolio(max_weight=1.0, min_names=1), now - timedelta(days=1, hours=1), max_stale_days=10
    )
    assert earlier.weights == {"AAA": 1.0}
    assert built.weight_set(now).source == "build"


def test_build_refuses_empty_and_stale_data(store: Store, clock: FakeClock) -> None:
    with pytest.raises(StaleDataError) as info:
        build_weights(store, portfolio(), clock.now, max_stale_days=10)
    assert str(info.value) == "the contracts dataset is empty; run `pas scrape contracts` first"
    store.upsert_records("contracts", [award("AAA", "300", datetime(2025, 12, 20, tzinfo=UTC))])
    with pytest.raises(StaleDataError) as info:
        build_weights(store, portfolio(), clock.now, max_stale_days=10)
    assert str(info.value) == (
        "the newest contracts record public by 2026-01-05 is from 2025-12-20, more than 10 days old; "
        "run `pas scrape contracts` (or raise BUILD_MAX_STALE_DAYS)"
    )
    assert build_weights(store, portfolio(), clock.now, max_stale_days=20).weights == {"AAA": 0.2}
    with pytest.raises(
        StaleDataError, match=r"^no contracts record was public in the 31 days before 2025-11-01"
    ):
        build_weights(store, portfolio(), datetime(2025, 11, 1, tzinfo=UTC), max_stale_days=10)


def test_manual_portfolios_and_bad_params_are_refused(store: Store, clock: FakeClock) -> None:
    with pytest.raises(InputError, match="has hand-set weights"):
        build_weights(store, portfolio("manual"), clock.now, max_stale_days=10)
    with pytest.raises(InputError, match="gov_contracts has no parameter 'x'"):
        build_weights(store, portfolio(x=1), clock.now, max_stale_days=10)


def test_as_of_is_the_end_of_the_day_or_now() -> None:
    now = datetime(2026, 1, 5, 15, tzinfo=UTC)
    assert as_of_time(None, now) == now
    # The end of the day in New York: 05:00 UTC the next day in winter, 04:00 in summer.
    assert as_of_time(date(2026, 1, 2), now) == datetime(2026, 1, 3, 4, 59, 59, 999999, tzinfo=UTC)
    assert as_of_time(date(2025, 7, 2), now) == datetime(2025, 7, 3, 3, 59, 59, 999999, tzinfo=UTC)
    assert as_of_time(date(2026, 1, 5), now) == now


def test_lobbying_may_go_a_quarter_without_a_filing(store: Store, clock: FakeClock) -> None:
    # LD-2 reports are quarterly: 60 quiet days is current for lobbying, stale for contracts.
    filed = clock.now - timedelta(days=60)
    identity = {"ticker": "AAA", "amount": "1", "client": "A"}
    lobby = Record("lobbying", natural_key("lobbying", identity), "AAA", filed.date(), filed, identity)
    store.upsert_records("lobbying", [lobby])
    from pas.strategies import get_strategy
    from pas.strategies.build import load_data

    strategy = get_strategy("lobbying_growth")
    data, uses = load_data(store, strategy, {"top_n": 10, "min_spend": 0.0}, clock.now, max_stale_days=10)
    assert uses[0].newest == filed and len(data["lobbying"]) == 1
    old = clock.now - timedelta(days=96)
    store.upsert_records("lobbying", [Record("lobbying", "k2", "BBB", old.date(), old, identity)])
    with pytest.raises(StaleDataError, match="more than 95 days old"):
        load_data(store, strategy, {}, clock.now + timedelta(days=40), max_stale_days=10)
