"""``pas sync``: recording fills that arrived after a run stopped waiting."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from pas.domain.broker import BrokerFill
from pas.models import TradeOrder, TradeOrderStatus
from pas.portfolio.broker.base import Broker
from pas.portfolio.broker.errors import BrokerError
from pas.portfolio.trading.inflight import finish_runs, settle_in_flight, status_warnings
from pas.portfolio.trading.settle import FILL_LOOKBACK, run_started, settle
from pas.store.base import Store

# `pas sync` re-reads fills this long before its cursor: a broker may stamp a fill that
# reaches it late with an earlier time; re-reading is free (fills are keyed by id).
SYNC_OVERLAP = timedelta(minutes=5)
NOT_FOUND = 404


@dataclass(frozen=True)
class ForeignFill:
    """A broker fill of an order pas did not place (e.g. one placed by hand)."""

    fill: BrokerFill
    client_order_id: str


@dataclass(frozen=True)
class SyncOutcome:
    """What a sync found."""

    checked: int
    fills_recorded: int
    still_open: int
    foreign: tuple[ForeignFill, ...] = ()
    unknown: int = 0  # orders whose fate is still unknown (they block new plans)
    warnings: tuple[str, ...] = ()


def sync_fills(store: Store, broker: Broker) -> SyncOutcome:
    """Pulls order states and the fills since the last sync; records what the ledger lacks.

    Fills are fetched from the sync cursor (the newest broker fill the previous sync saw)
    less :data:`SYNC_OVERLAP`, or from before the earliest unsettled order's run when that
    is older; recording is idempotent by fill id, so the overlap costs nothing but catches
    fills the broker stamped with a slightly earlier time. Fills of orders pas did not
    place are reported once (those newer than the cursor) and recorded into no portfolio.
    Without a cursor (the first sync) the look-back starts :data:`SYNC_OVERLAP` ago.
    """
    unsettled = store.trade_orders(unsettled=True, broker=broker.name)
    cursor = store.sync_cursor(broker.name)
    starts = [run_started(o.run_id) - FILL_LOOKBACK for o in unsettled]
    if cursor is not None:
        starts.append(cursor[0] - SYNC_OVERLAP)
    since = min(starts) if starts else store.clock() - SYNC_OVERLAP
    fills = broker.fills(after=since)
    new, pending = settle_in_flight(store, broker, unsettled, fills)
    unseen: set[str] = set()  # broker order ids of fills the broker does not show by id yet
    claimed = _claim_own_fills(store, broker, unsettled, fills, unseen)
    if claimed:
        added, _ = settle(store, broker, claimed, fills)
        new += added
        unsettled = [*unsettled, *claimed]
    finish_runs(store, unsettled, pending)
    foreign = _foreign_fills(store, broker, unsettled, fills, cursor, unseen)
    _advance_cursor(store, broker.name, fills, cursor, unseen)
    unknown = sum(1 for o in pending if o.status is TradeOrderStatus.UNKNOWN)
    warnings = (*status_warnings(pending), *_unseen_warnings(fills, unseen))
    return SyncOutcome(len(unsettled), new, len(pending) - unknown, foreign, unknown, warnings)


def _advance_cursor(
    store: Store,
    broker_name: str,
    fills: Sequence[BrokerFill],
    cursor: tuple[datetime, str] | None,
    unseen: set[str],
) -> None:
    """Moves the sync cursor to the newest fill read, but never past a fill whose order the
    broker did not show by its id: that fill is neither booked nor called foreign yet, and
    the next sync must read it again however many newer fills arrive meanwhile. The cursor
    is then the newest fill before it, or its own time with an empty fill id (which sorts
    before any fill of that time); it may move back, since re-reading fills is free."""
    keys = [(f.ts, f.id) for f in fills]
    held = min(((f.ts, f.id) for f in fills if f.order_id in unseen), default=None)
    if held is not None:
        before = [k for k in keys if k < held]
        target = max(before) if before else (held[0], "")
        if target != cursor:
            store.save_sync_cursor(broker_name, *target)
    elif keys and (cursor is None or max(keys) > cursor):
        store.save_sync_cursor(broker_name, *max(keys))


def _unseen_warnings(fills: Sequence[BrokerFill], unseen: set[str]) -> list[str]:
    waiting = [f for f in fills if f.order_id in unseen]
    if not waiting:
        return []
    return [
        f"{len(waiting)} fill(s) of {len(unseen)} order(s) the broker does not show by its id yet "
        "are neither booked nor called foreign; the next `pas sync` reads them again"
    ]


def _claim_own_fills(
    store: Store,
    broker: Broker,
    unsettled: Sequence[TradeOrder],
    fills: Sequence[BrokerFill],
    unseen: set[str],
) -> list[TradeOrder]:
    """pas's own orders behind fills no unsettled order accounts for, made ``sent`` again.

    A fill whose order carries the client order id of an order pas planned is booked to
    that order's portfolios, whatever pas had concluded about it (an order wrongly taken
    for failed, or settled before a late fill): it is never "foreign".
    """
    ours = {o.broker_order_id for o in unsettled}
    unknown_ids = {
        f.order_id for f in fills if f.order_id not in ours and not store.fills_of_order(f.order_id)
    }
    if not unknown_ids:
        return []
    planned = {o.client_order_id: o for o in store.trade_orders()}
    claimed = []
    for order_id in sorted(unknown_ids):
        coid = _client_order_id(broker, order_id)
        if coid is None:
            unseen.add(order_id)
            continue
        order = planned.get(coid)
        if order is None or order.status in (TradeOrderStatus.SENDING, TradeOrderStatus.SENT):
            continue
        store.update_trade_order(order.client_order_id, TradeOrderStatus.SENT, broker_order_id=order_id)
        claimed.append(replace(order, status=TradeOrderStatus.SENT, broker_order_id=order_id))
    return claimed


def _client_order_id(broker: Broker, order_id: str) -> str | None:
    """The client order id of the broker order behind a fill; None while the broker does
    not show that order by its id yet (Alpaca creates orders asynchronously; a look-up may
    lag what the fills list shows): its fill is then neither booked nor called foreign,
    and the sync cursor stays before it, so the next sync reads it and asks again."""
    try:
        return broker.get_order(order_id).client_order_id
    except BrokerError as exc:
        if exc.status == NOT_FOUND:
            return None
        raise


def _foreign_fills(
    store: Store,
    broker: Broker,
    unsettled: Sequence[TradeOrder],
    fills: Sequence[BrokerFill],
    cursor: tuple[datetime, str] | None,
    unseen: set[str],
) -> tuple[ForeignFill, ...]:
    ours = {o.broker_order_id for o in unsettled}
    mine = {o.client_order_id for o in unsettled}
    verdict: dict[str, str | None] = {}  # broker order id -> client order id when foreign
    out = []
    for fill in fills:
        if fill.order_id in ours or (cursor is not None and (fill.ts, fill.id) <= cursor):
            continue
        if fill.order_id not in verdict:
            # An order pas placed has its fills in a ledger once settled; one still being
            # sent (no broker id stored yet) is recognised by its client order id.
            if store.fills_of_order(fill.order_id):
                verdict[fill.order_id] = None
            else:
                coid = _client_order_id(broker, fill.order_id)
                if coid is None:
                    unseen.add(fill.order_id)
                verdict[fill.order_id] = None if coid is None or coid in mine else coid
        foreign_coid = verdict[fill.order_id]
        if foreign_coid is not None:
            out.append(ForeignFill(fill, foreign_coid))
    return tuple(out)
