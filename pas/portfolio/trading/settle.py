"""Settling orders: broker order states and fills to ledger fills, split between portfolios."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from pas.domain.broker import BrokerFill, Order
from pas.errors import PasError
from pas.models import (
    UNITS_PER_ONE,
    Fill,
    TradeOrder,
    TradeOrderStatus,
    from_units,
    parse_ts,
    to_units,
)
from pas.portfolio.broker.base import Broker
from pas.portfolio.netting import split_units
from pas.store.base import Store

# Fills are fetched from this long before a run started (clock skew with the broker).
FILL_LOOKBACK = timedelta(minutes=5)


def run_started(run_id: str) -> datetime:
    """When a run started, read from its id (see :func:`pas.models.new_run_id`)."""
    stamp = run_id[:12]
    return parse_ts(f"20{stamp[0:2]}-{stamp[2:4]}-{stamp[4:6]}T{stamp[6:8]}:{stamp[8:10]}:{stamp[10:12]}Z")


def split_fill(order: TradeOrder, fill: BrokerFill, received: dict[str, int]) -> list[Fill]:
    """A broker fill of a netted order as ledger fills, one per portfolio with a share.

    Splits by what each portfolio still lacks of its ask (see :mod:`pas.portfolio.netting`);
    ``received`` (nano units per portfolio) is updated.
    """
    units = to_units(fill.qty)
    remaining = {p: ask - received.get(p, 0) for p, ask in order.shares}
    lot = UNITS_PER_ONE if not order.fractionable else 1
    if units % lot or any(r % lot for r in remaining.values()):
        lot = 1
    if units > sum(remaining.values()):
        raise PasError(
            f"broker fill {fill.id} of {fill.qty} {fill.symbol} is more than order "
            f"{order.client_order_id} has left; check the order at the broker"
        )
    shares = split_units(units, remaining, lot)
    commission = to_units(fill.commission)
    fees = split_units(commission, shares) if commission else {}
    out = []
    for portfolio, share in sorted(shares.items()):
        if not share:
            continue
        received[portfolio] = received.get(portfolio, 0) + share
        out.append(
            Fill(
                portfolio=portfolio,
                symbol=fill.symbol,
                side=fill.side,
                qty=from_units(share),
                price=fill.price,
                ts=fill.ts,
                fill_id=f"{fill.id}/{portfolio}",
                broker_order_id=fill.order_id,
                client_order_id=order.client_order_id,
                run_id=order.run_id,
                commission=from_units(fees.get(portfolio, 0)),
            )
        )
    return out


def record_order_fills(store: Store, order: TradeOrder, fills: Iterable[BrokerFill]) -> tuple[int, int]:
    """Records the fills of one broker order the ledger lacks.

    Returns:
        (new ledger fills, nano units of the order now recorded).
    """
    existing = store.fills_of_order(order.broker_order_id)
    seen = {f.fill_id.rsplit("/", 1)[0] for f in existing}
    received: dict[str, int] = defaultdict(int)
    for f in existing:
        received[f.portfolio] += to_units(f.qty)
    new = 0
    for fill in sorted(fills, key=lambda f: (f.ts, f.id)):
        if fill.id in seen:
            continue
        new += store.append_fills(split_fill(order, fill, received))
        seen.add(fill.id)
    return new, sum(received.values())


def settle(
    store: Store,
    broker: Broker,
    orders: Sequence[TradeOrder],
    fills: Sequence[BrokerFill] | None = None,
) -> tuple[int, list[TradeOrder]]:
    """Refreshes sent orders and records their new fills.

    An order is settled once the broker reports it terminal and all of its filled
    quantity is in the ledger.

    Args:
        fills: broker fills already fetched from before the earliest order's run started
            (default: fetched here).

    Returns:
        (new ledger fills, the orders still unsettled).
    """
    sent = [
        o
        for o in orders
        if o.status in (TradeOrderStatus.SENT, TradeOrderStatus.SENDING) and o.broker_order_id
    ]
    if not sent:
        return 0, []
    since = min(run_started(o.run_id) for o in sent) - FILL_LOOKBACK
    states = _order_states(broker, sent, since)
    by_order: dict[str, list[BrokerFill]] = defaultdict(list)
    for fill in broker.fills(after=since) if fills is None else fills:
        by_order[fill.order_id].append(fill)
    new = 0
    pending = []
    for o in sent:
        state = states[o.broker_order_id]
        added, recorded = record_order_fills(store, o, by_order.get(o.broker_order_id, []))
        new += added
        done = state.status.terminal and recorded >= to_units(state.filled_qty)
        status = TradeOrderStatus.SETTLED if done else TradeOrderStatus.SENT
        store.update_trade_order(o.client_order_id, status, broker_status=state.status_name)
        if not done:
            pending.append(replace(o, status=status, broker_status=state.status_name))
    return new, pending


def _order_states(broker: Broker, sent: Sequence[TradeOrder], since: datetime) -> dict[str, Order]:
    """The broker's view of sent orders: one list request for several, one get per order
    the list missed (it holds at most one page of the newest orders)."""
    states: dict[str, Order] = {}
    if len(sent) > 1:
        wanted = {o.broker_order_id for o in sent}
        states = {o.id: o for o in broker.list_orders("all", after=since) if o.id in wanted}
    for o in sent:
        if o.broker_order_id not in states:
            states[o.broker_order_id] = broker.get_order(o.broker_order_id)
    return states
