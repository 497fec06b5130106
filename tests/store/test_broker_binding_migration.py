"""The store migration that binds each existing portfolio to one broker (issue 12)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import mongomock

from pas.models import Portfolio, Schedule, format_ts
from pas.store.mongo import MongoStore
from pas.store.sqlite import SqliteStore
from pas.store.sqlite.store import MIGRATIONS
from tests.conftest import FakeClock

# The number of the migration that adds portfolios.broker (later ones may follow it).
BINDING = next(n for n, script in enumerate(MIGRATIONS, start=1) if "ADD COLUMN broker" in script)


def test_sqlite_binds_each_portfolio_to_the_broker_of_its_newest_run(tmp_path: Path) -> None:
    path = tmp_path / "pas.db"
    db = sqlite3.connect(path, isolation_level=None)
    for script in MIGRATIONS[: BINDING - 1]:
        db.executescript(script)
    db.execute(f"PRAGMA user_version = {BINDING - 1}")
    for pid in ("sim-then-alpaca", "simmed", "never-traded"):
        db.execute(
            "INSERT INTO portfolios (id, strategy, schedule, capital_n, params, created_at)"
            " VALUES (?,?,?,?,?,?)",
            (pid, "manual", "weekly", None, "{}", "2026-01-02T00:00:00Z"),
        )
    runs = [
        ("r1", "2026-01-05T15:00:00Z", "sim", '["sim-then-alpaca", "simmed"]'),
        ("r2", "2026-01-06T15:00:00Z", "alpaca", '["sim-then-alpaca"]'),
    ]
    db.executemany(
        "INSERT INTO trade_runs (run_id, created_at, broker, portfolios, status) VALUES (?,?,?,?,'done')",
        runs,
    )
    db.close()
    with SqliteStore(path) as store:
        bound = {p.id: p.broker for p in store.list_portfolios()}
    assert bound == {"never-traded": "alpaca", "sim-then-alpaca": "alpaca", "simmed": "sim"}


def test_mongo_binds_old_documents_on_open(clock: FakeClock) -> None:
    client = mongomock.MongoClient()
    old = {
        "strategy": "manual",
        "schedule": "weekly",
        "capital_n": None,
        "params": [],
        "created_at": format_ts(clock()),
    }
    client["pas"]["portfolios"].insert_many([{"_id": "simmed", **old}, {"_id": "never-traded", **old}])
    client["pas"]["trade_runs"].insert_one(
        {
            "_id": "r1",
            "created_at": "2026-01-05T15:00:00Z",
            "broker": "sim",
            "portfolios": ["simmed"],
            "status": "done",
        }
    )
    store = MongoStore(client, "pas", clock=clock)
    assert {p.id: p.broker for p in store.list_portfolios()} == {"never-traded": "alpaca", "simmed": "sim"}
    store.add_portfolio(Portfolio("new", "manual", Schedule.WEEKLY, clock(), broker="sim"))
    assert store.get_portfolio("new") == Portfolio("new", "manual", Schedule.WEEKLY, clock(), broker="sim")
