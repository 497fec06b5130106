"""The store: one repository interface, two backends (embedded SQLite and MongoDB)."""

from __future__ import annotations

from pas.config import Settings
from pas.store.base import Clock, LedgerEntry, Store, system_clock

__all__ = ["Clock", "LedgerEntry", "Store", "open_store", "system_clock"]


def open_store(settings: Settings, clock: Clock = system_clock) -> Store:
    """The MongoDB store when ``MONGO_URI`` is set, else the SQLite file under ``PAS_HOME``.

    Raises:
        StoreError: the database cannot be opened or reached (within the Mongo timeout).
    """
    if settings.mongo_uri:
        from pas.store.mongo import MongoStore

        return MongoStore.connect(settings.mongo_uri, settings.db_name, settings.mongo_timeout_sec, clock)
    from pas.store.sqlite import SqliteStore

    return SqliteStore(settings.sqlite_path, clock)
