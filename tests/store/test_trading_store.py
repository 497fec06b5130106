"""Contract tests of the trading additions to the store, on every backend."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from pas.models import (
    CashFlow,
    Fill,
    Portfolio,
    Schedule,
    Side,
    TradeOrder,
    TradeOrderStatus,
    TradeRun,
    TradeRunStatus,
)
from pas.portfolio.broker.base import BrokerFill, Order, OrderStatus
from pas.store.base import Store

T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


def _order(coid: str, seq: int, status: TradeOrderStatus = TradeOrderStatus.PLANNED) -> TradeOrder:
    return TradeOrder(
        run_id="r1",
        client_order_id=coid,
        seq=seq,
        symbol="AAA",
        side=Side.BUY,
        qty=5 * 10**9,
        ref_price=Decimal("10.5"),
        fractionable=True,
        shares=(("a", 3 * 10**9), ("b", 2 * 10**9)),
        crosses=(("c", -(10**9)), ("a", 10**9)),
        status=status,
    )


def test_cash_flows_are_idempotent_ordered_and_removed_with_the_portfolio(store: Store) -> None:
    store.add_portfolio(Portfolio("a", "manual", Schedule.WEEKLY, T0))
    assert store.add_cash_flow(CashFlow("a", Decimal("1000.5"), T0 + timedelta(1), "f2"))
    assert store.add_cash_flow(CashFlow("a", Decimal(-200), T0, "f1", note="out"))
    assert not store.add_cash_flow(CashFlow("a", Decimal(-200), T0, "f1"))
    flows = store.cash_flows("a")
    assert [(f.flow_id, f.amount, f.note) for f in flows] == [
        ("f1", Decimal(-200), "out"),
        ("f2", Decimal("1000.5"), ""),
    ]
    store.remove_portfolio("a")
    assert store.cash_flows("a") == []


def test_trade_runs_and_orders_round_trip_and_update(store: Store) -> None:
    assert store.unfinished_trade_run() is None
    run = TradeRun("r1", T0, "sim", ("a", "b"))
    store.create_trade_run(run, [_order("c2", 1), _order("c1", 0)])
    assert store.unfinished_trade_run() == run
    assert [o.client_order_id for o in store.trade_orders("r1")] == ["c1", "c2"]
    assert store.trade_orders("r1")[0] == _order("c1", 0)
    assert store.trade_orders(unsettled=True) == []
    store.update_trade_order("c1", TradeOrderStatus.SENDING)
    store.update_trade_order("c1", TradeOrderStatus.SENT, broker_order_id="B1", broker_status="new")
    store.update_trade_order("c2", TradeOrderStatus.FAILED, error="rejected")
    (sent,) = store.trade_orders(unsettled=True)
    assert (sent.client_order_id, sent.broker_order_id, sent.broker_status) == ("c1", "B1", "new")
    store.update_trade_order("c1", TradeOrderStatus.SETTLED, broker_status="filled")
    assert store.trade_orders("r1")[0].broker_order_id == "B1"  # kept when not given
    assert store.trade_orders("r1")[1].error == "rejected"
    store.set_trade_run_status("r1", TradeRunStatus.SUBMITTED)
    assert store.unfinished_trade_run() is None


def test_fills_of_order_span_portfolios(store: Store) -> None:
    def fill(pid: str, fid: str, order: str) -> Fill:
        return Fill(pid, "AAA", Side.BUY, Decimal(1), Decimal(10), T0, fid, broker_order_id=order)

    store.append_fills([fill("a", "x/a", "B1"), fill("b", "x/b", "B1"), fill("a", "y/a", "B2")])
    assert sorted(f.fill_id for f in store.fills_of_order("B1")) == ["x/a", "x/b"]


def test_lock_owner(store: Store) -> None:
    assert store.lock_owner("trading") is None
    assert store.acquire_lock("trading", "h:1", 60)
    assert store.lock_owner("trading") == "h:1"
    store.release_lock("trading", "h:1")
    assert store.lock_owner("trading") is None


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


def test_the_sync_cursor_is_per_broker_and_moves(store: Store) -> None:
    assert store.sync_cursor("alpaca") is None
    store.save_sync_cursor("alpaca", T0 + timedelta(microseconds=7), "f1")
    store.save_sync_cursor("sim", T0, "s1")
    assert store.sync_cursor("alpaca") == (T0 + timedelta(microseconds=7), "f1")
    store.save_sync_cursor("alpaca", T0 + timedelta(hours=1), "f2")
    assert store.sync_cursor("alpaca") == (T0 + timedelta(hours=1), "f2")
    assert store.sync_cursor("sim") == (T0, "s1")


@pytest.mark.not_over_the_wire(
    "patches store._db.trade_runs.insert_one, which real pymongo defeats (each attribute access "
    "makes a new Collection); being rewritten to inject the fault at a seam the store owns"
)
def test_a_run_is_never_stored_without_its_orders(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """A crash between the two writes (Mongo) leaves orphan planned orders, never a run;
    the next run sweeps them. SQLite writes both in one transaction."""
    from pas.store.mongo import MongoStore

    if isinstance(store, MongoStore):

        def crash(*args: object, **kw: object) -> None:
            raise KeyboardInterrupt  # stands in for the process dying

        monkeypatch.setattr(store._db.trade_runs, "insert_one", crash)
        with pytest.raises(KeyboardInterrupt):
            store.create_trade_run(TradeRun("r0", T0, "sim", ("a",)), [replace(_order("c0", 0), run_id="r0")])
        monkeypatch.undo()
        assert store.unfinished_trade_run() is None
        assert [o.client_order_id for o in store.trade_orders("r0")] == ["c0"]
    store.create_trade_run(TradeRun("r1", T0, "sim", ("a",)), [_order("c1", 0)])
    assert store.trade_orders("r0") == []
    assert [o.client_order_id for o in store.trade_orders()] == ["c1"]
    assert store.unfinished_trade_run() == TradeRun("r1", T0, "sim", ("a",))


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
