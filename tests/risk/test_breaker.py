"""The circuit breaker: trips, the high-water mark, resets, persistence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pas.errors import InputError, RefusedError
from pas.models import BreakerState, RunStatus
from pas.risk.breaker import BreakerLimits, check_breaker, observe_equity, require_untripped, reset_breaker
from pas.store.base import Store
from pas.store.sqlite import SqliteStore
from tests.conftest import FakeClock

T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)  # a Monday, 10:00 in New York
LIMITS = BreakerLimits(max_drawdown=Decimal("0.2"), max_daily_loss=Decimal("0.05"))


def test_trips_on_drawdown_from_the_high_water_mark() -> None:
    drawdown_only = BreakerLimits(max_drawdown=Decimal("0.2"), max_daily_loss=Decimal(0))
    s = check_breaker(BreakerState(), Decimal(125_000), T0, drawdown_only)
    assert (s.high_water_mark, s.tripped) == (125_000, False)
    s = check_breaker(s, Decimal(100_000), T0 + timedelta(days=7), drawdown_only)  # exactly 20%: not more
    assert not s.tripped
    later = T0 + timedelta(days=14)
    s = check_breaker(s, Decimal("96125"), later, drawdown_only)
    assert s.tripped and s.since == later
    with pytest.raises(RefusedError) as refused:
        require_untripped(s)
    assert str(refused.value) == (
        "circuit breaker tripped since 2026-01-19 15:00 UTC: account equity fell 23.1% below its "
        "high-water mark $125,000.00 (BREAKER_MAX_DRAWDOWN 20%); inspect with `pas risk status`, "
        "clear with `pas risk reset --reason TEXT`"
    )
    # Stays tripped with its first reason, whatever equity does next.
    again = check_breaker(s, Decimal(200_000), later + timedelta(days=1), drawdown_only)
    assert again.tripped and again.reason == s.reason and again.since == later
    assert again.high_water_mark == 200_000


def test_trips_on_a_one_day_loss_against_the_previous_days_equity() -> None:
    s = check_breaker(BreakerState(), Decimal(100_000), T0, LIMITS)
    s = check_breaker(s, Decimal(90_000), T0 + timedelta(hours=2), LIMITS)  # same day: no reference yet
    assert not s.tripped
    s = check_breaker(s, Decimal(85_000), T0 + timedelta(days=1), LIMITS)  # 5.6% below 90,000
    assert s.tripped
    assert s.reason == (
        "account equity fell 5.6% in one day, from $90,000.00 on 2026-01-05 to $85,000.00 "
        "(BREAKER_MAX_DAILY_LOSS 5%)"
    )


def test_limits_of_zero_are_off_and_old_observations_only_raise_the_hwm() -> None:
    off = BreakerLimits(Decimal(0), Decimal(0))
    s = check_breaker(BreakerState(), Decimal(100), T0, off)
    s = check_breaker(s, Decimal(1), T0 + timedelta(days=1), off)
    assert not s.tripped
    s = check_breaker(BreakerState(), Decimal(100), T0, LIMITS)
    back = check_breaker(s, Decimal(150), T0 - timedelta(days=3), LIMITS)
    assert back.high_water_mark == 150 and back.last_equity == 100 and not back.tripped


def test_hwm_survives_a_restart_and_a_reset(tmp_path: Path, clock: FakeClock) -> None:
    with SqliteStore(tmp_path / "pas.db", clock=clock) as store:
        observe_equity(store, Decimal(125_000), T0, LIMITS)
        tripped = observe_equity(store, Decimal(90_000), T0 + timedelta(days=1), LIMITS)
        assert tripped.tripped
    with SqliteStore(tmp_path / "pas.db", clock=clock) as store:  # a new process
        state = store.breaker_state()
        assert state.tripped and state.high_water_mark == 125_000
        runs = store.recent_runs()
        assert [(r.command, r.status) for r in runs] == [("risk trip", RunStatus.REFUSED)]
        assert runs[0].error.startswith("circuit breaker tripped since 2026-01-06 15:00 UTC: account equity")
        before, after = reset_breaker(store, "  reviewed:   fine ", T0 + timedelta(days=1, hours=1))
        assert before.tripped and not after.tripped
        assert (after.reset_reason, after.reset_at) == ("reviewed: fine", T0 + timedelta(days=1, hours=1))
        assert store.breaker_state().high_water_mark == 125_000
        # The reset made today's equity the day's reference: the same loss does not re-trip,
        # but the drawdown from the unchanged high-water mark does.
        assert observe_equity(store, Decimal(90_000), T0 + timedelta(days=1, hours=2), LIMITS).tripped
        _, rebased = reset_breaker(store, "new base", T0 + timedelta(days=1, hours=3), rebase=True)
        assert rebased.high_water_mark == 90_000
        assert not observe_equity(store, Decimal(89_000), T0 + timedelta(days=1, hours=4), LIMITS).tripped


def test_reset_needs_a_reason(store: Store) -> None:
    with pytest.raises(InputError, match=r"a reset needs a reason: pas risk reset --reason TEXT"):
        reset_breaker(store, "   ", T0)


def test_observe_equity_on_every_backend(store: Store) -> None:
    observe_equity(store, Decimal(100), T0, LIMITS)
    assert observe_equity(store, Decimal(79), T0 + timedelta(minutes=1), LIMITS).tripped
    assert store.breaker_state().version == 2


equities = st.lists(
    st.decimals(min_value=1, max_value=10**9, places=2, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=40,
)
steps = st.lists(st.integers(min_value=-3, max_value=72), min_size=40, max_size=40)


@given(equities, steps)
def test_hwm_is_monotone_for_any_equity_path(path: list[Decimal], hours: list[int]) -> None:
    # The HWM is the running maximum of observed equity: it may only rise, whatever the
    # order or times of the observations, so a drawdown is never measured from a lowered peak.
    state, when, seen = BreakerState(), T0, Decimal(0)
    for equity, step in zip(path, hours, strict=False):
        when += timedelta(hours=step)
        new = check_breaker(state, equity, when, LIMITS)
        assert new.high_water_mark is not None
        assert state.high_water_mark is None or new.high_water_mark >= state.high_water_mark
        seen = max(seen, equity)
        assert new.high_water_mark == seen
        state = new


@given(st.lists(st.integers(min_value=0, max_value=4_999), min_size=1, max_size=40))
def test_never_trips_while_equity_stays_within_limits(losses_bp: list[int]) -> None:
    # Equity kept less than 5% below its first (and highest) value is never more than 20%
    # below the HWM, and no day can lose 5% or more against any earlier value in that band,
    # so neither rule may trip: the breaker must not stop trading inside its limits.
    peak = Decimal(100_000)
    state = check_breaker(BreakerState(), peak, T0, LIMITS)
    for day, bp in enumerate(losses_bp, start=1):
        equity = peak * (1 - Decimal(bp) / 100_000)
        state = check_breaker(state, equity, T0 + timedelta(days=day), LIMITS)
        assert not state.tripped
