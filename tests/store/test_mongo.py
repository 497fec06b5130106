"""The MongoDB backend's own behaviour: over mongomock and over the wire to a real server.

What the contract suite cannot see from the interface: round trips per open, the indexes
behind every sort, a concurrent writer's duplicate-key errors, the error messages of a
slow and an unreachable server.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from pymongo.monitoring import CommandListener

from pas.models import DailyMetric, Price
from pas.store.mongo import MongoStore
from tests.conftest import FakeClock, MongoServer, _mongomock_accepts_sort
from tests.store.builders import fill


@dataclass
class Commands(CommandListener):
    """A pymongo command listener keeping each command sent to one database."""

    db_name: str
    seen: list[dict[str, Any]] = field(default_factory=list)

    def started(self, event: Any) -> None:
        if event.database_name == self.db_name:
            self.seen.append(dict(event.command))

    def succeeded(self, event: Any) -> None:
        pass

    def failed(self, event: Any) -> None:
        pass

    def names(self) -> list[str]:
        return [next(iter(c)) for c in self.seen]


@dataclass
class Backend:
    """Opens MongoStores over one server (mongomock's memory or the wire server)."""

    name: str
    client_of: Callable[[list[Any]], Any]
    db_name: str
    clock: FakeClock

    def open(self, *listeners: Any) -> MongoStore:
        return MongoStore(self.client_of(list(listeners)), self.db_name, where=self.name, clock=self.clock)


@pytest.fixture(params=["mongomock", "mongo"])
def backend(request: pytest.FixtureRequest, clock: FakeClock) -> Backend:
    if request.param == "mongomock":
        import mongomock

        _mongomock_accepts_sort()
        shared = mongomock.MongoClient(tz_aware=True)
        return Backend("mongomock", lambda _listeners: shared, "pas_test", clock)
    import pymongo

    server: MongoServer = request.getfixturevalue("mongo_server")

    def client_of(listeners: list[Any]) -> Any:
        return pymongo.MongoClient(server.uri, tz_aware=True, event_listeners=listeners)

    return Backend("mongo", client_of, request.getfixturevalue("mongo_db"), clock)


@pytest.fixture
def wire(request: pytest.FixtureRequest, clock: FakeClock) -> Backend:
    """The wire server only: what only a real driver shows (commands, timeouts)."""
    import pymongo

    server: MongoServer = request.getfixturevalue("mongo_server")

    def client_of(listeners: list[Any]) -> Any:
        return pymongo.MongoClient(server.uri, tz_aware=True, event_listeners=listeners)

    return Backend("mongo", client_of, request.getfixturevalue("mongo_db"), clock)


# -- indexes, once per version -------------------------------------------------------
def test_an_open_of_a_current_database_is_one_round_trip(wire: Backend) -> None:
    wire.open().close()  # the first open creates the indexes
    commands = Commands(wire.db_name)
    wire.open(commands).close()
    assert commands.names() == ["find"], "one look at the index version, no createIndexes"


def test_a_changed_index_version_creates_the_indexes_again(backend: Backend) -> None:
    store = backend.open()
    store._collection("meta").update_one({"_id": "indexes"}, {"$set": {"version": "older"}})
    store._collection("fills").drop_indexes()
    store.close()
    store = backend.open()
    names = {tuple(i["key"]) for i in store._collection("fills").index_information().values()}
    assert ("fill_id",) in {tuple(k for k, _ in key) for key in names}
    assert store._collection("meta").find_one({"_id": "indexes"})["version"] != "older"


# -- a concurrent writer's duplicate keys --------------------------------------------
class _RivalWinsTheRace:
    """A collection whose first bulk upsert loses a race, as on a server that does not
    retry colliding upserts (before 4.2, or outside the retried cases): another writer
    inserted some of the same keys between this write's match and its insert, so the
    server applies the rest and reports E11000 for those."""

    def __init__(self, collection: Any, rival: Callable[[Any], None], lost: set[int]) -> None:
        self._collection, self._rival, self._lost = collection, rival, lost

    def __getattr__(self, name: str) -> Any:
        return getattr(self._collection, name)

    def bulk_write(self, ops: list[Any], ordered: bool = True, **kw: Any) -> Any:
        from pymongo.errors import BulkWriteError

        if not self._lost:
            return self._collection.bulk_write(ops, ordered=ordered, **kw)
        lost = set(self._lost)
        self._lost.clear()  # shared by every wrapper the seam hands out: the race is lost once
        self._rival(self._collection)
        kept = [op for i, op in enumerate(ops) if i not in lost]
        done = self._collection.bulk_write(kept, ordered=False) if kept else None
        raise BulkWriteError(
            {
                "writeErrors": [
                    {"index": i, "code": 11000, "errmsg": "E11000 duplicate key error"} for i in sorted(lost)
                ],
                "nUpserted": 0 if done is None else done.upserted_count,
                "nMatched": 0 if done is None else done.matched_count,
            }
        )


def _racing(store: MongoStore, name: str, rival: Callable[[Any], None], lost: set[int]) -> None:
    real = store._collection

    def collection_of(wanted: str) -> Any:
        return _RivalWinsTheRace(real(wanted), rival, lost) if wanted == name else real(wanted)

    store._collection = collection_of  # type: ignore[method-assign]


def test_append_fills_counts_a_fill_a_rival_inserted_first_as_not_new(backend: Backend) -> None:
    store = backend.open()
    rival_fill = {"fill_id": "f1", "portfolio": "alpha", "symbol": "AAPL", "side": "buy", "seq": 0}
    rival_fill |= {"qty_n": 10**9, "price_n": 100_500_000_000, "commission_n": 10_000_000}
    rival_fill |= {
        "ts": "2026-01-05T15:01:00.000000Z",
        "broker_order_id": "",
        "client_order_id": "",
        "run_id": "",
    }
    _racing(store, "fills", lambda c: c.insert_one(dict(rival_fill)), {1})
    assert store.append_fills([fill(0), fill(1), fill(2)]) == 2
    assert sorted(f.fill_id for f in store.fills("alpha")) == ["f0", "f1", "f2"]
    assert store.append_fills([fill(1)]) == 0


def test_put_daily_metrics_overwrites_what_a_rival_inserted_first(backend: Backend) -> None:
    store = backend.open()
    day = date(2026, 1, 5)
    rival = {"portfolio": "alpha", "day": day.isoformat(), "ret": 0.5, "source": "rival"}
    _racing(store, "daily_metrics", lambda c: c.insert_one(dict(rival)), {0})
    mine = [DailyMetric("alpha", day, 0.01, Decimal(100), None, "ledger")]
    assert store.put_daily_metrics(mine) == 1
    assert store.daily_metrics("alpha") == mine, "the later writer's values are kept"


def test_upsert_prices_overwrites_what_a_rival_inserted_first(backend: Backend) -> None:
    store = backend.open()
    day = date(2026, 1, 5)
    rival = {"symbol": "AAPL", "day": day.isoformat(), "close_n": 1}
    _racing(store, "prices", lambda c: c.insert_one(dict(rival)), {1})
    prices = [Price("MSFT", day, Decimal("400.5")), Price("AAPL", day, Decimal("200.25"))]
    assert store.upsert_prices(prices) == 2
    assert store.latest_prices(["AAPL", "MSFT"]) == {p.symbol: p for p in prices}


def test_any_other_bulk_write_error_is_a_store_error(backend: Backend) -> None:
    from pymongo.errors import BulkWriteError

    from pas.errors import StoreError

    store = backend.open()
    real = store._collection

    class _Refusing:
        def __init__(self, collection: Any) -> None:
            self._collection = collection

        def __getattr__(self, name: str) -> Any:
            return getattr(self._collection, name)

        def bulk_write(self, ops: list[Any], **kw: Any) -> Any:
            raise BulkWriteError({"writeErrors": [{"index": 0, "code": 121, "errmsg": "validation"}]})

    store._collection = lambda name: _Refusing(real(name))  # type: ignore[method-assign]
    with pytest.raises(StoreError, match="refused"):
        store.upsert_prices([Price("AAPL", date(2026, 1, 5), Decimal(1))])


# -- every sort has its index ---------------------------------------------------------
def _sorts(command: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], list[tuple[str, int]]]]:
    """(collection, filter, sort) of each sort a find or aggregate command asks for."""
    name = next(iter(command))
    if name == "find" and command.get("sort"):
        yield command["find"], dict(command.get("filter", {})), list(command["sort"].items())
    elif name == "aggregate":
        match: dict[str, Any] = {}
        for stage in command["pipeline"]:
            if "$match" in stage:
                match = dict(stage["$match"])
            elif "$sort" in stage:
                yield command["aggregate"], match, list(stage["$sort"].items())
                return
            else:
                return  # a sort after a group or projection sorts what the server made


