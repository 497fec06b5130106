"""The workflows the commands and the backtest share, called as the library."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from pas.errors import LockHeldError, PasError, RefusedError
from pas.models import Portfolio, Run, RunStatus, Schedule, Side, TradeOrder, TradeOrderStatus
from pas.portfolio.broker.sim import SimBroker
from pas.portfolio.trading.lock import LOCK_NAME
from pas.portfolio.trading.run import RebalanceOutcome
from pas.store.base import Store
from pas.workflows import (
    BUILD_LOCK,
    BUILD_RUN,
    DUE_BUILD_RUN,
    TRADING_KEY,
    TRADING_RUN,
    Traded,
    build_lock,
    sync,
    untraded_builds,
)
from tests.conftest import FakeClock

ORDER = TradeOrder("r1", "pas-r1-net-AAA", 0, "AAA", Side.BUY, 10**9, Decimal(10), True, (("p", 10**9),))


def _traded(*orders: TradeOrder, refusal: str = "") -> Traded:
    return Traded(RebalanceOutcome("r1", [], list(orders)), refusal)


def test_a_run_that_did_all_it_should_is_no_failure() -> None:
    done = replace(ORDER, status=TradeOrderStatus.SETTLED, broker_status="filled")
    assert _traded(done).failure() is None


def test_a_breaker_refusal_of_a_dry_run_is_a_refusal() -> None:
    failure = _traded(refusal="circuit breaker tripped")
    assert isinstance(failure.failure(), RefusedError)


def test_a_failed_order_fails_the_run_and_names_the_symbol() -> None:
    failed = replace(ORDER, status=TradeOrderStatus.FAILED, error="insufficient buying power")
    failure = _traded(failed).failure()
    assert isinstance(failure, PasError) and not isinstance(failure, RefusedError)
    assert str(failure).startswith("1 order(s) failed (AAA: insufficient buying power)")


@pytest.mark.parametrize("state", ["canceled", "expired", "rejected"])
def test_an_order_the_broker_ended_unfilled_fails_the_run(state: str) -> None:
    ended = replace(ORDER, status=TradeOrderStatus.SETTLED, broker_status=state)
    assert f"(AAA {state})" in str(_traded(ended).failure())


def test_one_build_at_a_time(store: Store) -> None:
    with build_lock(store, "host:1"), pytest.raises(LockHeldError, match="build lock"):
        build_lock(store, "host:2").__enter__()
    assert store.acquire_lock(BUILD_LOCK, "host:3", 60), "the lock is released after the body"


def test_a_build_lock_taken_over_says_from_whom(store: Store, clock: FakeClock) -> None:
    with build_lock(store, "host:1") as free:
        assert free == ""
    assert store.acquire_lock(BUILD_LOCK, "host-a:4242", 60)
    clock.advance(61)
    with build_lock(store, "host-b:7") as taken_over:
        assert taken_over.startswith("took over the build lock from host-a:4242, whose lease expired at ")
        assert taken_over.endswith(" UTC and is presumed dead")


def test_sync_waits_for_no_trading_run_and_releases_its_lock(store: Store) -> None:
    assert store.acquire_lock(LOCK_NAME, "elsewhere:1", 60)
    with pytest.raises(LockHeldError):
        sync(store, SimBroker(store), fill_timeout_sec=60)
    store.release_lock(LOCK_NAME, "elsewhere:1")
    assert sync(store, SimBroker(store), fill_timeout_sec=60).checked == 0
    assert store.lock_owner(LOCK_NAME) is None


def test_a_sync_that_took_the_lock_over_says_from_whom(store: Store, clock: FakeClock) -> None:
    assert store.acquire_lock(LOCK_NAME, "host-a:4242", 60)
    clock.advance(61)
    outcome = sync(store, SimBroker(store), fill_timeout_sec=60, owner="host-b:7")
    assert outcome.warnings[0].startswith("took over the trading lock from host-a:4242, whose lease expired")


def _record(store: Store, command: str, status: RunStatus, **details: object) -> None:
    run_id = f"r{len(store.recent_runs(100))}"
    store.start_run(Run(run_id, command, store.clock(), RunStatus.RUNNING, details=details))
    store.finish_run(run_id, status, "", details)


def _portfolios(*ids: str) -> list[Portfolio]:
    return [Portfolio(i, "gov_contracts", Schedule.DAILY, datetime(2026, 1, 1, tzinfo=UTC)) for i in ids]


def test_a_build_locked_out_of_trading_leaves_its_portfolios_untraded(store: Store) -> None:
    _record(store, DUE_BUILD_RUN, RunStatus.LOCKED, built="a,b", **{TRADING_KEY: "a,b"})
    _record(store, TRADING_RUN, RunStatus.LOCKED, portfolios="a,b", dry_run=False)
    assert [p.id for p in untraded_builds(store, _portfolios("a", "b", "c"))] == ["a", "b"]


def test_a_later_trading_run_that_ran_covers_them_whatever_its_outcome(store: Store) -> None:
    _record(store, DUE_BUILD_RUN, RunStatus.LOCKED, built="a,b", **{TRADING_KEY: "a,b"})
    _record(store, TRADING_RUN, RunStatus.LOCKED, portfolios="a,b", dry_run=False)
    _record(store, TRADING_RUN, RunStatus.FAILED, portfolios="a", dry_run=False)
    _record(store, TRADING_RUN, RunStatus.OK, portfolios="b", dry_run=True)  # a dry run trades nothing
    assert [p.id for p in untraded_builds(store, _portfolios("a", "b"))] == ["b"]
    _record(store, BUILD_RUN, RunStatus.OK, built="b", **{TRADING_KEY: "b"})
    _record(store, TRADING_RUN, RunStatus.OK, portfolios="b", dry_run=False)
    assert untraded_builds(store, _portfolios("a", "b")) == []


def test_a_build_that_traded_leaves_nothing_untraded(store: Store) -> None:
    _record(store, BUILD_RUN, RunStatus.OK, built="a", trade=False)  # --no-trade: nothing to trade
    _record(store, DUE_BUILD_RUN, RunStatus.OK, built="b", **{TRADING_KEY: "b"})
    _record(store, TRADING_RUN, RunStatus.OK, portfolios="b", dry_run=False)
    assert untraded_builds(store, _portfolios("a", "b")) == []
