"""Contract of the simulated broker's book, on every backend."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from pas.domain.broker import BrokerFill, Order, OrderStatus
from pas.models import Side
from pas.store.base import Store
from tests.store.builders import T0


def test_sim_orders_reject_a_reused_client_order_id_and_fills_come_after_a_time(store: Store) -> None:
    order = Order("o1", "c1", "AAA", Side.BUY, Decimal(2), Decimal(0), None, OrderStatus.ACCEPTED, T0)
    assert store.sim_add_order(order)
    assert not store.sim_add_order(
        Order("o2", "c1", "AAA", Side.BUY, Decimal(1), Decimal(0), None, OrderStatus.NEW, T0)
    )
    filled = Order(
        "o1", "c1", "AAA", Side.BUY, Decimal(2), Decimal(2), Decimal("10.01"), OrderStatus.FILLED, T0
    )
    store.sim_save_order(filled)
    assert store.sim_orders() == [filled]
    f1 = BrokerFill("o1-1", "o1", "AAA", Side.BUY, Decimal(2), Decimal("10.01"), T0, Decimal("0.5"))
    f2 = BrokerFill("o3-1", "o3", "BBB", Side.SELL, Decimal(1), Decimal(3), T0 + timedelta(seconds=1))
    store.sim_add_fill(f1)
    store.sim_add_fill(f2)
    assert store.sim_fills() == [f1, f2]
    assert store.sim_fills(after=T0) == [f2]
    # Net shares per symbol and the exact dollars spent (buys − sells + commissions).
    assert store.sim_totals() == (
        {"AAA": Decimal(2), "BBB": Decimal(-1)},
        Decimal("20.02") - 3 + Decimal("0.5"),
    )


def test_sim_orders_filter_by_state_id_and_time(store: Store) -> None:
    def order(oid: str, status: OrderStatus, at: int) -> Order:
        return Order(
            oid, f"c-{oid}", "AAA", Side.BUY, Decimal(1), Decimal(0), None, status, T0 + timedelta(seconds=at)
        )

    placed = [
        order("o1", OrderStatus.FILLED, 0),
        order("o2", OrderStatus.ACCEPTED, 1),
        order("o3", OrderStatus.NEW, 2),
    ]
    for o in placed:
        store.sim_add_order(o)
    assert [o.id for o in store.sim_orders()] == ["o3", "o2", "o1"]
    assert [o.id for o in store.sim_orders(open_only=True)] == ["o3", "o2"]
    assert store.sim_orders(order_id="o2") == [placed[1]]
    assert store.sim_orders(client_order_id="c-o1") == [placed[0]]
    assert [o.id for o in store.sim_orders(after=T0)] == ["o3", "o2"]
    assert store.sim_orders(order_id="none") == []
    assert store.sim_totals() == ({}, Decimal(0))