def _served(filter_: dict[str, Any], sort: list[tuple[str, int]], keys: list[tuple[str, int]]) -> bool:
    """Whether an index with ``keys`` returns documents in ``sort`` order: after the index
    fields the filter pins to one value, the sort is a prefix of the rest, read forwards
    or backwards."""

    def pinned(name: str) -> bool:
        value = filter_.get(name)
        if isinstance(value, dict) and "$in" in value:
            return len(value["$in"]) == 1
        return name in filter_ and not isinstance(value, dict)

    rest = list(keys)
    while rest and rest[0][0] not in {k for k, _ in sort} and pinned(rest[0][0]):
        rest.pop(0)
    head = rest[: len(sort)]
    return head == sort or head == [(k, -d) for k, d in sort]


def test_every_sort_the_store_asks_for_is_served_by_an_index(wire: Backend, clock: FakeClock) -> None:
    from pas.store.mongo.store import INDEXES
    from tests.store.workload import run_workload

    commands = Commands(wire.db_name)
    store = wire.open(commands)
    run_workload(store, clock)
    indexes: dict[str, list[list[tuple[str, int]]]] = {}
    for collection, keys, _unique in INDEXES:
        indexes.setdefault(collection, [[("_id", 1)]]).append(list(keys))
    unserved = [
        (collection, filter_, sort)
        for command in commands.seen
        for collection, filter_, sort in _sorts(command)
        if not any(_served(filter_, sort, keys) for keys in indexes.get(collection, [[("_id", 1)]]))
    ]
    assert len(commands.seen) > 50, "the workload reached the store"
    assert unserved == []


