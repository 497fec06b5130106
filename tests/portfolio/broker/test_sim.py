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


def test_its_quote_carries_the_spread_around_the_close_and_a_limit_order_fills_at_the_costs(
    store: Store,
) -> None:
    store.upsert_prices([Price("AAA", date(2026, 1, 2), D(100))])
    sim = SimBroker(store, spread_bps=D(20), slippage_bps=D(5), commission_per_share=D("0.01"))
    quote = sim.latest_quotes(["AAA"])["AAA"]
    assert (quote.bid, quote.ask, quote.midpoint) == (D("99.9"), D("100.1"), D(100))
    # A marketable limit (the collar's, 10% above the midpoint) fills at the cost model's price.
    buy = sim.submit_order(OrderRequest("AAA", Side.BUY, D(10), "c1", limit_price=D(110)))
    assert buy.filled_avg_price == D("100.15")  # half the spread (10 bps) + 5 bps of slippage
    assert [f.commission for f in sim.fills()] == [D("0.1")]


# -- limit orders (issue 12): filled only at or better than the limit, as Alpaca's ------------
MONDAY = date(2026, 1, 5)  # the clock fixture's day, a trading day


def test_a_limit_buy_below_the_price_stays_open_then_expires_with_its_day(
    store: Store, clock: FakeClock
) -> None:
    store.upsert_prices([Price("AAA", MONDAY, D(100))])
    sim = SimBroker(store)
    order = sim.submit_order(OrderRequest("AAA", Side.BUY, D(3), "c1", limit_price=D("99.50")))
    assert (order.status, order.filled_qty, order.limit_price) == (OrderStatus.ACCEPTED, D(0), D("99.50"))
    clock.advance(3600)
    assert sim.get_order(order.id).status is OrderStatus.ACCEPTED  # still its session
    clock.advance(24 * 3600)
    store.upsert_prices([Price("AAA", MONDAY.replace(day=6), D(99))])  # met now, but too late
    expired = sim.get_order(order.id)
    assert (expired.status, expired.filled_qty) == (OrderStatus.EXPIRED, D(0))
    assert sim.fills() == [] and sim.positions() == []


def test_a_limit_buy_at_or_above_the_price_fills_at_the_price_not_the_limit(store: Store) -> None:
    store.upsert_prices([Price("AAA", MONDAY, D(100))])
    sim = SimBroker(store, slippage_bps=D(10))
    order = sim.submit_order(OrderRequest("AAA", Side.BUY, D(2), "c1", limit_price=D(105)))
    assert (order.status, order.filled_avg_price) == (OrderStatus.FILLED, D("100.1"))
    at_limit = sim.submit_order(OrderRequest("AAA", Side.SELL, D(1), "c2", limit_price=D("99.9")))
    assert (at_limit.status, at_limit.filled_avg_price) == (OrderStatus.FILLED, D("99.9"))


def test_slippage_beyond_the_limit_leaves_a_marketable_limit_unfilled(store: Store) -> None:
    # The collar's limit is the quote ± PRICE_COLLAR; a fill worse than that is not made.
    store.upsert_prices([Price("AAA", MONDAY, D(100))])
    sim = SimBroker(store, slippage_bps=D(300))
    order = sim.submit_order(OrderRequest("AAA", Side.BUY, D(1), "c1", limit_price=D(102)))
    assert order.status is OrderStatus.ACCEPTED
    market = sim.submit_order(OrderRequest("AAA", Side.BUY, D(1), "c2"))
    assert (market.status, market.filled_avg_price) == (OrderStatus.FILLED, D(103))


def test_a_good_till_canceled_limit_waits_for_its_price(store: Store, clock: FakeClock) -> None:
    store.upsert_prices([Price("AAA", MONDAY, D(100))])
    sim = SimBroker(store)
    order = sim.submit_order(
        OrderRequest("AAA", Side.SELL, D(1), "c1", time_in_force="gtc", limit_price=D(110))
    )
    clock.advance(2 * 24 * 3600)
    assert sim.get_order(order.id).status is OrderStatus.ACCEPTED
    store.upsert_prices([Price("AAA", MONDAY.replace(day=7), D(111))])
    filled = sim.get_order(order.id)
    assert (filled.status, filled.filled_avg_price, filled.time_in_force) == (
        OrderStatus.FILLED,
        D(111),
        "gtc",
    )


def test_a_day_limit_sent_while_closed_lives_through_the_next_session(store: Store, clock: FakeClock) -> None:
    clock.now = clock.now.replace(day=10)  # Saturday
    store.upsert_prices([Price("AAA", MONDAY, D(100))])
    sim = SimBroker(store)
    order = sim.submit_order(OrderRequest("AAA", Side.BUY, D(1), "c1", limit_price=D(90)))
    clock.now = clock.now.replace(day=12)  # Monday: its session
    assert sim.get_order(order.id).status is OrderStatus.ACCEPTED
    clock.now = clock.now.replace(day=13)
    assert sim.get_order(order.id).status is OrderStatus.EXPIRED


def test_the_sim_refuses_a_time_in_force_it_does_not_model(store: Store) -> None:
    sim = SimBroker(store)
    with pytest.raises(InputError, match=r"^the sim broker takes time in force day or gtc, not 'ioc'$"):
        sim.submit_order(OrderRequest("AAA", Side.BUY, D(1), "c1", time_in_force="ioc", limit_price=D(1)))
