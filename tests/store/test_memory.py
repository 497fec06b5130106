"""The backtest's working store answers as SQLite does, whatever was written in what order.

The contract suite runs on it too (the ``memory`` backend of the ``store`` fixture); this
module drives it and a plain SQLite store with the same random writes, as a backtest
makes them (fills out of time order and repeated, cash flows, closes, the simulated
broker's orders and fills, trading runs and their orders, locks, metrics and trailing
statistics rewritten and cut, portfolios removed), and compares every answer it serves
from memory. Then it writes its results into an empty store once and compares again.
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
from pas.errors import InputError
from pas.models import (
    CashFlow,
    DailyMetric,
    Fill,
    Portfolio,
    Price,
    Schedule,
    Side,
    TradeOrder,
    TradeOrderStatus,
    TradeRun,
    TradeRunStatus,
    TrailingStats,
    to_units,
)
from pas.store.base import Store
from pas.store.memory import MemoryStore
from pas.store.sqlite import SqliteStore

T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
PORTFOLIOS = ("a", "b")
SYMBOLS = ("AAA", "BBB", "CCC")
STATUSES = (OrderStatus.ACCEPTED, OrderStatus.NEW, OrderStatus.FILLED, OrderStatus.CANCELED)

money = st.decimals(min_value=Decimal("0.000000001"), max_value=Decimal(5000), places=9)
fills = st.builds(
    lambda n, p, s, side, q, price, minute, fee, order: Fill(
        p, s, side, q, price, T0 + timedelta(minutes=minute), f"f{n}", order, commission=fee
    ),
    st.integers(0, 30),
    st.sampled_from(PORTFOLIOS),
    st.sampled_from(SYMBOLS),
    st.sampled_from(Side),
    money,
    money,
    st.integers(0, 50),
    st.decimals(min_value=Decimal(0), max_value=Decimal(2), places=9),
    st.sampled_from(("", "o0", "o1")),
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
trailing = st.builds(
    lambda p, d, w, v: TrailingStats(p, date(2026, 1, 1) + timedelta(days=d), w, {"sharpe_ratio": v}),
    st.sampled_from(PORTFOLIOS),
    st.integers(0, 5),  # few days, so that writes, cuts and reads meet on the same day
    st.sampled_from(("63", "inception")),
    st.floats(-3, 3),
)
BROKERS = ("sim", "alpaca")
later = st.none() | st.integers(0, 50).map(lambda m: T0 + timedelta(minutes=m))


@st.composite
def trade_runs(draw: st.DrawFn) -> tuple[TradeRun, list[TradeOrder]]:
    """A run and its orders; each order's shares and crosses are of the run's portfolios."""
    run_id = f"r{draw(st.integers(0, 4))}"
    owners = draw(st.lists(st.sampled_from(PORTFOLIOS), min_size=1, max_size=2, unique=True))
    run = TradeRun(
        run_id,
        T0 + timedelta(minutes=draw(st.integers(0, 3))),
        draw(st.sampled_from(BROKERS)),
        tuple(owners),
        draw(st.sampled_from(TradeRunStatus)),
    )
    units = st.integers(-(5 * 10**9), 5 * 10**9)
    orders = [
        TradeOrder(
            run_id,
            f"t{draw(st.integers(0, 12))}",
            seq,  # an order's place in its run, as pas numbers them
            draw(st.sampled_from(SYMBOLS)),
            draw(st.sampled_from(Side)),
            draw(st.integers(-1, 5 * 10**9)),
            draw(money),
            draw(st.booleans()),
            tuple((p, draw(units)) for p in draw(st.lists(st.sampled_from(owners), max_size=2))),
            tuple((p, draw(units)) for p in draw(st.lists(st.sampled_from(owners), max_size=2))),
            draw(st.sampled_from(TradeOrderStatus)),
            sent_at=draw(later),
        )
        for seq in range(draw(st.integers(0, 3)))
    ]
    return run, orders


order_updates = st.tuples(
    st.integers(0, 12).map(lambda n: f"t{n}"),
    st.sampled_from(TradeOrderStatus),
    st.none() | st.sampled_from(("", "b1")),
    st.none() | st.sampled_from(("", "filled")),
    st.none() | st.sampled_from(("", "lost")),
    later,
)
run_statuses = st.tuples(st.integers(0, 4).map(lambda n: f"r{n}"), st.sampled_from(TradeRunStatus))
LOCKS = ("trading", "build")
locks = st.tuples(st.sampled_from(LOCKS), st.sampled_from(("x", "y")), st.sampled_from((0.0, 60.0)))
cuts = st.tuples(st.sampled_from(PORTFOLIOS), st.integers(0, 5)).map(
    lambda x: (x[0], date(2026, 1, 1) + timedelta(days=x[1]))
)
WRITES = {
    "fills": st.lists(fills, max_size=4),
    "flow": flows,
    "prices": st.lists(prices, max_size=6),
    "price_units": st.lists(prices.map(lambda p: (p.symbol, p.day, to_units(p.close))), max_size=6),
    "order": orders,
    "save": st.tuples(orders, st.sampled_from(STATUSES)),
    "sim_fill": sim_fills,
    "metrics": st.lists(metrics, max_size=4),
    "trailing": st.lists(trailing, max_size=4),
    "cut": cuts,
    "run": trade_runs(),
    "order_update": order_updates,
    "run_status": run_statuses,
    "lock": locks,
    "unlock": st.tuples(st.sampled_from(LOCKS), st.sampled_from(("x", "y"))),
    "remove": st.sampled_from(PORTFOLIOS),
}
# One family of writes per example keeps the writes of each aggregate meeting each other.
FAMILIES = (
    ("fills", "flow", "remove"),
    ("prices", "price_units"),
    ("order", "save", "sim_fill"),
    ("metrics", "trailing", "cut"),
    ("run", "order_update", "run_status", "lock", "unlock", "remove"),
)


def writes(kinds: tuple[str, ...]) -> st.SearchStrategy[list[tuple[str, object]]]:
    return st.lists(st.one_of([WRITES[k].map(lambda v, k=k: (k, v)) for k in kinds]), max_size=30)


def _write(store: Store, kind: str, value: object) -> None:
    if kind == "fills":
        store.append_fills(value)  # type: ignore[arg-type]
    elif kind == "flow":
        store.add_cash_flow(value)  # type: ignore[arg-type]
    elif kind == "prices":
        store.upsert_prices(value)  # type: ignore[arg-type]
    elif kind == "price_units":
        store.upsert_price_units(value)  # type: ignore[arg-type]
    elif kind == "order":
        store.sim_add_order(value)  # type: ignore[arg-type]
    elif kind == "save":
        order, status = value  # type: ignore[misc]
        known = store.sim_orders(order_id=order.id)
        if known:
            store.sim_save_order(Order(**{**vars(known[0]), "status": status}))
    elif kind == "sim_fill":
        store.sim_add_fill(value)  # type: ignore[arg-type]
    elif kind == "trailing":
        store.put_trailing_stats(value)  # type: ignore[arg-type]
    elif kind == "cut":
        store.delete_trailing_stats_from(*value)  # type: ignore[misc]
    elif kind in ("run", "order_update", "run_status", "lock", "unlock", "remove"):
        _write_trading(store, kind, value)
    else:
        store.put_daily_metrics(value)  # type: ignore[arg-type]


def _write_trading(store: Store, kind: str, value: object) -> None:
    if kind == "run":
        store.create_trade_run(*value)  # type: ignore[misc]
    elif kind == "order_update":
        coid, status, broker_id, broker_status, error, sent_at = value  # type: ignore[misc]
        store.update_trade_order(
            coid, status, broker_order_id=broker_id, broker_status=broker_status, error=error, sent_at=sent_at
        )
    elif kind == "run_status":
        store.set_trade_run_status(*value)  # type: ignore[misc]
    elif kind == "lock":
        store.acquire_lock(*value)  # type: ignore[misc]
    elif kind == "unlock":
        store.release_lock(*value)  # type: ignore[misc]
    else:  # removed and added again: its ids may be written anew
        store.remove_portfolio(value)  # type: ignore[arg-type]
        store.add_portfolio(Portfolio(value, "manual", Schedule.WEEKLY, T0))  # type: ignore[arg-type]


def _control(store: Store) -> dict[str, object]:
    """What is not a result (so not saved): the locks and who holds them."""
    return {
        "owners": [store.lock_owner(name) for name in LOCKS],
        "grants": [store.acquire_lock(name, "z", 1.0).acquired for name in LOCKS],
    }


def _answers(store: Store, saved: bool = False) -> dict[str, object]:
    """Every answer served from memory. ``saved``: of a store the results were saved into,
    which wrote the ledgers portfolio by portfolio, so one order's fills of the same time
    in several portfolios (a split fill) come in another order there."""
    days = [None, *(date(2026, 1, 1) + timedelta(days=d) for d in (0, 3, 9, 25))]
    since = [None, T0, T0 + timedelta(minutes=20)]
    answers: dict[str, object] = {
        "sim_totals": store.sim_totals(),
        "open": store.sim_orders(open_only=True),
        "orders": store.sim_orders(),
        # Listed since a time from an index in submission order: the same orders, in SQL's order.
        "orders since": [store.sim_orders(after=T0 + timedelta(seconds=n)) for n in (-1, 0, 2, 5)],
        "orders by client id": [store.sim_orders(client_order_id=f"co{n}") for n in range(3)],
        "latest": [store.latest_prices([*SYMBOLS, "NONE"], on_or_before=d) for d in days],
        "latest units": [store.latest_price_units([*SYMBOLS, "NONE"], on_or_before=d) for d in days],
        "history": [store.price_history(SYMBOLS, d, e) for d in days for e in days],
        "units": [store.price_units(d, e) for d in days for e in days],
        "trade orders": [
            store.trade_orders(run_id, unsettled, broker)
            for run_id in (None, "r0", "r1")
            for unsettled in (False, True)
            for broker in (None, *BROKERS)
        ],
        "unfinished": [store.unfinished_trade_run(b) for b in BROKERS],
        "fills of orders": [
            sorted(found, key=lambda f: (f.ts, f.fill_id)) if saved else found
            for found in (store.fills_of_order(o) for o in ("o0", "o1", ""))
        ],
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
        answers[f"ledger fold {p}"] = store.ledger_fold(p)
        answers[f"flows {p}"] = store.cash_flows(p)
        answers[f"metrics {p}"] = [store.daily_metrics(p, d, e) for d in days for e in days]
        answers[f"days {p}"] = store.metric_days(p)
        answers[f"trailing {p}"] = [
            store.trailing_stats(p, w, d) for w in ("63", "inception", "252") for d in days
        ]
    return answers


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[Path, list[int]]]:
    yield tmp_path, [0]


@pytest.mark.parametrize("kinds", FAMILIES, ids="+".join)
def test_the_memory_store_answers_as_sqlite_after_any_writes(
    stores: tuple[Path, list[int]], kinds: tuple[str, ...]
) -> None:
    @settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(writes=writes(kinds))
    def check(writes: list[tuple[str, object]]) -> None:
        _check(stores, writes)

    check()


def _check(stores: tuple[Path, list[int]], writes: list[tuple[str, object]]) -> None:
    folder, count = stores
    count[0] += 1
    memory, sqlite = MemoryStore(lambda: T0), SqliteStore(folder / f"{count[0]}.db", lambda: T0)
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
        for pid in PORTFOLIOS:  # folded after every write, so that later fills continue the fold
            memory.ledger_fold(pid)
    assert _answers(memory) == _answers(sqlite)
    assert _control(memory) == _control(sqlite)
    saved = SqliteStore(folder / f"{count[0]}-saved.db")
    memory.save_into(saved)
    saved.upsert_prices(p for closes in sqlite.price_history(SYMBOLS).values() for p in closes)
    assert _answers(saved, saved=True) == _answers(sqlite, saved=True)
    for s in (memory, sqlite, saved):
        s.close()


def test_the_results_are_written_once_into_any_backend(store: Store) -> None:
    # What a backtest leaves in the working store, saved into the backtest's namespace on
    # every backend, reads back the same there.
    from pas.models import AppliedAllocation, TradeRun, TradeRunStatus, WeightSet
    from tests.store.builders import trade_order

    memory = MemoryStore()
    memory.add_portfolio(Portfolio("a", "manual", Schedule.WEEKLY, T0))
    memory.put_weights(WeightSet("a", T0, {"AAA": 0.5}, "build"))
    memory.put_weights(WeightSet("a", T0 + timedelta(days=7), {"BBB": 0.25}, "build"))
    memory.append_fills(
        [Fill("a", "AAA", Side.BUY, Decimal("1.5"), Decimal("10.25"), T0, "f1", commission=Decimal("0.01"))]
    )
    memory.add_cash_flow(CashFlow("a", Decimal(1000), T0, "c1", "backtest capital"))
    memory.put_daily_metrics([DailyMetric("a", date(2026, 1, 6), 0.01, Decimal("1010.5"), 0.002, "update")])
    memory.put_trailing_stats([TrailingStats("a", date(2026, 1, 6), "inception", {"days": 1.0})])
    memory.put_allocation(AppliedAllocation(date(2026, 1, 5), T0, "equal", {"a": 1.0}))
    memory.create_trade_run(TradeRun("r1", T0, "sim", ("a",), TradeRunStatus.DONE), [trade_order("c-1", 0)])
    memory.sim_add_order(
        Order("o1", "co1", "AAA", Side.BUY, Decimal("1.5"), Decimal(0), None, OrderStatus.NEW, T0)
    )
    memory.sim_add_fill(BrokerFill("o1-1", "o1", "AAA", Side.BUY, Decimal("1.5"), Decimal("10.25"), T0))
    memory.save_into(store)

    def results(s: Store) -> list[object]:
        return [
            s.list_portfolios(),
            s.weights_history("a"),
            s.fills("a"),
            s.cash_flows("a"),
            s.daily_metrics("a"),
            s.trailing_stats("a", "inception"),
            s.allocation_history(),
            s.trade_orders("r1"),
            s.sim_orders(),
            s.sim_fills(),
            s.sim_totals(),
        ]

    assert results(store) == results(memory)


@pytest.mark.parametrize("close", ["1.0000000001", "9300000000"])
def test_a_close_sqlite_refuses_is_refused_and_not_kept(close: str, tmp_path: Path) -> None:
    day = date(2026, 1, 5)
    memory, sqlite = MemoryStore(), SqliteStore(tmp_path / "s.db")
    for store in (memory, sqlite):
        store.upsert_prices([Price("AAA", day, Decimal(1))])
        with pytest.raises(InputError):
            store.upsert_prices([Price("AAA", day, Decimal(close))])
        assert store.latest_prices(["AAA"]) == {"AAA": Price("AAA", day, Decimal(1))}
    memory.close()
    sqlite.close()
