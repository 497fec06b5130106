"""The core of the MongoDB backend.

The parts every aggregate's mixin builds on: the client, driver errors turned into one-line
:class:`~pas.errors.StoreError` messages, indexes (created once per version of
:data:`INDEXES`), transactions where the server has them, shared counters, and
:meth:`_collection`, the one seam through which the store reaches a collection.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Self, TypeVar

from pas.clock import Clock, system_clock
from pas.config import StoreSettings, redact_uri
from pas.config.defaults import DEFAULT_MONGO_SOCKET_TIMEOUT_SEC
from pas.errors import ConfigError, StoreError
from pas.models import DEFAULT_BROKER
from pas.store.base import Store

if TYPE_CHECKING:
    from pymongo.client_session import ClientSession
    from pymongo.collection import Collection
    from pymongo.database import Database

T = TypeVar("T")

# Upserts are sent in batches of this many operations.
BULK_BATCH = 5000
# The server's code for a write refused by a unique index.
DUPLICATE_KEY = 11000

# Every index, as (collection, keys, unique). Each sort the store asks for is served by one
# of them (tests/store/test_mongo_indexes.py checks every query the contract suite sends),
# so a server before 6.0 never fails a large blocking sort. Changing this tuple changes
# INDEX_VERSION, and the next open creates the indexes again.
INDEXES: tuple[tuple[str, tuple[tuple[str, int], ...], bool], ...] = (
    ("fills", (("fill_id", 1),), True),
    ("fills", (("portfolio", 1), ("ts", 1), ("seq", 1)), False),
    ("fills", (("portfolio", 1), ("symbol", 1)), False),
    ("fills", (("broker_order_id", 1), ("ts", 1), ("seq", 1)), False),
    ("weights", (("portfolio", 1), ("at", -1), ("seq", -1)), False),
    ("prices", (("symbol", 1), ("day", 1)), True),
    ("prices", (("symbol", 1), ("day", -1)), False),
    ("runs", (("run_id", 1),), True),
    ("runs", (("started_at", -1), ("seq", -1)), False),
    ("daily_metrics", (("portfolio", 1), ("day", 1)), True),
    ("trailing_stats", (("portfolio", 1), ("window", 1), ("as_of", -1)), True),
    ("allocations", (("as_of", -1), ("seq", -1)), False),
    ("cash_flows", (("flow_id", 1),), True),
    ("cash_flows", (("portfolio", 1), ("ts", 1), ("seq", 1)), False),
    ("trade_runs", (("status", 1), ("created_at", 1), ("_id", 1)), False),
    ("trade_orders", (("client_order_id", 1),), True),
    ("trade_orders", (("run_id", 1), ("seq", 1)), False),
    ("trade_orders", (("status", 1),), False),
    ("sim_orders", (("client_order_id", 1),), True),
    ("sim_orders", (("submitted_at", -1), ("seq", -1)), False),
    ("sim_orders", (("status", 1), ("submitted_at", -1), ("seq", -1)), False),
    ("sim_fills", (("ts", 1), ("seq", 1)), False),
    ("records", (("dataset", 1), ("key", 1)), True),
    ("records", (("dataset", 1), ("public_at", 1), ("key", 1)), False),
    ("records", (("dataset", 1), ("ticker", 1), ("public_at", 1), ("key", 1)), False),
    ("record_revisions", (("dataset", 1), ("key", 1), ("until", 1)), True),
    ("record_revisions", (("dataset", 1), ("until", 1)), False),
    ("http_cache", (("expires_at", 1),), False),
)
INDEX_VERSION = hashlib.sha256(json.dumps(INDEXES).encode()).hexdigest()[:16]
# The document (in the collection "meta") naming the INDEX_VERSION the database has.
INDEX_DOC = "indexes"

# Server types (pymongo's names) that run multi-document transactions.
_TRANSACTIONAL = frozenset({"RSPrimary", "Mongos", "LoadBalancer"})
# Collection methods that take a session= argument (all the store calls).
_SESSION_METHODS = frozenset(
    {
        "aggregate",
        "bulk_write",
        "count_documents",
        "delete_many",
        "delete_one",
        "distinct",
        "find",
        "find_one",
        "find_one_and_update",
        "insert_many",
        "insert_one",
        "replace_one",
        "update_many",
        "update_one",
    }
)


class _InSession:
    """A collection whose every call joins the open transaction's session."""

    def __init__(self, collection: Any, session: ClientSession) -> None:
        self._collection = collection
        self._session = session

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._collection, name)
        if name not in _SESSION_METHODS:
            return method

        def call(*args: Any, **kw: Any) -> Any:
            return method(*args, session=self._session, **kw)

        return call


# Records' natural keys became the identity of a filing (never a corrected value) and bare
# dates the end of the New York day: a database written before holds records under the old
# keys, which a scrape would duplicate. They are dropped once, with the coverage, and the
# next scrape fetches the history again (SQLite does the same in its migrations).
RECORD_KEYS_VERSION = 2
RECORD_KEYS_DOC = "record_keys"


