"""Run records: a new run never takes an id another run has (pas.runs)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from pas.errors import StoreError
from pas.models import RunStatus
from pas.risk.breaker import TRIP_COMMAND, BreakerLimits, observe_equity
from pas.runs import MAX_ID_DRAWS, recorded_run
from pas.store.base import Store
from tests.conftest import FakeClock


def _digits(monkeypatch: pytest.MonkeyPatch, drawn: Iterator[str]) -> None:
    """Makes the random digits of new run ids come from ``drawn``."""
    monkeypatch.setattr("secrets.token_hex", lambda _n: next(drawn))


def test_two_runs_in_one_second_that_draw_one_id_both_get_recorded(
    store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    _digits(monkeypatch, iter(["abcd", "abcd", "abce"]))
    with recorded_run(store, "rebalance") as first, recorded_run(store, "scrape") as second:
        assert first.run_id.endswith("abcd") and second.run_id.endswith("abce")
    runs = {r.run_id: r for r in store.recent_runs()}
    assert {r.command for r in runs.values()} == {"rebalance", "scrape"}
    assert runs[first.run_id].command == "rebalance", "the first run's record is left as it was"
    assert all(r.status is RunStatus.OK for r in runs.values())


def test_a_breaker_record_in_the_second_of_another_run_gets_its_own_id(
    store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    _digits(monkeypatch, iter(["0001", "0001", "0002"]))
    with recorded_run(store, "rebalance"):  # trading observes the account's equity
        observe_equity(store, Decimal(100_000), clock(), BreakerLimits())
        assert observe_equity(store, Decimal(50_000), clock(), BreakerLimits()).tripped
    assert sorted(r.command for r in store.recent_runs()) == ["rebalance", TRIP_COMMAND]


def test_a_store_that_calls_every_id_taken_is_reported(
    store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    _digits(monkeypatch, iter(["beef"] * (MAX_ID_DRAWS + 1)))
    blocked = pytest.raises(StoreError, match="run ids as already taken")
    with recorded_run(store, "rebalance"), blocked, recorded_run(store, "scrape"):
        pytest.fail("the body of a run that was never recorded ran")
