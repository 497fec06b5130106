"""The core of the MongoDB backend.

The parts every aggregate's mixin builds on: the client, driver errors turned into one-line
:class:`~pas.errors.StoreError` messages, indexes, shared counters, and :meth:`_collection`,
the one seam through which the store reaches a collection.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Self

from pas.clock import Clock, system_clock
from pas.config import redact_uri
from pas.errors import ConfigError, StoreError
from pas.models import DEFAULT_BROKER
from pas.store.base import Store

if TYPE_CHECKING:
    from pymongo.collection import Collection
    from pymongo.database import Database


# Upserts are sent in batches of this many operations.
BULK_BATCH = 5000
# Records' natural keys became the identity of a filing (never a corrected value) and bare
# dates the end of the New York day: a database written before holds records under the old
# keys, which a scrape would duplicate. They are dropped once, with the coverage, and the
# next scrape fetches the history again (SQLite does the same in its migrations).
RECORD_KEYS_VERSION = 2


class MongoCore(Store):
    """What every MongoDB aggregate shares.

    Args:
        client: a ``pymongo.MongoClient`` (or ``mongomock.MongoClient`` in tests).
        db_name: the database (``DB_NAME``).
        where: a description of the server for messages, without credentials.
    """

    backend = "mongo"

    def __init__(self, client: Any, db_name: str, where: str = "", clock: Clock = system_clock) -> None:
        super().__init__(clock)
        self._client = client
        self._where = where or "MongoDB"
        self._db: Database[dict[str, Any]] = client[db_name]
        self.db_name = db_name
        with self._errors():
            self._ensure_indexes()
            self._bind_unbound_portfolios()
            self._drop_records_under_old_keys()

    @classmethod
    def connect(cls, uri: str, db_name: str, timeout_sec: float, clock: Clock = system_clock) -> Self:
        """Connects to a server, failing within ``timeout_sec`` when it is unreachable."""
        import pymongo
        from pymongo.errors import ConfigurationError

        ms = int(timeout_sec * 1000)
        try:
            client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
                uri,
                serverSelectionTimeoutMS=ms,
                connectTimeoutMS=ms,
                socketTimeoutMS=max(ms, 30_000),
                tz_aware=True,
                appname="pas",
            )
        except (ConfigurationError, ValueError) as exc:  # InvalidURI, or a bad port or option
            raise ConfigError(
                f"MONGO_URI {redact_uri(uri)} is malformed ({_without_secret(str(exc), uri)}); fix it "
                "(such as mongodb://user:password@host:27017) or unset it to use the embedded store"
            ) from None
        return cls(client, db_name, where=redact_uri(uri), clock=clock)

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Turns driver errors into one-line :class:`StoreError` messages."""
        from pymongo.errors import ConnectionFailure, PyMongoError, ServerSelectionTimeoutError

        try:
            yield
        except (ServerSelectionTimeoutError, ConnectionFailure) as exc:
            raise StoreError(
                f"cannot reach MongoDB at {self._where} ({type(exc).__name__}); check MONGO_URI "
                "and that the server is running, or unset MONGO_URI to use the embedded store"
            ) from exc
        except PyMongoError as exc:
            raise StoreError(f"MongoDB at {self._where} refused the operation: {exc}") from exc

    def close(self) -> None:
        self._client.close()

    def drop(self) -> None:
        """Drops this store's whole database and closes it (the backtest namespace only)."""
        with self._errors():
            self._client.drop_database(self.db_name)
        self.close()

    def describe(self) -> str:
        return f"mongodb {self._where} database {self.db_name}"

    def _ensure_indexes(self) -> None:
        self._collection("fills").create_index("fill_id", unique=True)
        self._collection("fills").create_index([("portfolio", 1), ("ts", 1)])
        self._collection("fills").create_index([("portfolio", 1), ("symbol", 1)])
        self._collection("weights").create_index([("portfolio", 1), ("at", -1), ("seq", -1)])
        self._collection("prices").create_index([("symbol", 1), ("day", 1)], unique=True)
        self._collection("runs").create_index("run_id", unique=True)
        self._collection("runs").create_index([("started_at", -1)])
        self._collection("daily_metrics").create_index([("portfolio", 1), ("day", 1)], unique=True)
        self._collection("trailing_stats").create_index(
            [("portfolio", 1), ("window", 1), ("as_of", -1)], unique=True
        )
        self._collection("fills").create_index("broker_order_id")
        self._collection("allocations").create_index([("as_of", -1), ("seq", -1)])
        self._collection("cash_flows").create_index("flow_id", unique=True)
        self._collection("cash_flows").create_index([("portfolio", 1), ("ts", 1), ("seq", 1)])
        self._collection("trade_runs").create_index([("status", 1), ("created_at", 1)])
        self._collection("trade_orders").create_index("client_order_id", unique=True)
        self._collection("trade_orders").create_index([("run_id", 1), ("seq", 1)])
        self._collection("trade_orders").create_index("status")
        self._collection("sim_orders").create_index("client_order_id", unique=True)
        self._collection("sim_orders").create_index([("submitted_at", -1), ("seq", -1)])
        self._collection("sim_orders").create_index([("status", 1), ("submitted_at", -1), ("seq", -1)])
        self._collection("sim_fills").create_index([("ts", 1), ("seq", 1)])
        self._collection("records").create_index([("dataset", 1), ("key", 1)], unique=True)
        self._collection("records").create_index([("dataset", 1), ("public_at", 1)])
        self._collection("records").create_index([("dataset", 1), ("ticker", 1), ("public_at", 1)])
        self._collection("record_revisions").create_index(
            [("dataset", 1), ("key", 1), ("until", 1)], unique=True
        )
        self._collection("record_revisions").create_index([("dataset", 1), ("until", 1)])
        self._collection("http_cache").create_index("expires_at")

    def _bind_unbound_portfolios(self) -> None:
        """The broker binding's migration (issue 12), run on every open and idempotent: a
        portfolio stored before it is bound to the broker of its newest trading run, else
        to Alpaca (the default broker). The same rule as SQLite's migration."""
        portfolios = self._collection("portfolios")
        for doc in portfolios.find({"broker": {"$exists": False}}, {"_id": 1}):
            runs = self._collection("trade_runs").find({"portfolios": doc["_id"]}, {"broker": 1})
            newest = list(runs.sort([("created_at", -1), ("_id", -1)]).limit(1))
            broker = newest[0]["broker"] if newest else DEFAULT_BROKER
            portfolios.update_one(
                {"_id": doc["_id"], "broker": {"$exists": False}}, {"$set": {"broker": broker}}
            )

    def _drop_records_under_old_keys(self) -> None:
        meta = self._collection("meta")
        if meta.find_one({"_id": "record_keys", "version": RECORD_KEYS_VERSION}) is not None:
            return
        for name in ("records", "record_revisions", "scrape_coverage"):
            self._collection(name).delete_many({})
        meta.update_one({"_id": "record_keys"}, {"$set": {"version": RECORD_KEYS_VERSION}}, upsert=True)

    def _collection(self, name: str) -> Collection[dict[str, Any]]:
        """The collection ``name``: the one seam through which the store reaches the driver,
        so tests inject faults here (real pymongo builds a new Collection on each access)."""
        return self._db[name]

    def _next(self, name: str, count: int = 1) -> int:
        """Reserves ``count`` values of a counter shared by all processes; returns the first.

        The counter orders records written within one clock tick.
        """
        from pymongo import ReturnDocument

        doc = self._collection("counters").find_one_and_update(
            {"_id": name}, {"$inc": {"value": count}}, upsert=True, return_document=ReturnDocument.AFTER
        )
        assert doc is not None  # upsert with ReturnDocument.AFTER always returns the document
        return int(doc["value"]) - count + 1


def _without_secret(message: str, uri: str) -> str:
    """A driver message with the URI's password (if it quotes it) replaced by ``****``."""
    userinfo = uri.partition("://")[2].rpartition("@")[0]
    password = userinfo.partition(":")[2]
    return message.replace(password, "****") if password else message