class MongoCore(Store):
    """What every MongoDB aggregate shares.

    Args:
        client: a ``pymongo.MongoClient`` (or ``mongomock.MongoClient`` in tests).
        db_name: the database (``DB_NAME``).
        where: a description of the server for messages, without credentials.
        prefix: put before every collection's name: the backtest namespace lives in the
            same database as the live data (a ``readWrite`` user may have no other).
        socket_timeout_sec: the client's socket timeout, named in a timeout's message.
    """

    backend = "mongo"

    def __init__(
        self,
        client: Any,
        db_name: str,
        where: str = "",
        clock: Clock = system_clock,
        *,
        prefix: str = "",
        socket_timeout_sec: float = DEFAULT_MONGO_SOCKET_TIMEOUT_SEC,
    ) -> None:
        super().__init__(clock)
        self._client = client
        self._where = where or "MongoDB"
        self._db: Database[dict[str, Any]] = client[db_name]
        self._prefix = prefix
        self._socket_timeout_sec = socket_timeout_sec
        self._session: ClientSession | None = None
        self.db_name = db_name
        with self._errors():
            versions = {
                d["_id"]: d.get("version")
                for d in self._collection("meta").find({"_id": {"$in": [INDEX_DOC, RECORD_KEYS_DOC]}})
            }
            if versions.get(INDEX_DOC) != INDEX_VERSION:
                # A database from before the broker binding has older indexes too, so
                # binding its portfolios costs no round trip on an up-to-date open.
                self._bind_unbound_portfolios()
            self._ensure_indexes(versions.get(INDEX_DOC))
            self._drop_records_under_old_keys(versions.get(RECORD_KEYS_DOC))

    @classmethod
    def connect(cls, settings: StoreSettings, clock: Clock = system_clock, *, prefix: str = "") -> Self:
        """Connects to ``settings.mongo_uri``, failing within ``mongo_timeout_sec`` when the
        server is unreachable; a query may take ``mongo_socket_timeout_sec``."""
        import pymongo
        from pymongo.errors import ConfigurationError

        uri = settings.mongo_uri or ""
        ms = int(settings.mongo_timeout_sec * 1000)
        try:
            client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
                uri,
                serverSelectionTimeoutMS=ms,
                connectTimeoutMS=ms,
                socketTimeoutMS=int(settings.mongo_socket_timeout_sec * 1000),
                tz_aware=True,
                appname="pas",
            )
        except (ConfigurationError, ValueError) as exc:  # InvalidURI, or a bad port or option
            raise ConfigError(
                f"MONGO_URI {redact_uri(uri)} is malformed ({_without_secret(str(exc), uri)}); fix it "
                "(such as mongodb://user:password@host:27017) or unset it to use the embedded store"
            ) from None
        return cls(
            client,
            settings.db_name,
            where=redact_uri(uri),
            clock=clock,
            prefix=prefix,
            socket_timeout_sec=settings.mongo_socket_timeout_sec,
        )

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Turns driver errors into one-line :class:`StoreError` messages.

        An unreachable server (no answer to server selection, a refused or broken
        connection) is told apart from a slow one (connected, but no answer to a query
        within the socket timeout), where a write may or may not have been applied.
        """
        from bson.errors import InvalidDocument
        from pymongo.errors import (
            ConnectionFailure,
            NetworkTimeout,
            PyMongoError,
            ServerSelectionTimeoutError,
        )

        try:
            yield
        except NetworkTimeout as exc:
            if isinstance(exc, ServerSelectionTimeoutError):
                raise self._unreachable(exc) from exc
            raise StoreError(
                f"MongoDB at {self._where} did not answer within PAS_MONGO_SOCKET_TIMEOUT_SEC="
                f"{self._socket_timeout_sec:g} s (NetworkTimeout): the query is slow or the server "
                "overloaded, and whether a write in flight was applied is unknown; run the command "
                "again, or raise PAS_MONGO_SOCKET_TIMEOUT_SEC"
            ) from exc
        except ConnectionFailure as exc:
            raise self._unreachable(exc) from exc
        except PyMongoError as exc:
            raise StoreError(f"MongoDB at {self._where} refused the operation: {exc}") from exc
        except InvalidDocument as exc:  # DocumentTooLarge: pymongo checks before sending
            raise StoreError(f"MongoDB at {self._where} cannot store this document: {exc}") from exc

    def _unreachable(self, exc: Exception) -> StoreError:
        return StoreError(
            f"cannot reach MongoDB at {self._where} ({type(exc).__name__}); check MONGO_URI "
            "and that the server is running, or unset MONGO_URI to use the embedded store"
        )

    def close(self) -> None:
        self._client.close()

    def empty(self) -> None:
        """Drops every collection of this store's namespace (a backtest run's, before it
        starts) and creates its indexes again.

        Needs only the ``readWrite`` role: collections are dropped one by one, never the
        database (``dropDatabase`` is not part of that role).
        """
        self.drop()
        with self._errors():
            self._ensure_indexes(None)

    def drop(self) -> None:
        """Drops every collection of this store's namespace (a deleted backtest run's)."""
        with self._errors():
            for name in self.collection_names(self._prefix):
                self._db.drop_collection(name)

    def collection_names(self, prefix: str) -> list[str]:
        """The names of this database's collections that start with ``prefix``."""
        with self._errors():
            return list(self._db.list_collection_names(filter={"name": {"$regex": f"^{re.escape(prefix)}"}}))

    def describe(self) -> str:
        namespace = f" collections {self._prefix}*" if self._prefix else ""
        return f"mongodb {self._where} database {self.db_name}{namespace}"

    def _ensure_indexes(self, stored: str | None) -> None:
        """Creates the indexes unless the database has this INDEX_VERSION (``stored``; the
        open reads it with the record keys' version in one round trip)."""
        if stored == INDEX_VERSION:
            return
        for collection, keys, unique in INDEXES:
            self._collection(collection).create_index(list(keys), unique=unique)
        self._collection("meta").update_one(
            {"_id": INDEX_DOC}, {"$set": {"version": INDEX_VERSION}}, upsert=True
        )

    def _bind_unbound_portfolios(self) -> None:
        """The broker binding's migration (issue 12), idempotent: a portfolio stored before
        it is bound to the broker of its newest trading run, else to Alpaca (the default
        broker). The same rule as SQLite's migration."""
        portfolios = self._collection("portfolios")
        for doc in portfolios.find({"broker": {"$exists": False}}, {"_id": 1}):
            runs = self._collection("trade_runs").find({"portfolios": doc["_id"]}, {"broker": 1})
            newest = list(runs.sort([("created_at", -1), ("_id", -1)]).limit(1))
            broker = newest[0]["broker"] if newest else DEFAULT_BROKER
            portfolios.update_one(
                {"_id": doc["_id"], "broker": {"$exists": False}}, {"$set": {"broker": broker}}
            )

    def _drop_records_under_old_keys(self, stored: int | None) -> None:
        if stored == RECORD_KEYS_VERSION:
            return
        for name in ("records", "record_revisions", "scrape_coverage"):
            self._collection(name).delete_many({})
        self._collection("meta").update_one(
            {"_id": RECORD_KEYS_DOC}, {"$set": {"version": RECORD_KEYS_VERSION}}, upsert=True
        )

    def _collection(self, name: str) -> Collection[dict[str, Any]]:
        """The collection ``name``: the one seam through which the store reaches the driver,
        so tests inject faults here (real pymongo builds a new Collection on each access).
        Inside :meth:`_atomically` its calls join the transaction."""
        collection = self._db[self._prefix + name]
        if self._session is not None:
            return _InSession(collection, self._session)  # type: ignore[return-value]
        return collection

    def _transactions(self) -> bool:
        """Whether the server runs multi-document transactions (a replica set, Atlas, a
        sharded cluster), from the topology the driver already knows: no round trip."""
        from pymongo import MongoClient

        if not isinstance(self._client, MongoClient):  # mongomock, which has no sessions
            return False
        servers = self._client.topology_description.server_descriptions().values()
        return any(s.server_type_name in _TRANSACTIONAL for s in servers)

    def _atomically(self, body: Callable[[], T]) -> T:
        """Runs ``body``'s writes as one transaction where the server has them.

        Elsewhere (a standalone server) the writes are made one by one, and each caller
        orders them so that a crash half-way leaves a state the next call completes (its
        docstring says how). pymongo's ``with_transaction`` retries a transient failure.
        """
        if self._session is not None or not self._transactions():
            return body()
        with self._client.start_session() as session:
            self._session = session
            try:
                result: T = session.with_transaction(lambda _: body())
                return result
            finally:
                self._session = None

    def _upsert(self, name: str, ops: Sequence[Any]) -> int:
        """Sends upserts in batches of :data:`BULK_BATCH`; returns how many inserted.

        Two writers upserting one new key can both find nothing and both insert; the unique
        index keeps one and fails the other with E11000. Servers from 4.2 retry some such
        upserts themselves, older ones never, so the store does it: the failed operations
        are sent once more, and now match (and update) the rival's document. Any other
        write error stays an error.
        """
        from pymongo.errors import BulkWriteError

        inserted = 0
        for start in range(0, len(ops), BULK_BATCH):
            batch = ops[start : start + BULK_BATCH]
            try:
                inserted += self._collection(name).bulk_write(batch, ordered=False).upserted_count
            except BulkWriteError as exc:
                errors = exc.details.get("writeErrors", [])
                if not errors or any(e.get("code") != DUPLICATE_KEY for e in errors):
                    raise
                retry = [batch[e["index"]] for e in errors]
                inserted += int(exc.details.get("nUpserted", 0))
                inserted += self._collection(name).bulk_write(retry, ordered=False).upserted_count
        return inserted

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
