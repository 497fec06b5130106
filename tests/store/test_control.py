"""Contract of control state: runs, locks, the HTTP cache, rate slots and the breaker, on every backend."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from pas.models import BreakerState, Run, RunStatus
from pas.store.base import Store
from tests.conftest import FakeClock
from tests.store.builders import T0


def test_runs_record_outcome_newest_first(store: Store, clock: FakeClock) -> None:
    store.start_run(Run("r1", "portfolio add", clock(), RunStatus.RUNNING, details={"portfolio": "a"}))
    clock.advance(2)
    store.finish_run("r1", RunStatus.OK, details={"portfolio": "a", "new": 3})
    clock.advance(1)
    store.start_run(Run("r2", "trades import", clock(), RunStatus.RUNNING))
    store.finish_run("r2", RunStatus.FAILED, "bad file")
    runs = store.recent_runs()
    assert [r.run_id for r in runs] == ["r2", "r1"]
    assert runs[1].status is RunStatus.OK and runs[1].seconds == 2.0
    assert dict(runs[1].details) == {"portfolio": "a", "new": 3}
    assert runs[0].error == "bad file"
    assert len(store.recent_runs(limit=1)) == 1


def test_a_run_whose_id_is_recorded_is_refused_and_the_first_run_kept(store: Store, clock: FakeClock) -> None:
    # Two runs in one second draw one id once in 65,536 pairs; the second must be told.
    assert store.start_run(Run("r1", "rebalance", clock(), RunStatus.RUNNING, details={"n": 1}))
    assert not store.start_run(Run("r1", "scrape", clock(), RunStatus.RUNNING, details={"n": 2}))
    [kept] = store.recent_runs()
    assert (kept.command, dict(kept.details)) == ("rebalance", {"n": 1})


def test_run_details_keep_their_structure(store: Store, clock: FakeClock) -> None:
    # MongoDB once gave nested details back as their str(): "{'new': 3, ...}".
    details = {
        "dataset": "lobbying",
        "counts": {"new": 3, "a.b": 1, "$where": 2},
        "tickers": ["AAPL", "BRK.B"],
        "ok": True,
        "missing": None,
    }
    store.start_run(Run("r1", "scrape", clock(), RunStatus.RUNNING, details=details))
    assert store.recent_runs()[0].details == details
    store.finish_run("r1", RunStatus.OK, details={**details, "seconds": 1.5})
    assert store.recent_runs()[0].details == {**details, "seconds": 1.5}


def test_lock_is_exclusive_until_released(store: Store) -> None:
    assert store.acquire_lock("trading", "p1", ttl_sec=60)
    assert not store.acquire_lock("trading", "p2", ttl_sec=60)
    assert store.acquire_lock("trading", "p1", ttl_sec=60), "the holder may renew its lease"
    assert not store.release_lock("trading", "p2"), "only the holder releases"
    assert store.release_lock("trading", "p1")
    assert store.acquire_lock("trading", "p2", ttl_sec=60)
    assert store.acquire_lock("other", "p1", ttl_sec=60), "locks are independent by name"


def test_stale_lock_expires(store: Store, clock: FakeClock) -> None:
    assert store.acquire_lock("trading", "dead", ttl_sec=30)
    clock.advance(29)
    assert not store.acquire_lock("trading", "p2", ttl_sec=30)
    clock.advance(2)
    assert store.acquire_lock("trading", "p2", ttl_sec=30)
    assert not store.release_lock("trading", "dead")


def test_a_lock_grant_names_the_holder_it_took_over_or_was_refused_by(store: Store, clock: FakeClock) -> None:
    """The answer says whose lease expired (a takeover) or whose live lease refused it,
    read in the same atomic step as the grant, so a message can name that host and pid."""
    first = store.acquire_lock("trading", "host-a:41", ttl_sec=30)
    assert first and first.holder is None, "a free lock is taken from nobody"
    expiry = clock() + timedelta(seconds=30)
    refused = store.acquire_lock("trading", "host-b:7", ttl_sec=30)
    assert not refused and (refused.holder, refused.expires_at) == ("host-a:41", expiry)
    clock.advance(1)
    renewed = store.acquire_lock("trading", "host-a:41", ttl_sec=30)
    assert renewed and renewed.holder is None, "renewing one's own lease takes it from nobody"
    clock.advance(31)
    taken = store.acquire_lock("trading", "host-b:7", ttl_sec=30)
    assert taken and taken.holder == "host-a:41", "taken over from the holder whose lease expired"
    assert taken.expires_at == expiry + timedelta(seconds=1)
    assert store.lock_owner("trading") == "host-b:7"


def test_lock_owner(store: Store) -> None:
    assert store.lock_owner("trading") is None
    assert store.acquire_lock("trading", "h:1", 60)
    assert store.lock_owner("trading") == "h:1"
    store.release_lock("trading", "h:1")
    assert store.lock_owner("trading") is None


def test_cache_expires(store: Store) -> None:
    store.cache_put("k", '{"a": 1}', T0 + timedelta(hours=6))
    assert store.cache_get("k", T0) == '{"a": 1}'
    assert store.cache_get("k", T0 + timedelta(hours=6)) is None
    assert store.cache_get("other", T0) is None
    store.cache_put("k", "[]", T0 + timedelta(hours=12))
    assert store.cache_get("k", T0 + timedelta(hours=7)) == "[]"


def test_a_body_too_large_for_one_document_is_never_an_error(store: Store) -> None:
    """MongoDB holds at most 16 MiB in one document (pymongo raised DocumentTooLarge, which
    escaped the store's error wrapper and killed the scrape): such a body is not cached
    there, and SQLite keeps it."""
    big = '{"rows": "' + "x" * (17 * 1024 * 1024) + '"}'
    store.cache_put("k", '{"small": 1}', T0 + timedelta(hours=6))
    store.cache_put("k", big, T0 + timedelta(hours=6))
    assert store.cache_get("k", T0) in (big, None), "never the older answer"
    assert store.cache_get("k", T0) == (None if store.backend == "mongo" else big)
    store.cache_put("small", "[]", T0 + timedelta(hours=6))
    assert store.cache_get("small", T0) == "[]"


def test_reserve_slot_spaces_requests(store: Store) -> None:
    assert store.reserve_slot("quiver", 1.5, T0) == T0
    assert store.reserve_slot("quiver", 1.5, T0) == T0 + timedelta(seconds=1.5)
    assert store.reserve_slot("quiver", 1.5, T0 + timedelta(seconds=0.2)) == T0 + timedelta(seconds=3)
    later = T0 + timedelta(seconds=60)
    assert store.reserve_slot("quiver", 1.5, later) == later
    assert store.reserve_slot("other", 1.5, T0) == T0
    assert store.reserve_slot("zero", 0, T0) == T0
    assert store.reserve_slot("zero", 0, T0) == T0


def test_breaker_state_round_trips_with_compare_and_swap(store: Store) -> None:
    assert store.breaker_state() == BreakerState()
    when = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
    first = BreakerState(
        high_water_mark=Decimal("125000.5"), hwm_at=when, last_equity=Decimal(120000), last_equity_at=when
    )
    assert store.save_breaker_state(first)
    assert store.breaker_state() == replace(first, version=1)
    # A writer that read version 0 lost the race: nothing is written.
    assert not store.save_breaker_state(replace(first, high_water_mark=Decimal(1)))
    tripped = replace(store.breaker_state(), tripped=True, reason="why", since=when, reset_reason="")
    assert store.save_breaker_state(tripped)
    assert not store.save_breaker_state(tripped)  # stale version 1
    assert store.breaker_state() == replace(tripped, version=2)