def test_the_index_check_tells_served_from_unserved() -> None:
    # The check itself: (dataset, public_at) cannot sort by (public_at, key).
    assert _served({"dataset": "x"}, [("public_at", 1)], [("dataset", 1), ("public_at", 1)])
    assert not _served({"dataset": "x"}, [("public_at", 1), ("key", 1)], [("dataset", 1), ("public_at", 1)])
    assert _served({"symbol": {"$in": ["A"]}}, [("day", -1)], [("symbol", 1), ("day", 1)])
    assert not _served(
        {"symbol": {"$in": ["A", "B"]}}, [("symbol", 1), ("day", -1)], [("symbol", 1), ("day", 1)]
    )
    assert _served({}, [("started_at", -1), ("seq", -1)], [("started_at", -1), ("seq", -1)])


# -- transactions ---------------------------------------------------------------------
def test_where_the_server_has_transactions_a_removal_is_one(
    own_mongo_server: MongoServer, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """mongoeco runs transactions although it reports a standalone server (a real one of
    those refuses them, so the test is skipped there), so the store is told it may; a
    replica set or Atlas says so itself.

    On a server of the test's own: mongoeco fails a commit when anything on the whole
    server was written meanwhile, which the other xdist workers do all the time.
    """
    import pymongo

    from tests.store.builders import portfolio
    from tests.store.test_trading import _crashing_on

    db_name = f"pas_test_{uuid.uuid4().hex[:16]}"
    commands = Commands(db_name)
    client: Any = pymongo.MongoClient(own_mongo_server.uri, tz_aware=True, event_listeners=[commands])
    try:
        store = MongoStore(client, db_name, where="mongo", clock=clock)
        if own_mongo_server.is_mongoeco:
            assert not store._transactions(), "a standalone server: writes ordered, not transacted"
            monkeypatch.setattr(store, "_transactions", lambda: True)
        elif not store._transactions():
            pytest.skip("a standalone mongod refuses transactions; run against a replica set or Atlas")
        store.add_portfolio(portfolio("alpha"))
        store.append_fills([fill(0)])
        store._collection = _crashing_on("portfolios", "delete_one", store._collection)  # type: ignore[method-assign]
        with pytest.raises(KeyboardInterrupt):
            store.remove_portfolio("alpha")
        del store._collection
        assert [f.fill_id for f in store.fills("alpha")] == ["f0"], "the deletes before the crash were undone"
        commands.seen.clear()
        store.remove_portfolio("alpha")
        assert store.get_portfolio("alpha") is None and store.fills("alpha") == []
        deletes = [c for c in commands.seen if next(iter(c)) == "delete"]
        assert deletes and all("txnNumber" in c for c in deletes)
    finally:
        client.drop_database(db_name)
        client.close()
