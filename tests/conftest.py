"""Shared fixtures: a clean environment, a settable clock, and the store on every backend."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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
    """pymongo >= 4.9 passes ``sort=`` to the bulk builder; mongomock 4.3 predates it.

    The shim drops an unset ``sort`` (pas never sets one) so that the real pymongo
    ``UpdateOne``/``ReplaceOne`` objects can be used against mongomock unchanged.
    """
    from mongomock.collection import BulkOperationBuilder

    for name in ("add_update", "add_replace"):
        original = getattr(BulkOperationBuilder, name)
        if getattr(original, "_pas_shim", False):
            continue

        def shim(
            self: object, *args: object, _original: Any = original, sort: object = None, **kw: object
        ) -> Any:
            assert sort is None, "pas never sorts inside a bulk write"
            return _original(self, *args, **kw)

        shim._pas_shim = True  # type: ignore[attr-defined]
        setattr(BulkOperationBuilder, name, shim)


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

        from pas.store.mongo import MongoStore

        _mongomock_accepts_sort()

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
