"""Two OS processes writing one store at once: no fill lost or doubled, one lock holder."""

from __future__ import annotations

import multiprocessing as mp
import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pas.models import Fill, Side
from pas.store.base import Store

FILLS_PER_PROCESS = 2000
OVERLAP = 1000  # fill ids both processes write: each must be recorded once
BATCH = 50


def _open(spec: tuple[str, str]) -> Store:
    kind, where = spec
    if kind == "sqlite":
        from pas.store.sqlite import SqliteStore

        return SqliteStore(Path(where))
    import pymongo

    from pas.store.mongo import MongoStore

    uri, db_name = where.rsplit("|", 1)
    return MongoStore(pymongo.MongoClient(uri), db_name)


def _worker(spec: tuple[str, str], first_id: int, barrier: Any, results: Any) -> None:
    store = _open(spec)
    start = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
    fills = [
        Fill(
            portfolio="p",
            symbol="AAPL",
            side=Side.BUY,
            qty=Decimal("0.1"),
            price=Decimal("100"),
            ts=start + timedelta(seconds=n),
            fill_id=f"f{n}",
        )
        for n in range(first_id, first_id + FILLS_PER_PROCESS)
    ]
    barrier.wait()
    got_lock = bool(store.acquire_lock("trading", f"owner-{os.getpid()}", ttl_sec=600))
    new = sum(store.append_fills(fills[i : i + BATCH]) for i in range(0, len(fills), BATCH))
    results.put((got_lock, new))
    store.close()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "mongo"])
def test_two_processes_append_and_lock(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    # mongomock lives in one process's memory, so only servers and files are shared.
    if kind == "sqlite":
        spec = (kind, str(tmp_path / "pas.db"))
    else:
        server = request.getfixturevalue("mongo_server")
        spec = (kind, f"{server.uri}|{request.getfixturevalue('mongo_db')}")
    store = _open(spec)  # creates the schema before the race, as any earlier command would
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(spec, first, barrier, results))
        for first in (0, FILLS_PER_PROCESS - OVERLAP)
    ]
    for proc in procs:
        proc.start()
    outcomes = [results.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0
    unique = 2 * FILLS_PER_PROCESS - OVERLAP
    assert sorted(lock for lock, _ in outcomes) == [False, True], "exactly one process holds the lock"
    assert sum(new for _, new in outcomes) == unique, "each fill counted new exactly once"
    ids = [f.fill_id for f in store.fills("p")]
    assert len(ids) == unique and len(set(ids)) == unique
    assert store.holdings("p") == {"AAPL": Decimal("0.1") * unique}
    store.close()
