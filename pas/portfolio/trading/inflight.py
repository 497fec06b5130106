"""Orders in flight: finding the ones whose fate is unknown, and what a dead run left.

An order is ``unknown`` when its request may or may not have reached the broker (a
timeout, a 5xx, a lost answer, a look-up that failed), and ``sending`` when a process
died around its request. Both are only ever looked up by client order id, never sent
again: the look-up either finds the order (it becomes ``sent`` and settles like any
other), or proves it absent, or leaves it unknown. Proven absent — and so ``failed`` —
takes two answers: the look-up says "not found" after :data:`CREATION_WINDOW` has passed
since the request (Alpaca creates orders asynchronously), and the list of every order
since the run started does not hold it either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from pas.domain.broker import BrokerFill, Order, OrderStatus
from pas.errors import PasError
from pas.models import UNSETTLED_ORDER_STATUSES, TradeOrder, TradeOrderStatus, TradeRun, TradeRunStatus
from pas.portfolio.broker.base import Broker
from pas.portfolio.trading.settle import run_started, settle
from pas.store.base import Store

# How long after its request an order may still be invisible to look-ups. Alpaca accepts
# an order before it is routed and shows it within moments; two minutes is far beyond
# what it documents or has been seen to take, so "not found" after it means not there.
CREATION_WINDOW = timedelta(minutes=2)
# A run that died while sending is resumed (its in-flight orders settled in the same
# invocation, with a note naming it) only while it is younger than this; an older one is
# closed as abandoned. Either way its unsent orders are dropped, never sent: the new plan
# is made from today's targets, for the portfolios asked for.
RESUME_MAX_AGE = timedelta(minutes=15)


def in_doubt(order: TradeOrder) -> bool:
    """True for an order pas must look up by client order id: unknown, or being sent when
    its process stopped (no broker order id recorded)."""
    return order.status is TradeOrderStatus.UNKNOWN or (
        order.status is TradeOrderStatus.SENDING and not order.broker_order_id
    )


def resolve(store: Store, broker: Broker, orders: Sequence[TradeOrder]) -> list[TradeOrder]:
    """Looks up each order in doubt by client order id and records what was learnt.

    Returns:
        The orders again, as now stored: ``sent`` (found), ``failed`` (proven absent) or
        ``unknown`` (the look-up failed, or "not found" does not prove absence yet).
    """
    listed: dict[str, dict[str, Order] | None] = {}
    out = []
    for order in orders:
        found, why = _look_up(broker, order)
        if found is None and why is None:
            found, why = _in_list(store, broker, order, listed)
        if found is not None:
            status = found.status_name
            store.update_trade_order(
                order.client_order_id, TradeOrderStatus.SENT, broker_order_id=found.id, broker_status=status
            )
            out.append(
                replace(order, status=TradeOrderStatus.SENT, broker_order_id=found.id, broker_status=status)
            )
            continue
        status = TradeOrderStatus.FAILED if why is None else TradeOrderStatus.UNKNOWN
        error = why or _absent(order)
        store.update_trade_order(order.client_order_id, status, error=error)
        out.append(replace(order, status=status, error=error))
    return out


def _look_up(broker: Broker, order: TradeOrder) -> tuple[Order | None, str | None]:
    """(the order, None), (None, None) for "not found", or (None, why it is still unknown)."""
    try:
        found = broker.order_by_client_id(order.client_order_id)
    except PasError as exc:
        return None, f"its fate is unknown: looking it up failed ({exc})"
    return found, None


def _in_list(
    store: Store, broker: Broker, order: TradeOrder, listed: dict[str, dict[str, Order] | None]
) -> tuple[Order | None, str | None]:
    """After a "not found": the order from the list since its run started, or whether its
    absence is proven (None) or not yet (why)."""
    sent = order.sent_at or run_started(order.run_id)
    if store.clock() < sent + CREATION_WINDOW:
        return None, (
            f"its fate is unknown: the broker does not show it yet, and may for up to "
            f"{CREATION_WINDOW.total_seconds():g} s after it was sent"
        )
    if order.run_id not in listed:
        try:
            since = run_started(order.run_id)
            listed[order.run_id] = {o.client_order_id: o for o in broker.list_orders("all", after=since)}
        except PasError:
            listed[order.run_id] = None
    orders = listed[order.run_id]
    if orders is None:
        return None, "its fate is unknown: the look-up found nothing and listing the orders failed"
    return orders.get(order.client_order_id), None


def _absent(order: TradeOrder) -> str:
    return (
        f"not placed: the broker has no order {order.client_order_id}, neither by its id more than "
        f"{CREATION_WINDOW.total_seconds():g} s after it was sent nor among the orders since its run started"
    )


def settle_in_flight(
    store: Store, broker: Broker, orders: Sequence[TradeOrder], fills: Sequence[BrokerFill] | None = None
) -> tuple[int, list[TradeOrder]]:
    """Resolves the orders in doubt, then settles every order the broker has.

    Args:
        fills: broker fills already fetched (see :func:`~pas.portfolio.trading.settle.settle`).

    Returns:
        (new ledger fills, the orders still unsettled: open at the broker or unknown).
    """
    doubtful = [o for o in orders if in_doubt(o)]
    resolved = {o.client_order_id: o for o in resolve(store, broker, doubtful)}
    current = [resolved.get(o.client_order_id, o) for o in orders]
    recorded, still_open = settle(store, broker, current, fills)
    unknown = [o for o in current if o.status is TradeOrderStatus.UNKNOWN]
    return recorded, still_open + unknown


def finish_runs(store: Store, checked: Sequence[TradeOrder], pending: Sequence[TradeOrder]) -> None:
    """Marks done every run of ``checked`` with no order left in ``pending``."""
    for run_id in sorted({o.run_id for o in checked} - {o.run_id for o in pending}):
        if not any(o.status in UNSETTLED_ORDER_STATUSES for o in store.trade_orders(run_id)):
            store.set_trade_run_status(run_id, TradeRunStatus.DONE)


def close_unfinished(store: Store, run: TradeRun, now: datetime) -> str:
    """Stops a run that died while sending: drops its unsent orders, keeps its in-flight ones.

    Its ``sending`` orders stay in doubt (looked up by the caller, never re-sent); its
    ``planned`` ones become ``dropped``. The run is marked submitted, so its in-flight
    orders settle like those of any earlier run.

    Returns:
        A note for the user naming the run and what became of its orders.
    """
    orders = store.trade_orders(run.run_id)
    dropped = [o for o in orders if o.status is TradeOrderStatus.PLANNED]
    for o in dropped:
        store.update_trade_order(o.client_order_id, TradeOrderStatus.DROPPED)
    store.set_trade_run_status(run.run_id, TradeRunStatus.SUBMITTED)
    in_flight = sum(1 for o in orders if o.status in UNSETTLED_ORDER_STATUSES)
    fate = f"{in_flight} order(s) in flight are looked up and settled, {len(dropped)} unsent one(s) dropped"
    if now - run.created_at > RESUME_MAX_AGE:
        return (
            f"run {run.run_id} stopped more than {RESUME_MAX_AGE.total_seconds() / 60:g} minutes ago "
            f"and is not continued: {fate}; the plan is made afresh"
        )
    return (
        f"resumed unfinished run {run.run_id} ({', '.join(run.portfolios)}): {fate}; the plan is made afresh"
    )


def status_warnings(orders: Sequence[TradeOrder]) -> list[str]:
    """A warning for each order whose broker status pas does not recognise (kept open)."""
    known = {s.value for s in OrderStatus}
    return [
        f"warning: the broker reports status {o.broker_status!r} for order {o.client_order_id}, which "
        "pas does not know; it is treated as open (update pas)"
        for o in orders
        if o.broker_status and o.broker_status not in known
    ]
