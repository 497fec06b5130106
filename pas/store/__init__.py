"""The store: one repository interface, two backends (embedded SQLite and MongoDB)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pas.clock import Clock, system_clock
from pas.config import StoreSettings
from pas.errors import ConfigError
from pas.store.base import Store
from pas.store.interfaces import LedgerEntry

if TYPE_CHECKING:
    from pas.store.mongo import MongoStore

__all__ = [
    "BACKTESTS_DIR",
    "BACKTEST_PREFIX",
    "LedgerEntry",
    "Store",
    "backtest_runs",
    "open_backtest_store",
    "open_store",
    "remove_backtest",
    "schema_versions",
]

# Each kept backtest run has a namespace of its own: PAS_HOME/backtests/RUN.db, or the
# collections of DB_NAME whose names start with BACKTEST_PREFIX + RUN + "." (a readWrite
# user may have no other database, nor dropDatabase).
BACKTEST_PREFIX = "backtest."
BACKTESTS_DIR = "backtests"


def open_store(settings: StoreSettings, clock: Clock = system_clock) -> Store:
    """The MongoDB store when ``MONGO_URI`` is set, else the SQLite file under ``PAS_HOME``.

    Raises:
        ConfigError: ``PAS_HOME`` is not a directory, or ``MONGO_URI`` is malformed.
        StoreError: the database cannot be opened or reached (within the Mongo timeout),
            is damaged, or is an empty file.
    """
    if settings.mongo_uri:
        from pas.store.mongo import MongoStore

        return MongoStore.connect(settings, clock)
    from pas.store.sqlite import SqliteStore

    check_home(settings.home)
    return SqliteStore(settings.sqlite_path, clock)


def schema_versions(settings: StoreSettings) -> tuple[int | None, int] | None:
    """The configured store's schema version and this pas's, read without opening (or
    migrating) the store.

    Returns:
        ``(stored, current)``, ``stored`` None when there is no database yet; None for
        MongoDB, which keeps no schema version (its indexes and its one migration, the
        broker binding, are applied idempotently at every open).

    Raises:
        ConfigError: ``PAS_HOME`` is not a directory.
        StoreError: the SQLite file cannot be read as a database.
    """
    if settings.mongo_uri:
        return None
    from pas.store.sqlite.store import SCHEMA_VERSION, stored_schema

    check_home(settings.home)
    return stored_schema(settings.sqlite_path), SCHEMA_VERSION


def check_home(home: Path) -> None:
    """Refuses a ``PAS_HOME`` that exists but is not a directory.

    Raises:
        ConfigError: it names a file (or anything else that is not a directory).
    """
    if home.exists() and not home.is_dir():
        raise ConfigError(
            f"PAS_HOME {home} is a file, not a directory; point PAS_HOME (or --home) at a "
            "directory, which pas creates when it does not exist"
        )


def open_backtest_store(
    settings: StoreSettings, run: str, clock: Clock = system_clock, *, fresh: bool = False
) -> Store:
    """The namespace of backtest run ``run``, apart from live data and from other runs:
    ``PAS_HOME/backtests/RUN.db`` (SQLite) or the collections ``backtest.RUN.*`` of the
    database ``DB_NAME`` (MongoDB: a user with the ``readWrite`` role on that one database
    is enough).

    Args:
        run: the run's id (:func:`pas.models.new_run_id`).
        fresh: empty it first.
    """
    if settings.mongo_uri:
        store = _mongo(settings, clock, prefix=_run_prefix(run))
        if fresh:
            store.empty()
        return store
    from pas.store.sqlite import SqliteStore

    check_home(settings.home)
    path = _backtest_path(settings, run)
    if fresh:
        _unlink_sqlite(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteStore(path, clock)


def backtest_runs(settings: StoreSettings) -> list[str]:
    """The ids of the kept backtest runs, oldest first (run ids sort by their start)."""
    if settings.mongo_uri:
        live = _mongo(settings)
        try:
            names = live.collection_names(BACKTEST_PREFIX)
        finally:
            live.close()
        return sorted({n[len(BACKTEST_PREFIX) :].split(".", 1)[0] for n in names})
    folder = settings.home / BACKTESTS_DIR
    return sorted(p.stem for p in folder.glob("*.db")) if folder.is_dir() else []


def remove_backtest(settings: StoreSettings, run: str) -> None:
    """Deletes the namespace of a kept backtest run (its file, or its database)."""
    if settings.mongo_uri:
        store = _mongo(settings, prefix=_run_prefix(run))
        try:
            store.drop()
        finally:
            store.close()
        return
    _unlink_sqlite(_backtest_path(settings, run))


def _mongo(settings: StoreSettings, clock: Clock = system_clock, *, prefix: str = "") -> MongoStore:
    from pas.store.mongo import MongoStore

    return MongoStore.connect(settings, clock, prefix=prefix)


def _run_prefix(run: str) -> str:
    return f"{BACKTEST_PREFIX}{run}."


def _backtest_path(settings: StoreSettings, run: str) -> Path:
    return settings.home / BACKTESTS_DIR / f"{run}.db"


def _unlink_sqlite(path: Path) -> None:
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
