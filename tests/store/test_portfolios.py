"""Contract of portfolios and what they own (weights, ledger, cash flows, the delete
cascade), on every backend."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from pas.errors import InputError
from pas.models import (
    AppliedAllocation,
    CashFlow,
    DailyMetric,
    Fill,
    Portfolio,
    Schedule,
    Side,
    TradeOrder,
    TradeRun,
    TradeRunStatus,
    TrailingStats,
    WeightSet,
)
from pas.store.base import Store
from pas.store.cascade import allocation_without, trade_order_without, trade_run_without
from tests.conftest import FakeClock
from tests.store.builders import T0, fill, portfolio

DAY = date(2026, 1, 5)


UNIT = 10**9


def _shared_order(coid: str, run_id: str, shares: tuple[tuple[str, int], ...]) -> TradeOrder:
    return TradeOrder(run_id, coid, 0, "AAA", Side.BUY, UNIT, Decimal(10), True, shares)


def _own_everything(store: Store, pid: str) -> None:
    store.add_portfolio(Portfolio(pid, "manual", Schedule.WEEKLY, T0, Decimal(1000)))
    store.put_weights(WeightSet(pid, T0, {"AAA": 1.0}))
    store.append_fills([Fill(pid, "AAA", Side.BUY, Decimal(1), Decimal(10), T0, f"{pid}-f1")])
    store.add_cash_flow(CashFlow(pid, Decimal(500), T0, f"{pid}-c1"))
    store.put_daily_metrics([DailyMetric(pid, DAY, 0.01)])
    store.put_trailing_stats([TrailingStats(pid, DAY, "63", {"sharpe": 1.0})])


def test_portfolio_round_trip(store: Store) -> None:
    store.add_portfolio(portfolio())
    store.add_portfolio(portfolio("beta", capital=None))
    got = store.get_portfolio("alpha")
    assert got == portfolio()
    assert got is not None and got.params == {"top_n": 15, "label": "x"}
    assert [p.id for p in store.list_portfolios()] == ["alpha", "beta"]
    assert store.get_portfolio("nope") is None


def test_duplicate_portfolio_is_an_input_error(store: Store) -> None:
    store.add_portfolio(portfolio())
    with pytest.raises(InputError, match="portfolio 'alpha' exists already"):
        store.add_portfolio(portfolio())


def test_remove_portfolio_takes_its_weights_and_ledger(store: Store) -> None:
    store.add_portfolio(portfolio())
    store.add_portfolio(portfolio("beta"))
    store.put_weights(WeightSet("alpha", T0, {"AAPL": 0.5}))
    store.append_fills([fill(1), fill(2, pid="beta")])
    store.remove_portfolio("alpha")
    assert store.get_portfolio("alpha") is None
    assert store.weights_history("alpha") == []
    assert store.fills("alpha") == []
    assert len(store.fills("beta")) == 1


def test_a_re_added_portfolio_records_the_fill_ids_of_its_removed_namesake_again(store: Store) -> None:
    # The memory store once remembered the removed fills' ids and left them out of the
    # re-added portfolio's ledger and holdings, which SQLite had recorded.
    store.add_portfolio(portfolio())
    store.append_fills([fill(1)])
    store.remove_portfolio("alpha")
    store.add_portfolio(portfolio())
    assert store.append_fills([fill(1)]) == 1
    assert [f.fill_id for f in store.fills("alpha")] == [fill(1).fill_id]
    assert store.holdings("alpha") == {fill(1).symbol: fill(1).qty}
    assert len(store.ledger("alpha")) == 1


def test_weights_history_newest_first_and_keeps_dotted_symbols(store: Store, clock: FakeClock) -> None:
    store.put_weights(WeightSet("alpha", T0, {"AAPL": 0.6, "BRK.B": 0.4}))
    store.put_weights(WeightSet("alpha", T0 + timedelta(days=1), {"MSFT": 1.0}, source="build"))
    # Two targets in the same instant keep the order they were set in.
    store.put_weights(WeightSet("alpha", T0 + timedelta(days=1), {"MSFT": 0.5}, source="manual"))
    history = store.weights_history("alpha")
    assert [dict(w.weights) for w in history] == [{"MSFT": 0.5}, {"MSFT": 1.0}, {"AAPL": 0.6, "BRK.B": 0.4}]
    assert history[1].source == "build"
    current = store.current_weights("alpha")
    assert current is not None and current.weights == {"MSFT": 0.5}
    assert store.current_weights("beta") is None
    assert len(store.weights_history("alpha", limit=2)) == 2


def test_append_fills_is_idempotent_by_fill_id(store: Store) -> None:
    assert store.append_fills([fill(1), fill(2)]) == 2
    assert store.append_fills([fill(2), fill(3)]) == 1
    assert [f.fill_id for f in store.fills("alpha")] == ["f1", "f2", "f3"]


def test_fill_round_trip_is_exact(store: Store) -> None:
    original = Fill(
        portfolio="alpha",
        symbol="BRK.B",
        side=Side.SELL,
        qty=Decimal("0.123456789"),
        price=Decimal("412.3456"),
        ts=datetime(2026, 3, 2, 14, 30, 1, 123456, tzinfo=UTC),
        fill_id="x",
        broker_order_id="b-1",
        client_order_id="c-1",
        run_id="r-1",
        commission=Decimal("1.25"),
    )
    store.append_fills([original])
    assert store.fills("alpha") == [original]


def test_fills_filters(store: Store) -> None:
    store.append_fills([fill(1), fill(2, symbol="MSFT"), fill(3), fill(4, pid="beta")])
    assert [f.fill_id for f in store.fills("alpha", symbol="AAPL")] == ["f1", "f3"]
    assert [f.fill_id for f in store.fills("alpha", since=T0 + timedelta(minutes=2))] == ["f2", "f3"]
    assert [f.fill_id for f in store.fills("alpha", limit=1)] == ["f1"]


def test_holdings_sum_signed_quantities_and_drop_closed(store: Store) -> None:
    store.append_fills(
        [
            fill(1, qty="10"),
            fill(2, qty="2.5", side=Side.SELL),
            fill(3, symbol="MSFT", qty="1"),
            fill(4, symbol="MSFT", qty="1", side=Side.SELL),
            fill(5, symbol="TSLA", qty="0.000000001"),
            fill(6, pid="beta", qty="99"),
        ]
    )
    assert store.holdings("alpha") == {"AAPL": Decimal("7.5"), "TSLA": Decimal("0.000000001")}


def test_ledger_entries_are_signed_nano_units_in_time_order(store: Store) -> None:
    store.append_fills([fill(2, side=Side.SELL, qty="1"), fill(1, qty="3")])
    entries = store.ledger("alpha")
    # (symbol, signed quantity, price, commission): a LedgerEntry or its plain tuple.
    assert [tuple(e) for e in entries] == [
        ("AAPL", 3 * 10**9, 100_500_000_000, 10_000_000),
        ("AAPL", -(10**9), 100_500_000_000, 10_000_000),
    ]


def test_sqlite_reads_the_ledger_from_a_covering_index(tmp_path: Path) -> None:
    # `pas positions` folds every fill of a portfolio in time order; the plan must not
    # visit the table nor sort, whatever statistics ANALYZE gave the planner (issue 18 saw
    # it pick fills_by_symbol and a sort on a 1M-fill ledger: 145 ms instead of 34).
    from pas.store.sqlite import SqliteStore

    with SqliteStore(tmp_path / "pas.db") as store:
        store.add_portfolio(portfolio("p"))
        store.add_portfolio(portfolio("q"))
        store.append_fills([fill(n, pid="pq"[n % 2], symbol=f"S{n % 7}") for n in range(600)])
        store._db.execute("ANALYZE")
        statements: list[str] = []
        store._db.set_trace_callback(statements.append)
        assert len(store.ledger("p")) == 300
        store._db.set_trace_callback(None)
        (query,) = statements
        plan = [row[-1] for row in store._db.execute(f"EXPLAIN QUERY PLAN {query}")]
    assert plan == ["SEARCH fills USING COVERING INDEX fills_ledger (portfolio=?)"]


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


def test_fills_of_order_span_portfolios(store: Store) -> None:
    def fill(pid: str, fid: str, order: str) -> Fill:
        return Fill(pid, "AAA", Side.BUY, Decimal(1), Decimal(10), T0, fid, broker_order_id=order)

    store.append_fills([fill("a", "x/a", "B1"), fill("b", "x/b", "B1"), fill("a", "y/a", "B2")])
    assert sorted(f.fill_id for f in store.fills_of_order("B1")) == ["x/a", "x/b"]


def test_a_removed_portfolio_leaves_no_history_for_a_re_added_id(store: Store) -> None:
    _own_everything(store, "gone")
    _own_everything(store, "kept")
    store.put_allocation(AppliedAllocation(DAY, T0, "equal", {"gone": 0.5, "kept": 0.5}, 0.8))
    store.put_allocation(AppliedAllocation(DAY, T0, "equal", {"gone": 1.0}))
    store.create_trade_run(
        TradeRun("solo", T0, "sim", ("gone",)), [_shared_order("c-solo", "solo", (("gone", UNIT),))]
    )
    store.set_trade_run_status("solo", TradeRunStatus.DONE)
    store.create_trade_run(
        TradeRun("both", T0, "sim", ("gone", "kept")),
        [
            _shared_order("c-both", "both", (("gone", UNIT), ("kept", UNIT))),
            _shared_order("c-g", "both", (("gone", UNIT),)),
        ],
    )

    store.remove_portfolio("gone")
    store.add_portfolio(Portfolio("gone", "manual", Schedule.WEEKLY, T0, Decimal(1000)))

    assert store.weights_history("gone") == []
    assert store.fills("gone") == [] and store.holdings("gone") == {}
    assert store.cash_flows("gone") == []
    assert store.daily_metrics("gone") == [] and store.metric_days("gone") == set()
    assert store.trailing_stats("gone", "63") is None
    for allocation in store.allocation_history():
        assert "gone" not in allocation.weights
    [left] = store.allocation_history()
    assert left.weights == {"kept": 1.0}
    assert left.capital("kept", Decimal(10000)) == pytest.approx(Decimal(4000))
    assert store.trade_orders("solo") == []
    assert [(o.client_order_id, o.shares) for o in store.trade_orders("both")] == [
        ("c-both", (("kept", UNIT),))
    ]
    assert store.unfinished_trade_run("sim") == TradeRun("both", T0, "sim", ("kept",))
    # What the other portfolio owns is untouched.
    assert len(store.fills("kept")) == 1 and len(store.cash_flows("kept")) == 1
    assert len(store.daily_metrics("kept")) == 1 and store.trailing_stats("kept", "63") is not None
    assert store.weights_history("kept") != []


def test_allocation_without_keeps_the_other_portfolios_dollars() -> None:
    allocation = AppliedAllocation(DAY, T0, "score", {"a": 0.25, "b": 0.5, "c": 0.25}, 0.8)
    smaller = allocation_without(allocation, "a")
    assert smaller is not None
    assert sum(smaller.weights.values()) == pytest.approx(1.0)
    for pid in ("b", "c"):
        before = allocation.capital(pid, Decimal(10000))
        after = smaller.capital(pid, Decimal(10000))
        assert before is not None and after == pytest.approx(before)
    assert allocation_without(allocation, "z") is allocation
    assert allocation_without(AppliedAllocation(DAY, T0, "equal", {"a": 1.0}), "a") is None


def test_runs_and_orders_lose_only_the_removed_share() -> None:
    run = TradeRun("r", T0, "sim", ("a", "b"))
    assert trade_run_without(run, "a") == TradeRun("r", T0, "sim", ("b",))
    assert trade_run_without(TradeRun("r", T0, "sim", ("a",)), "a") is None
    order = _shared_order("c", "r", (("a", UNIT), ("b", UNIT)))
    assert trade_order_without(order, "a") == _shared_order("c", "r", (("b", UNIT),))
    assert trade_order_without(_shared_order("c", "r", (("a", UNIT),)), "a") is None
