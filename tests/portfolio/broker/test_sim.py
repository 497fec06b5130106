"""The Sim broker: fills at stored prices with slippage and commission, state in the store."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from pas.domain.broker import OrderRequest, OrderStatus
from pas.errors import InputError, PasError
from pas.models import Price, Side
from pas.portfolio.broker.sim import SimBroker
from pas.store.base import Store
from tests.conftest import FakeClock

D = Decimal


def test_fills_at_the_stored_close_moved_against_the_trader(store: Store, clock: FakeClock) -> None:
    store.upsert_prices([Price("AAA", date(2026, 1, 2), D(100)), Price("AAA", date(2026, 1, 9), D(999))])
    sim = SimBroker(store, slippage_bps=D(10), commission=D("1.5"), cash=D(10_000))
    buy = sim.submit_order(OrderRequest("AAA", Side.BUY, D(10), "c1"))
    assert (buy.status, buy.filled_qty, buy.filled_avg_price) == (OrderStatus.FILLED, D(10), D("100.1"))
    sell = sim.submit_order(OrderRequest("AAA", Side.SELL, D(4), "c2"))
    assert sell.filled_avg_price == D("99.9")  # the close of Jan 9 is in the future on Jan 5
    assert [p.qty for p in sim.positions()] == [D(6)]
    account = sim.account()
    assert account.cash == D(10_000) - D(1001) - D("1.5") + D("399.6") - D("1.5")
    assert [f.commission for f in sim.fills()] == [D("1.5"), D("1.5")]
    assert sim.order_by_client_id("c2") == sell
    assert sim.order_by_client_id("nope") is None


def test_a_reused_client_order_id_is_refused(store: Store) -> None:
    store.upsert_prices([Price("AAA", date(2026, 1, 2), D(100))])
    sim = SimBroker(store)
    sim.submit_order(OrderRequest("AAA", Side.BUY, D(1), "c1"))
    with pytest.raises(PasError, match=r"^client_order_id must be unique$"):
        sim.submit_order(OrderRequest("AAA", Side.BUY, D(1), "c1"))
    assert len(sim.list_orders("all")) == 1


def test_orders_wait_while_closed_and_without_a_price(store: Store, clock: FakeClock) -> None:
    clock.now = clock.now.replace(day=10)  # Saturday
    store.upsert_prices([Price("AAA", date(2026, 1, 2), D(100))])
    sim = SimBroker(store)
    assert not sim.clock().is_open and sim.clock().next_open.date() == date(2026, 1, 12)
    order = sim.submit_order(OrderRequest("AAA", Side.BUY, D(1), "c1"))
    nothing = sim.submit_order(OrderRequest("ZZZ", Side.BUY, D(1), "c2"))
    assert order.status is OrderStatus.ACCEPTED and len(sim.list_orders("open")) == 2
    clock.now = clock.now.replace(day=12)
    assert sim.get_order(order.id).status is OrderStatus.FILLED
    assert sim.get_order(nothing.id).status is OrderStatus.ACCEPTED
    sim.cancel_order(nothing.id)
    assert sim.list_orders("open") == []
    with pytest.raises(InputError, match="is canceled and cannot be canceled"):
        sim.cancel_order(nothing.id)


def test_whole_shares_only_when_not_fractionable_and_bars_from_stored_closes(store: Store) -> None:
    store.upsert_prices([Price("AAA", date(2026, 1, 2), D(100)), Price("AAA", date(2026, 1, 5), D(101))])
    sim = SimBroker(store, fractionable=False)
    with pytest.raises(InputError, match="AAA is not fractionable; order whole shares"):
        sim.submit_order(OrderRequest("AAA", Side.BUY, D("0.5"), "c1"))
    assert [(b.day, b.close) for b in sim.daily_bars(["AAA"], date(2026, 1, 1))] == [
        (date(2026, 1, 2), D(100)),
        (date(2026, 1, 5), D(101)),
    ]
    assert sim.latest_prices(["AAA", "ZZZ"]) == {"AAA": D(101)}
