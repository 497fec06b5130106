"""The backtest's working store answers as SQLite does, whatever was written in what order.

The contract suite runs on it too (the ``memory`` backend of the ``store`` fixture); this
module drives it and a plain SQLite store with the same random writes, as a backtest
makes them (fills out of time order and repeated, cash flows, closes, the simulated
broker's orders and fills, metrics rewritten), and compares every answer it serves from
memory. Then it writes its results into an empty store once and compares again.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pas.domain.broker import BrokerFill, Order, OrderStatus
from pas.models import CashFlow, DailyMetric, Fill, Portfolio, Price, Schedule, Side
from pas.store.base import Store
from pas.store.memory import MemoryStore
from pas.store.sqlite import SqliteStore

T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
PORTFOLIOS = ("a", "b")
SYMBOLS = ("AAA", "BBB", "CCC")
STATUSES = (OrderStatus.ACCEPTED, OrderStatus.NEW, OrderStatus.FILLED, OrderStatus.CANCELED)

money = st.decimals(min_value=Decimal("0.000000001"), max_value=Decimal(5000), places=9)
fills = st.builds(
    lambda n, p, s, side, q, price, minute, fee: Fill(
        p, s, side, q, price, T0 + timedelta(minutes=minute), f"f{n}", commission=fee
    ),
    st.integers(0, 30),
    st.sampled_from(PORTFOLIOS),
    st.sampled_from(SYMBOLS),
    st.sampled_from(Side),
    money,
    money,
    st.integers(0, 50),
    st.decimals(min_value=Decimal(0), max_value=Decimal(2), places=9),
)
flows = st.builds(
    lambda n, p, amount, minute: CashFlow(p, amount, T0 + timedelta(minutes=minute), f"c{n}"),
    st.integers(0, 10),
    st.sampled_from(PORTFOLIOS),
    st.decimals(min_value=Decimal(-500), max_value=Decimal(5000), places=9).filter(bool),
    st.integers(0, 50),
)
prices = st.builds(
    lambda s, d, close: Price(s, date(2026, 1, 1) + timedelta(days=d), close),
    st.sampled_from(SYMBOLS),
    st.integers(0, 20),
    money,
)
orders = st.builds(
    lambda n, s, side, q, status, second: Order(
        f"o{n}", f"co{n}", s, side, q, Decimal(0), None, status, T0 + timedelta(seconds=second)
    ),
    st.integers(0, 15),
    st.sampled_from(SYMBOLS),
    st.sampled_from(Side),
    money,
    st.sampled_from(STATUSES),
    st.integers(0, 5),
)
sim_fills = st.builds(
    lambda n, s, side, q, price, fee: BrokerFill(f"s{n}", f"o{n}", s, side, q, price, T0, fee),
    st.integers(0, 1000),
    st.sampled_from(SYMBOLS),
    st.sampled_from(Side),
    money,
    money,
    st.decimals(min_value=Decimal(0), max_value=Decimal(2), places=9),
)
metrics = st.builds(
    lambda p, d, ret, equity: DailyMetric(
        p, date(2026, 1, 1) + timedelta(days=d), ret, equity, None, "update"
    ),
    st.sampled_from(PORTFOLIOS),
    st.integers(0, 20),
    st.floats(-0.5, 0.5),
    st.none() | money,
)
writes = st.lists(
    st.one_of(
        st.lists(fills, max_size=4).map(lambda batch: ("fills", batch)),
        flows.map(lambda f: ("flow", f)),
        st.lists(prices, max_size=6).map(lambda batch: ("prices", batch)),
        orders.map(lambda o: ("order", o)),
        st.tuples(orders, st.sampled_from(STATUSES)).map(lambda x: ("save", x)),
        sim_fills.map(lambda f: ("sim_fill", f)),
        st.lists(metrics, max_size=4).map(lambda batch: ("metrics", batch)),
    ),
    max_size=40,
)


def _write(store: Store, kind: str, value: object) -> None:
    if kind == "fills":
        store.append_fills(value)  # type: ignore[arg-type]
    elif kind == "flow":
        store.add_cash_flow(value)  # type: ignore[arg-type]
    elif kind == "prices":
        store.upsert_prices(value)  # type: ignore[arg-type]
    elif kind == "order":
        store.sim_add_order(value)  # type: ignore[arg-type]
    elif kind == "save":
        order, status = value  # type: ignore[misc]
        known = store.sim_orders(order_id=order.id)
        if known:
            store.sim_save_order(Order(**{**vars(known[0]), "status": status}))
    elif kind == "sim_fill":
        store.sim_add_fill(value)  # type: ignore[arg-type]
    else:
        store.put_daily_metrics(value)  # type: ignore[arg-type]


def _answers(store: Store) -> dict[str, object]:
    days = [None, *(date(2026, 1, 1) + timedelta(days=d) for d in (0, 3, 9, 25))]
    since = [None, T0, T0 + timedelta(minutes=20)]
    answers: dict[str, object] = {
        "sim_totals": store.sim_totals(),
        "open": store.sim_orders(open_only=True),
        "orders": store.sim_orders(),
        "latest": [store.latest_prices([*SYMBOLS, "NONE"], on_or_before=d) for d in days],
        "history": [store.price_history(SYMBOLS, d, e) for d in days for e in days],
    }
    for p in PORTFOLIOS:
        answers[f"fills {p}"] = [
            store.fills(p, since=t, symbol=s, limit=n)
            for t in since
            for s in (None, "AAA")
            for n in (None, 2)
        ]
        answers[f"ledger {p}"] = store.ledger(p)
        answers[f"holdings {p}"] = store.holdings(p)
        answers[f"flows {p}"] = store.cash_flows(p)
        answers[f"metrics {p}"] = [store.daily_metrics(p, d, e) for d in days for e in days]
        answers[f"days {p}"] = store.metric_days(p)
    return answers


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[Path, list[int]]]:
    yield tmp_path, [0]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(writes=writes)
def test_the_memory_store_answers_as_sqlite_after_any_writes(
    stores: tuple[Path, list[int]], writes: list[tuple[str, object]]
) -> None:
    folder, count = stores
    count[0] += 1
    memory, sqlite = MemoryStore(), SqliteStore(folder / f"{count[0]}.db")
    for p in (memory, sqlite):
        for pid in PORTFOLIOS:
            p.add_portfolio(Portfolio(pid, "manual", Schedule.WEEKLY, T0))
    for kind, value in writes:
        outcomes = []
        for s in (memory, sqlite):
            try:
                _write(s, kind, value)
                outcomes.append("ok")
            except Exception as exc:  # a refused batch must be refused by both, alike
                outcomes.append(type(exc).__name__)
        assert outcomes[0] == outcomes[1]
    assert _answers(memory) == _answers(sqlite)
    saved = SqliteStore(folder / f"{count[0]}-saved.db")
    memory.save_into(saved)
    saved.upsert_prices(p for closes in sqlite.price_history(SYMBOLS).values() for p in closes)
    assert _answers(saved) == _answers(sqlite)
    for s in (memory, sqlite, saved):
        s.close()
