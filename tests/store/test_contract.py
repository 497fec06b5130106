"""The store contract, run against every backend (see the ``store`` fixture)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from pas.errors import InputError
from pas.models import Fill, Portfolio, Price, Run, RunStatus, Schedule, Side, WeightSet
from pas.store.base import Store
from tests.conftest import FakeClock

T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


def portfolio(pid: str = "alpha", capital: str | None = "10000") -> Portfolio:
    return Portfolio(
        id=pid,
        strategy="manual",
        schedule=Schedule.WEEKLY,
        created_at=T0,
        capital=None if capital is None else Decimal(capital),
        params={"top_n": 15, "label": "x"},
    )


def fill(n: int, pid: str = "alpha", symbol: str = "AAPL", side: Side = Side.BUY, qty: str = "1") -> Fill:
    return Fill(
        portfolio=pid,
        symbol=symbol,
        side=side,
        qty=Decimal(qty),
        price=Decimal("100.5"),
        ts=T0 + timedelta(minutes=n),
        fill_id=f"f{n}",
        commission=Decimal("0.01"),
    )


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
    assert [(e.symbol, e.signed_qty, e.price, e.commission) for e in entries] == [
        ("AAPL", 3 * 10**9, 100_500_000_000, 10_000_000),
        ("AAPL", -(10**9), 100_500_000_000, 10_000_000),
    ]


def test_prices_upsert_and_latest(store: Store) -> None:
    store.upsert_prices(
        [
            Price("AAPL", date(2026, 1, 2), Decimal("100")),
            Price("AAPL", date(2026, 1, 5), Decimal("101")),
            Price("MSFT", date(2026, 1, 2), Decimal("400")),
        ]
    )
    store.upsert_prices([Price("AAPL", date(2026, 1, 5), Decimal("102.25"))])
    latest = store.latest_prices(["AAPL", "MSFT", "NONE"])
    assert latest == {
        "AAPL": Price("AAPL", date(2026, 1, 5), Decimal("102.25")),
        "MSFT": Price("MSFT", date(2026, 1, 2), Decimal("400")),
    }
    assert store.latest_prices(["AAPL"], on_or_before=date(2026, 1, 4))["AAPL"].close == Decimal("100")
    assert store.latest_prices([]) == {}
    assert store.price_symbols() == ["AAPL", "MSFT"]


def test_runs_record_outcome_newest_first(store: Store, clock: FakeClock) -> None:
    store.start_run(Run("r1", "portfolio add", clock(), RunStatus.RUNNING, details={"portfolio": "a"}))
    clock.advance(2)
    store.finish_run("r1", RunStatus.OK, details={"portfolio": "a", "new": 3})
    clock.advance(1)
    store.start_run(Run("r2", "trades import", clock(), RunStatus.RUNNING))
    store.finish_run("r2", RunStatus.FAILED, "bad file")
    runs = store.recent_runs()
    assert [r.run_id for r in runs] == ["r2", "r1"]
    assert runs[1].status is RunStatus.OK and runs[1].seconds == 2.0
    assert dict(runs[1].details) == {"portfolio": "a", "new": 3}
    assert runs[0].error == "bad file"
    assert len(store.recent_runs(limit=1)) == 1


def test_lock_is_exclusive_until_released(store: Store) -> None:
    assert store.acquire_lock("trading", "p1", ttl_sec=60)
    assert not store.acquire_lock("trading", "p2", ttl_sec=60)
    assert store.acquire_lock("trading", "p1", ttl_sec=60), "the holder may renew its lease"
    assert not store.release_lock("trading", "p2"), "only the holder releases"
    assert store.release_lock("trading", "p1")
    assert store.acquire_lock("trading", "p2", ttl_sec=60)
    assert store.acquire_lock("other", "p1", ttl_sec=60), "locks are independent by name"


def test_stale_lock_expires(store: Store, clock: FakeClock) -> None:
    assert store.acquire_lock("trading", "dead", ttl_sec=30)
    clock.advance(29)
    assert not store.acquire_lock("trading", "p2", ttl_sec=30)
    clock.advance(2)
    assert store.acquire_lock("trading", "p2", ttl_sec=30)
    assert not store.release_lock("trading", "dead")


def test_sqlite_reads_the_ledger_from_a_covering_index(tmp_path: Path) -> None:
    # `pas positions` folds every fill of a portfolio; the plan must not visit the table.
    from pas.store.sqlite import SqliteStore

    with SqliteStore(tmp_path / "pas.db") as store:
        plan = store._db.execute(
            "EXPLAIN QUERY PLAN SELECT symbol, side, qty_n, price_n, commission_n FROM fills"
            " WHERE portfolio = ? ORDER BY ts, id",
            ("p",),
        ).fetchall()
    assert "COVERING INDEX fills_ledger" in str(plan)
