"""Each kept backtest run has a namespace of its own, on either backend: listed, opened, removed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pas.config import StoreSettings
from pas.models import Portfolio, Schedule
from pas.store import backtest_runs, open_backtest_store, remove_backtest
from tests.conftest import MongoServer

NOW = datetime(2026, 1, 5, tzinfo=UTC)
RUNS = ("261201000100cd34", "261201000000ab12")


def check_namespaces(settings: StoreSettings) -> None:
    assert backtest_runs(settings) == []
    for run in RUNS:
        with open_backtest_store(settings, run) as store:
            store.add_portfolio(Portfolio(f"p{run[-2:]}", "manual", Schedule.WEEKLY, NOW))
    assert backtest_runs(settings) == sorted(RUNS), "oldest first: run ids sort by their start"
    with open_backtest_store(settings, RUNS[0]) as store:
        assert [p.id for p in store.list_portfolios()] == ["p34"], "runs never share a namespace"
    with open_backtest_store(settings, RUNS[0], fresh=True) as store:
        assert store.list_portfolios() == [], "fresh empties it"
    remove_backtest(settings, RUNS[1])
    assert backtest_runs(settings) == [RUNS[0]]


def test_sqlite_keeps_each_run_in_a_file_of_its_own(tmp_path: Path) -> None:
    settings = StoreSettings(home=tmp_path)
    check_namespaces(settings)
    assert sorted(p.name for p in (tmp_path / "backtests").iterdir()) == [f"{RUNS[0]}.db"]


def test_mongodb_keeps_each_run_in_a_database_of_its_own(mongo_server: MongoServer, mongo_db: str) -> None:
    settings = StoreSettings(home=Path("/nonexistent"), mongo_uri=mongo_server.uri, db_name=mongo_db)
    try:
        check_namespaces(settings)
    finally:
        for run in backtest_runs(settings):
            remove_backtest(settings, run)
