"""The store: one repository interface, two backends (embedded SQLite and MongoDB)."""

from __future__ import annotations

from pathlib import Path

from pas.clock import Clock, system_clock
from pas.config import StoreSettings
from pas.errors import ConfigError
from pas.store.base import Store
from pas.store.interfaces import LedgerEntry

__all__ = [
    "BACKTEST_PREFIX",
    "LedgerEntry",
    "Store",
    "open_backtest_store",
    "open_store",
    "schema_versions",
]

# The backtest namespace: PAS_HOME/backtest.db, or the collections of DB_NAME whose names
# start with this prefix (a readWrite user may have no other database, nor dropDatabase).
BACKTEST_PREFIX = "backtest."
BACKTEST_SQLITE = "backtest.db"


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
    settings: StoreSettings, clock: Clock = system_clock, *, fresh: bool = False
) -> Store:
    """The backtest namespace, apart from live data: ``PAS_HOME/backtest.db`` (SQLite) or
    the collections ``backtest.*`` of the database ``DB_NAME`` (MongoDB: a user with the
    ``readWrite`` role on that one database is enough).

    Args:
        fresh: empty it first (a new backtest replaces the previous one).
    """
    if settings.mongo_uri:
        from pas.store.mongo import MongoStore

        store = MongoStore.connect(settings, clock, prefix=BACKTEST_PREFIX)
        if fresh:
            store.empty()
        return store
    from pas.store.sqlite import SqliteStore

    check_home(settings.home)
    path = settings.home / BACKTEST_SQLITE
    if fresh:
        for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            leftover.unlink(missing_ok=True)
    return SqliteStore(path, clock)
