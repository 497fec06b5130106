"""Shared fixtures: a clean environment, a settable clock, and the store on every backend."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pas.config import SETTING_NAMES
from pas.store.base import Store

# Environment variables that would change what a test sees if the developer has them set.
_ISOLATED = (*SETTING_NAMES, "PAS_ENV_FILE", "PAS_BROKER", "XDG_DATA_HOME")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's settings; rich renders at a fixed width."""
    for name in list(os.environ):
        isolated = name in _ISOLATED or name.startswith(("ALPACA_", "QUIVER_", "PAS_", "BREAKER_"))
        if isolated and name != "PAS_TEST_MONGO_URI":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _mongomock_accepts_sort() -> None:
    """pymongo >= 4.11 passes ``sort=`` to bulk update builders; mongomock 4.3 does not take it.

    Without this shim every ``bulk_write`` of ``UpdateOne`` fails under mongomock.
    """
    from mongomock.collection import BulkOperationBuilder

    original = BulkOperationBuilder.add_update
    if getattr(original, "_pas_shim", False):
        return

    def add_update(self: object, *args: object, sort: object = None, **kwargs: object) -> object:
        return original(self, *args, **kwargs)

    add_update._pas_shim = True  # type: ignore[attr-defined]
    BulkOperationBuilder.add_update = add_update


def _backends() -> list[str]:
    names = ["sqlite", "mongomock"]
    if os.environ.get("PAS_TEST_MONGO_URI"):
        names.append("mongo")
    return names


@pytest.fixture(params=_backends())
def store(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> Iterator[Store]:
    """The store on every backend: SQLite, pymongo over mongomock, and a real server if set."""
    backend: str = request.param
    if backend == "sqlite":
        from pas.store.sqlite import SqliteStore

        s: Store = SqliteStore(tmp_path / "pas.db", clock=clock)
    elif backend == "mongomock":
        import mongomock

        _mongomock_accepts_sort()

        from pas.store.mongo import MongoStore

        s = MongoStore(mongomock.MongoClient(tz_aware=True), "pas_test", where="mongomock", clock=clock)
    else:
        import pymongo

        from pas.store.mongo import MongoStore

        db_name = f"pas_test_{os.getpid()}_{id(request)}"
        client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(os.environ["PAS_TEST_MONGO_URI"])
        s = MongoStore(client, db_name, where="test server", clock=clock)
        request.addfinalizer(
            lambda: pymongo.MongoClient(os.environ["PAS_TEST_MONGO_URI"]).drop_database(db_name)
        )
    yield s
    s.close()
