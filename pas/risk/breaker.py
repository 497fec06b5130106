"""The account's circuit breaker: stop trading after a large drawdown or daily loss.

Rules (see the README's "Risk" section):

- Every observation of account equity raises the **high-water mark** (HWM) when it is
  higher. The HWM only ever rises; nothing lowers it except an explicit, recorded
  ``pas risk reset --rebase-high-water-mark``.
- It **trips** when equity is more than ``max_drawdown`` below the HWM, or more than
  ``max_daily_loss`` below the last equity recorded on an earlier market (New York) day.
  Limits compare strictly: a loss of exactly the limit does not trip. A limit of 0 is off.
- Once tripped it stays tripped, keeping the first reason and time, until reset.
- A reset clears the trip and makes the equity at the reset the reference of the day's
  loss (the loss so far is acknowledged); the HWM stays unless rebased.
- An observation older than the latest one (a back-filled day) can only raise the HWM.

Equity is the broker's account equity, observed by ``pas rebalance`` / ``pas build``
before any order is sent and by ``pas risk status --update`` (scheduled daily after the
close). Every trip and reset leaves a
run record. :func:`check_breaker` is pure; :func:`observe_equity` and :func:`reset_breaker`
read-modify-write the stored state with the store's compare-and-swap, so two processes
observing at once never lose an update (the HWM cannot fall by a race).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from pas.config import DEFAULT_BREAKER_MAX_DAILY_LOSS, DEFAULT_BREAKER_MAX_DRAWDOWN
from pas.errors import InputError, RefusedError, StoreError
from pas.models import BreakerState, RunStatus
from pas.runs import start_new_run
from pas.schedule import market_day
from pas.store.base import Store

# Compare-and-swap attempts before giving up (each loses only to another writer's success).
MAX_ATTEMPTS = 20
TRIP_COMMAND = "risk trip"
RESET_COMMAND = "risk reset"


@dataclass(frozen=True)
class BreakerLimits:
    """Fractions of equity (0.2 is 20%); 0 turns a rule off."""

    max_drawdown: Decimal = DEFAULT_BREAKER_MAX_DRAWDOWN
    max_daily_loss: Decimal = DEFAULT_BREAKER_MAX_DAILY_LOSS


def _limit(value: Decimal) -> str:
    return f"{(value * 100).normalize():f}%"


def _pct(value: Decimal) -> str:
    return f"{value * 100:.1f}%"


def check_breaker(
    state: BreakerState, equity: Decimal, when: datetime, limits: BreakerLimits
) -> BreakerState:
    """The breaker after observing account ``equity`` (dollars) at ``when`` (pure).

    Returns:
        The new state (same ``version``: saving it is the caller's job).
    """
    hwm, hwm_at = state.high_water_mark, state.hwm_at
    if hwm is None or equity > hwm:
        hwm, hwm_at = equity, when
    if state.last_equity_at is not None and when < state.last_equity_at:
        return replace(state, high_water_mark=hwm, hwm_at=hwm_at)
    prev, prev_at = state.prev_equity, state.prev_equity_at
    if state.last_equity_at is not None and market_day(when) > market_day(state.last_equity_at):
        prev, prev_at = state.last_equity, state.last_equity_at
    new = replace(
        state,
        high_water_mark=hwm,
        hwm_at=hwm_at,
        last_equity=equity,
        last_equity_at=when,
        prev_equity=prev,
        prev_equity_at=prev_at,
    )
    if state.tripped:
        return new
    reason = ""
    if limits.max_drawdown > 0 and hwm > 0:
        drawdown = (hwm - equity) / hwm
        if drawdown > limits.max_drawdown:
            reason = (
                f"account equity fell {_pct(drawdown)} below its high-water mark ${hwm:,.2f} "
                f"(BREAKER_MAX_DRAWDOWN {_limit(limits.max_drawdown)})"
            )
    if not reason and limits.max_daily_loss > 0 and prev is not None and prev > 0 and prev_at is not None:
        loss = (prev - equity) / prev
        if loss > limits.max_daily_loss:
            reason = (
                f"account equity fell {_pct(loss)} in one day, from ${prev:,.2f} on "
                f"{market_day(prev_at):%Y-%m-%d} to ${equity:,.2f} "
                f"(BREAKER_MAX_DAILY_LOSS {_limit(limits.max_daily_loss)})"
            )
    if reason:
        return replace(new, tripped=True, reason=reason, since=when)
    return new


def refusal_message(state: BreakerState) -> str:
    """Why trading is refused, and how to inspect and clear it."""
    since = "" if state.since is None else f" since {state.since:%Y-%m-%d %H:%M} UTC"
    return (
        f"circuit breaker tripped{since}: {state.reason}; inspect with `pas risk status`, "
        "clear with `pas risk reset --reason TEXT`"
    )


def require_untripped(state: BreakerState) -> None:
    """Raises RefusedError (exit 3) when the breaker is tripped."""
    if state.tripped:
        raise RefusedError(refusal_message(state))


def observe_equity(store: Store, equity: Decimal, when: datetime, limits: BreakerLimits) -> BreakerState:
    """Records an observation of account equity and updates the stored breaker.

    The hook for every place that learns the account's equity from the broker: trading
    calls it before sending orders, and ``pas risk status --update`` (scheduled after the
    close) calls it once a day. Only the broker's account equity is ever observed: the sum
    of the portfolios' ledger equities is a different quantity (the account may hold cash
    no portfolio is allocated), and mixing the two in one high-water mark would trip the
    breaker on no loss at all. A trip is recorded as a run (command ``risk trip``, status
    ``refused``).

    Returns:
        The saved state (check ``tripped``).
    """
    for _ in range(MAX_ATTEMPTS):
        old = store.breaker_state()
        new = check_breaker(old, equity, when, limits)
        if store.save_breaker_state(new):
            if new.tripped and not old.tripped:
                _record(store, TRIP_COMMAND, RunStatus.REFUSED, refusal_message(new), _trip_details(new))
            return replace(new, version=old.version + 1)
    raise StoreError("the circuit breaker state kept changing under this process; run again")


def reset_breaker(
    store: Store, reason: str, when: datetime, *, rebase: bool = False
) -> tuple[BreakerState, BreakerState]:
    """Clears a trip (and, with ``rebase``, sets the HWM to the last observed equity).

    The caller records the run (``pas risk reset`` does, with the reason).

    Returns:
        The state before and after.

    Raises:
        InputError: the reason is empty, or ``rebase`` without any equity observed.
    """
    text = " ".join(reason.split())
    if not text:
        raise InputError("a reset needs a reason: pas risk reset --reason TEXT")
    for _ in range(MAX_ATTEMPTS):
        old = store.breaker_state()
        new = replace(
            old,
            tripped=False,
            reason="",
            since=None,
            reset_at=when,
            reset_reason=text,
            prev_equity=old.last_equity if old.last_equity is not None else old.prev_equity,
            prev_equity_at=old.last_equity_at if old.last_equity_at is not None else old.prev_equity_at,
        )
        if rebase:
            if old.last_equity is None:
                raise InputError(
                    "no account equity was observed yet; nothing to rebase the high-water mark to"
                )
            new = replace(new, high_water_mark=old.last_equity, hwm_at=old.last_equity_at)
        if store.save_breaker_state(new):
            return old, replace(new, version=old.version + 1)
    raise StoreError("the circuit breaker state kept changing under this process; run again")


def _trip_details(state: BreakerState) -> dict[str, str]:
    return {
        "equity": f"{state.last_equity:f}",
        "high_water_mark": f"{state.high_water_mark:f}",
        "reason": state.reason,
    }


def _record(store: Store, command: str, status: RunStatus, error: str, details: dict[str, str]) -> None:
    run = start_new_run(store, command, store.clock(), details)
    store.finish_run(run.run_id, status, error, details)
