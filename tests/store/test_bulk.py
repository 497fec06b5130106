"""`Store.bulk`: SQLite makes many writes one transaction (the backtest saves its results
so), all or nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from pas.models import CashFlow, Portfolio, Schedule
from pas.store.sqlite import SqliteStore

T0 = datetime(2026, 1, 5, 15, tzinfo=UTC)


def test_writes_in_a_bulk_are_kept_together(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "pas.db")
    with store.bulk():
        store.add_portfolio(Portfolio("a", "manual", Schedule.WEEKLY, T0))
        store.add_cash_flow(CashFlow("a", Decimal(100), T0, "f1"))
        assert store._db.in_transaction  # one transaction, not one per write
    reopened = SqliteStore(tmp_path / "pas.db")
    assert [f.flow_id for f in reopened.cash_flows("a")] == ["f1"]


def test_a_failed_bulk_leaves_nothing(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "pas.db")
    with pytest.raises(RuntimeError), store.bulk():
        store.add_portfolio(Portfolio("a", "manual", Schedule.WEEKLY, T0))
        raise RuntimeError("interrupted")
    assert store.get_portfolio("a") is None
    store.add_portfolio(Portfolio("a", "manual", Schedule.WEEKLY, T0))  # writes work again after it
    assert store.get_portfolio("a") is not None
