"""Contract of the simulated broker's book, on every backend."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

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


def _fill(n: int, symbol: str, side: Side, qty: str, price: str, commission: str = "0") -> BrokerFill:
    return BrokerFill(
        f"f{n}",
        f"o{n}",
        symbol,
        side,
        Decimal(qty),
        Decimal(price),
        T0 + timedelta(seconds=n),
        Decimal(commission),
    )


def test_sim_totals_are_exact_for_fractional_shares_at_nano_prices(store: Store) -> None:
    # Fractional quantities at prices with nano-dollar digits: every digit of the cost counts
    # (10⁻¹⁸ dollars), the same on every backend whoever sums it.
    fills = [
        _fill(1, "AAA", Side.BUY, "123.456789012", "187.123456789", "0.35"),
        _fill(2, "AAA", Side.SELL, "23.000000001", "190.999999999", "0.000000001"),
        _fill(3, "BBB", Side.BUY, "0.999999999", "0.000000001"),
        _fill(4, "BBB", Side.SELL, "0.999999999", "99999.999999999"),
        _fill(5, "CCC", Side.BUY, "7", "12.5"),
    ]
    for f in fills:
        store.sim_add_fill(f)
    spent = sum(
        ((f.qty * f.price if f.side is Side.BUY else -f.qty * f.price) + f.commission for f in fills),
        Decimal(0),
    )
    qty, cost = store.sim_totals()
    assert qty == {"AAA": Decimal("100.456789011"), "BBB": Decimal(0), "CCC": Decimal(7)}
    assert cost == spent


def test_sim_totals_stay_exact_past_64_bit_sums(store: Store) -> None:
    # Two fills of five billion shares at $1.999999999: each nano-unit product and their
    # sum overflow 64-bit integers. The answer is still exact (or the store says so).
    fills = [_fill(n, "BIG", Side.BUY, "5000000000.5", "1.999999999") for n in (1, 2)]
    for f in fills:
        store.sim_add_fill(f)
    assert store.sim_totals() == (
        {"BIG": Decimal(10_000_000_001)},
        2 * Decimal("5000000000.5") * Decimal("1.999999999"),
    )


def test_sqlite_finds_open_sim_orders_through_their_partial_index(tmp_path: Path) -> None:
    # SQLite uses a partial index only when the query repeats its condition word for word;
    # both must name exactly the terminal statuses.
    from pas.store.sqlite import SqliteStore
    from pas.store.sqlite.sim import OPEN_SIM_ORDER

    terminal = sorted(s.value for s in OrderStatus if s.terminal)
    assert f"status NOT IN ({', '.join(repr(s) for s in terminal)})" == OPEN_SIM_ORDER
    with SqliteStore(tmp_path / "pas.db") as store:
        (index,) = store._db.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'sim_orders_open'"
        ).fetchone()
        traced: list[str] = []
        store._db.set_trace_callback(traced.append)
        store.sim_orders(open_only=True)
        store._db.set_trace_callback(None)
        (plan,) = [str(store._db.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()) for sql in traced]
    assert index.split("WHERE")[1].strip() == OPEN_SIM_ORDER
    assert "sim_orders_open" in plan


def test_sim_orders_keep_their_limit_price_and_time_in_force(store: Store) -> None:
    limit = Order(
        "o1", "c1", "AAA", Side.BUY, Decimal(2), Decimal(0), None, OrderStatus.ACCEPTED, T0,
        limit_price=Decimal("10.25"), time_in_force="gtc",
    )  # fmt: skip
    market = Order("o2", "c2", "AAA", Side.SELL, Decimal(1), Decimal(0), None, OrderStatus.ACCEPTED, T0)
    assert store.sim_add_order(limit) and store.sim_add_order(market)
    store.sim_save_order(replace(limit, status=OrderStatus.EXPIRED))
    assert store.sim_orders(order_id="o1") == [replace(limit, status=OrderStatus.EXPIRED)]
    assert store.sim_orders(order_id="o2") == [market]
    assert (market.limit_price, market.time_in_force) == (None, "day")


def test_an_open_order_without_a_submission_time_sorts_last(store: Store) -> None:
    # Order.submitted_at is optional; the memory store once compared None's naive stand-in
    # with the aware times of the others and raised TypeError.
    store.sim_add_order(Order("o1", "c1", "AAA", Side.BUY, Decimal(1), Decimal(0), None, OrderStatus.NEW, T0))
    store.sim_add_order(Order("o2", "c2", "AAA", Side.BUY, Decimal(1), Decimal(0), None, OrderStatus.NEW))
    assert [o.id for o in store.sim_orders(open_only=True)] == ["o1", "o2"]
    assert [o.id for o in store.sim_orders()] == ["o1", "o2"]
