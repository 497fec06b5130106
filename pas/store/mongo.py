"""The MongoDB backend (pymongo), used when ``MONGO_URI`` is set.

Unique indexes make recording idempotent, ``bulk_write`` upserts batch the writes,
``find_one_and_update`` takes locks atomically, and an aggregation pipeline sums
holdings in the server. Works unchanged against a replica set or Atlas, so several hosts
can run the crons against one database.

Documents never use symbols as field names (``BRK.B`` would be read as a path).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pas.config import redact_uri
from pas.errors import InputError, StoreError
from pas.models import (
    AppliedAllocation,
    BreakerState,
    CashFlow,
    DailyMetric,
    Fill,
    Portfolio,
    Price,
    Run,
    RunStatus,
    Schedule,
    Side,
    TradeOrder,
    TradeOrderStatus,
    TradeRun,
    TradeRunStatus,
    TrailingStats,
    WeightSet,
    format_ts,
    from_units,
    parse_ts,
    to_units,
)
from pas.portfolio.broker.base import BrokerFill, Order, OrderStatus
from pas.records import Record, UpsertCounts
from pas.store.base import (
    Clock,
    LedgerEntry,
    Store,
    breaker_from_doc,
    breaker_to_doc,
    sum_sim_fills,
    system_clock,
)

if TYPE_CHECKING:
    from pymongo.database import Database

# Upserts are sent in batches of this many operations.
BULK_BATCH = 5000
# MongoDB refuses documents over 16 MiB (BSON's limit); a response body above this, with
# room left for the key and expiry, is not cached.
MAX_CACHED_BODY_BYTES = 15 * 1024 * 1024


class MongoStore(Store):
    """The MongoDB backend.

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

    @classmethod
    def connect(cls, uri: str, db_name: str, timeout_sec: float, clock: Clock = system_clock) -> MongoStore:
        """Connects to a server, failing within ``timeout_sec`` when it is unreachable."""
        import pymongo

        ms = int(timeout_sec * 1000)
        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
            uri,
            serverSelectionTimeoutMS=ms,
            connectTimeoutMS=ms,
            socketTimeoutMS=max(ms, 30_000),
            tz_aware=True,
            appname="pas",
        )
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
        db = self._db
        db.fills.create_index("fill_id", unique=True)
        db.fills.create_index([("portfolio", 1), ("ts", 1)])
        db.fills.create_index([("portfolio", 1), ("symbol", 1)])
        db.weights.create_index([("portfolio", 1), ("at", -1), ("seq", -1)])
        db.prices.create_index([("symbol", 1), ("day", 1)], unique=True)
        db.runs.create_index("run_id", unique=True)
        db.runs.create_index([("started_at", -1)])
        db.daily_metrics.create_index([("portfolio", 1), ("day", 1)], unique=True)
        db.trailing_stats.create_index([("portfolio", 1), ("window", 1), ("as_of", -1)], unique=True)
        db.fills.create_index("broker_order_id")
        db.allocations.create_index([("as_of", -1), ("seq", -1)])
        db.cash_flows.create_index("flow_id", unique=True)
        db.cash_flows.create_index([("portfolio", 1), ("ts", 1), ("seq", 1)])
        db.trade_runs.create_index([("status", 1), ("created_at", 1)])
        db.trade_orders.create_index("client_order_id", unique=True)
        db.trade_orders.create_index([("run_id", 1), ("seq", 1)])
        db.trade_orders.create_index("status")
        db.sim_orders.create_index("client_order_id", unique=True)
        db.sim_orders.create_index([("submitted_at", -1), ("seq", -1)])
        db.sim_fills.create_index([("ts", 1), ("seq", 1)])
        db.records.create_index([("dataset", 1), ("key", 1)], unique=True)
        db.records.create_index([("dataset", 1), ("public_at", 1)])
        db.records.create_index([("dataset", 1), ("ticker", 1), ("public_at", 1)])
        db.http_cache.create_index("expires_at")

    def _next(self, name: str, count: int = 1) -> int:
        """Reserves ``count`` values of a counter shared by all processes; returns the first.

        The counter orders records written within one clock tick.
        """
        from pymongo import ReturnDocument

        doc = self._db.counters.find_one_and_update(
            {"_id": name}, {"$inc": {"value": count}}, upsert=True, return_document=ReturnDocument.AFTER
        )
        assert doc is not None  # upsert with ReturnDocument.AFTER always returns the document
        return int(doc["value"]) - count + 1

    # -- portfolios --------------------------------------------------------------------
    def add_portfolio(self, portfolio: Portfolio) -> None:
        from pymongo.errors import DuplicateKeyError

        doc = {
            "_id": portfolio.id,
            "strategy": portfolio.strategy,
            "schedule": portfolio.schedule.value,
            "capital_n": None if portfolio.capital is None else to_units(portfolio.capital),
            "params": [[k, v] for k, v in sorted(portfolio.params.items())],
            "created_at": format_ts(portfolio.created_at),
        }
        try:
            with self._errors():
                self._db.portfolios.insert_one(doc)
        except StoreError as exc:
            if isinstance(exc.__cause__, DuplicateKeyError):
                raise InputError(
                    f"portfolio {portfolio.id!r} exists already (see `pas portfolio show {portfolio.id}`)"
                ) from None
            raise

    def get_portfolio(self, portfolio_id: str) -> Portfolio | None:
        with self._errors():
            doc = self._db.portfolios.find_one({"_id": portfolio_id})
        return None if doc is None else _portfolio(doc)

    def list_portfolios(self) -> list[Portfolio]:
        with self._errors():
            return [_portfolio(doc) for doc in self._db.portfolios.find().sort("_id", 1)]

    def remove_portfolio(self, portfolio_id: str) -> None:
        # Ledger first: a crash half-way leaves a portfolio without fills, never orphan fills.
        with self._errors():
            self._db.fills.delete_many({"portfolio": portfolio_id})
            self._db.cash_flows.delete_many({"portfolio": portfolio_id})
            self._db.weights.delete_many({"portfolio": portfolio_id})
            self._db.portfolios.delete_one({"_id": portfolio_id})

    # -- target weights ----------------------------------------------------------------
    def put_weights(self, weights: WeightSet) -> None:
        with self._errors():
            self._db.weights.insert_one(
                {
                    "portfolio": weights.portfolio,
                    "at": format_ts(weights.at),
                    "seq": self._next("weights"),
                    "source": weights.source,
                    "weights": [[s, w] for s, w in sorted(weights.weights.items())],
                }
            )

    def weights_history(self, portfolio_id: str, limit: int | None = None) -> list[WeightSet]:
        with self._errors():
            cursor = self._db.weights.find({"portfolio": portfolio_id}).sort([("at", -1), ("seq", -1)])
            if limit is not None:
                cursor = cursor.limit(limit)
            return [
                WeightSet(
                    portfolio=doc["portfolio"],
                    at=parse_ts(doc["at"]),
                    source=doc["source"],
                    weights={s: float(w) for s, w in doc["weights"]},
                )
                for doc in cursor
            ]

    # -- ledger ------------------------------------------------------------------------
    def append_fills(self, fills: Sequence[Fill]) -> int:
        from pymongo import UpdateOne

        new = 0
        with self._errors():
            for start in range(0, len(fills), BULK_BATCH):
                batch = fills[start : start + BULK_BATCH]
                first = self._next("fills", len(batch))
                ops = [
                    UpdateOne(
                        {"fill_id": f.fill_id},
                        {"$setOnInsert": _fill_doc(f, first + i)},
                        upsert=True,
                    )
                    for i, f in enumerate(batch)
                ]
                result = self._db.fills.bulk_write(ops, ordered=False)
                new += result.upserted_count
        return new

    def fills(
        self,
        portfolio_id: str,
        since: datetime | None = None,
        symbol: str | None = None,
        limit: int | None = None,
    ) -> list[Fill]:
        query: dict[str, Any] = {"portfolio": portfolio_id}
        if since is not None:
            query["ts"] = {"$gte": format_ts(since)}
        if symbol is not None:
            query["symbol"] = symbol
        with self._errors():
            cursor = self._db.fills.find(query).sort([("ts", 1), ("seq", 1)])
            if limit is not None:
                cursor = cursor.limit(limit)
            return [_fill(doc) for doc in cursor]

    def ledger(self, portfolio_id: str) -> list[LedgerEntry]:
        projection = {"_id": 0, "symbol": 1, "side": 1, "qty_n": 1, "price_n": 1, "commission_n": 1}
        with self._errors():
            cursor = self._db.fills.find({"portfolio": portfolio_id}, projection).sort(
                [("ts", 1), ("seq", 1)]
            )
            return [
                LedgerEntry(
                    d["symbol"],
                    d["qty_n"] if d["side"] == "buy" else -d["qty_n"],
                    d["price_n"],
                    d["commission_n"],
                )
                for d in cursor
            ]

    def holdings(self, portfolio_id: str) -> dict[str, Any]:
        pipeline: list[dict[str, Any]] = [
            {"$match": {"portfolio": portfolio_id}},
            {
                "$group": {
                    "_id": "$symbol",
                    "q": {
                        "$sum": {
                            "$cond": [
                                {"$eq": ["$side", "buy"]},
                                "$qty_n",
                                {"$multiply": ["$qty_n", -1]},
                            ]
                        }
                    },
                }
            },
            {"$match": {"q": {"$ne": 0}}},
            {"$sort": {"_id": 1}},
        ]
        with self._errors():
            return {doc["_id"]: from_units(int(doc["q"])) for doc in self._db.fills.aggregate(pipeline)}

    def fills_of_order(self, broker_order_id: str) -> list[Fill]:
        with self._errors():
            cursor = self._db.fills.find({"broker_order_id": broker_order_id}).sort([("ts", 1), ("seq", 1)])
            return [_fill(doc) for doc in cursor]

    # -- cash flows --------------------------------------------------------------------
    def add_cash_flow(self, flow: CashFlow) -> bool:
        with self._errors():
            result = self._db.cash_flows.update_one(
                {"flow_id": flow.flow_id},
                {
                    "$setOnInsert": {
                        "portfolio": flow.portfolio,
                        "amount_n": to_units(flow.amount),
                        "ts": format_ts(flow.ts),
                        "note": flow.note,
                        "seq": self._next("cash_flows"),
                    }
                },
                upsert=True,
            )
            return result.upserted_id is not None

    def cash_flows(self, portfolio_id: str) -> list[CashFlow]:
        with self._errors():
            cursor = self._db.cash_flows.find({"portfolio": portfolio_id}).sort([("ts", 1), ("seq", 1)])
            return [
                CashFlow(
                    d["portfolio"], from_units(int(d["amount_n"])), parse_ts(d["ts"]), d["flow_id"], d["note"]
                )
                for d in cursor
            ]

    # -- trading runs ------------------------------------------------------------------
    def create_trade_run(self, run: TradeRun, orders: Sequence[TradeOrder]) -> None:
        """Stores the orders, then the run: the run document is the commit point.

        MongoDB writes one document atomically, and a standalone server (the common
        set-up here) has no multi-document transactions. So the run's single insert is what
        makes the plan exist: a crash before it leaves ``planned`` orders that no run
        points at, which nothing ever sends (only an unfinished run's orders are sent) and
        the next call deletes; a crash after it leaves a complete run to resume. A run is
        therefore never without its orders. Embedding the orders in the run document would
        also be one write, but every order update would then rewrite an array element by
        client order id and lose the unique index that guards against sending twice.

        Orphans are swept here, under the trading lock that every caller holds, so no other
        process is between its two writes.
        """
        planned = TradeOrderStatus.PLANNED.value
        with self._errors():
            pending_runs = self._db.trade_orders.distinct("run_id", {"status": planned})
            if pending_runs:
                live = {
                    d["_id"] for d in self._db.trade_runs.find({"_id": {"$in": pending_runs}}, {"_id": 1})
                }
                orphans = [r for r in pending_runs if r not in live]
                if orphans:
                    self._db.trade_orders.delete_many({"run_id": {"$in": orphans}, "status": planned})
            if orders:
                self._db.trade_orders.insert_many([_trade_order_doc(o) for o in orders])
            self._db.trade_runs.insert_one(
                {
                    "_id": run.run_id,
                    "created_at": format_ts(run.created_at),
                    "broker": run.broker,
                    "portfolios": list(run.portfolios),
                    "status": run.status.value,
                }
            )

    def unfinished_trade_run(self) -> TradeRun | None:
        with self._errors():
            docs = list(
                self._db.trade_runs.find({"status": TradeRunStatus.SUBMITTING.value})
                .sort([("created_at", 1), ("_id", 1)])
                .limit(1)
            )
        if not docs:
            return None
        d = docs[0]
        return TradeRun(
            d["_id"],
            parse_ts(d["created_at"]),
            d["broker"],
            tuple(d["portfolios"]),
            TradeRunStatus(d["status"]),
        )

    def set_trade_run_status(self, run_id: str, status: TradeRunStatus) -> None:
        with self._errors():
            self._db.trade_runs.update_one({"_id": run_id}, {"$set": {"status": status.value}})

    def trade_orders(self, run_id: str | None = None, unsettled: bool = False) -> list[TradeOrder]:
        query: dict[str, Any] = {}
        if run_id is not None:
            query["run_id"] = run_id
        if unsettled:
            query["status"] = {"$in": [TradeOrderStatus.SENDING.value, TradeOrderStatus.SENT.value]}
        with self._errors():
            cursor = self._db.trade_orders.find(query).sort([("run_id", 1), ("seq", 1)])
            return [_trade_order(doc) for doc in cursor]

    def update_trade_order(
        self,
        client_order_id: str,
        status: TradeOrderStatus,
        *,
        broker_order_id: str | None = None,
        broker_status: str | None = None,
        error: str | None = None,
    ) -> None:
        update: dict[str, Any] = {"status": status.value}
        for key, value in (
            ("broker_order_id", broker_order_id),
            ("broker_status", broker_status),
            ("error", error),
        ):
            if value is not None:
                update[key] = value
        with self._errors():
            self._db.trade_orders.update_one({"client_order_id": client_order_id}, {"$set": update})

    def sync_cursor(self, broker: str) -> tuple[datetime, str] | None:
        with self._errors():
            doc = self._db.sync_cursors.find_one({"_id": broker})
        return None if doc is None else (parse_ts(doc["ts"]), doc["fill_id"])

    def save_sync_cursor(self, broker: str, ts: datetime, fill_id: str) -> None:
        with self._errors():
            self._db.sync_cursors.replace_one(
                {"_id": broker}, {"_id": broker, "ts": format_ts(ts), "fill_id": fill_id}, upsert=True
            )

    # -- simulated broker --------------------------------------------------------------
    def sim_add_order(self, order: Order) -> bool:
        from pymongo.errors import DuplicateKeyError

        doc = {**_sim_order_doc(order), "seq": self._next("sim_orders")}
        try:
            with self._errors():
                self._db.sim_orders.insert_one(doc)
        except StoreError as exc:
            if isinstance(exc.__cause__, DuplicateKeyError):
                return False
            raise
        return True

    def sim_save_order(self, order: Order) -> None:
        doc = _sim_order_doc(order)
        update = {k: doc[k] for k in ("filled_qty_n", "filled_avg_price_n", "status")}
        with self._errors():
            self._db.sim_orders.update_one({"_id": order.id}, {"$set": update})

    def sim_orders(
        self,
        *,
        open_only: bool = False,
        order_id: str | None = None,
        client_order_id: str | None = None,
        after: datetime | None = None,
    ) -> list[Order]:
        query: dict[str, Any] = {}
        if open_only:
            query["status"] = {"$nin": [s.value for s in OrderStatus if s.terminal]}
        if order_id is not None:
            query["_id"] = order_id
        if client_order_id is not None:
            query["client_order_id"] = client_order_id
        if after is not None:
            query["submitted_at"] = {"$gt": format_ts(after)}
        with self._errors():
            cursor = self._db.sim_orders.find(query).sort([("submitted_at", -1), ("seq", -1)])
            return [_sim_order(d) for d in cursor]

    def sim_totals(self) -> tuple[dict[str, Decimal], Decimal]:
        fields = {"_id": 0, "symbol": 1, "side": 1, "qty_n": 1, "price_n": 1, "commission_n": 1}
        with self._errors():
            rows = [
                (d["symbol"], d["side"], int(d["qty_n"]), int(d["price_n"]), int(d["commission_n"]))
                for d in self._db.sim_fills.find({}, fields)
            ]
        return sum_sim_fills(rows)

    def sim_add_fill(self, fill: BrokerFill) -> None:
        with self._errors():
            self._db.sim_fills.insert_one(
                {
                    "_id": fill.id,
                    "seq": self._next("sim_fills"),
                    "order_id": fill.order_id,
                    "symbol": fill.symbol,
                    "side": fill.side.value,
                    "qty_n": to_units(fill.qty),
                    "price_n": to_units(fill.price),
                    "commission_n": to_units(fill.commission),
                    "ts": format_ts(fill.ts),
                }
            )

    def sim_fills(self, after: datetime | None = None) -> list[BrokerFill]:
        query = {} if after is None else {"ts": {"$gt": format_ts(after)}}
        with self._errors():
            cursor = self._db.sim_fills.find(query).sort([("ts", 1), ("seq", 1)])
            return [
                BrokerFill(
                    id=d["_id"],
                    order_id=d["order_id"],
                    symbol=d["symbol"],
                    side=Side(d["side"]),
                    qty=from_units(int(d["qty_n"])),
                    price=from_units(int(d["price_n"])),
                    commission=from_units(int(d["commission_n"])),
                    ts=parse_ts(d["ts"]),
                )
                for d in cursor
            ]

    # -- prices ------------------------------------------------------------------------
    def upsert_prices(self, prices: Iterable[Price]) -> int:
        from pymongo import UpdateOne

        ops = [
            UpdateOne(
                {"symbol": p.symbol, "day": p.day.isoformat()},
                {"$set": {"close_n": to_units(p.close)}},
                upsert=True,
            )
            for p in prices
        ]
        with self._errors():
            for start in range(0, len(ops), BULK_BATCH):
                self._db.prices.bulk_write(ops[start : start + BULK_BATCH], ordered=False)
        return len(ops)

    def latest_prices(self, symbols: Iterable[str], on_or_before: date | None = None) -> dict[str, Price]:
        wanted = sorted(set(symbols))
        if not wanted:
            return {}
        pipeline: list[dict[str, Any]] = [
            {
                "$match": {
                    "symbol": {"$in": wanted},
                    "day": {"$lte": (on_or_before or date.max).isoformat()},
                }
            },
            {"$sort": {"symbol": 1, "day": -1}},
            {
                "$group": {
                    "_id": "$symbol",
                    "day": {"$first": "$day"},
                    "close_n": {"$first": "$close_n"},
                }
            },
        ]
        with self._errors():
            return {
                doc["_id"]: Price(doc["_id"], date.fromisoformat(doc["day"]), from_units(int(doc["close_n"])))
                for doc in self._db.prices.aggregate(pipeline)
            }

    def price_symbols(self) -> list[str]:
        with self._errors():
            return sorted(str(s) for s in self._db.prices.distinct("symbol"))

    def price_history(
        self, symbols: Iterable[str], start: date | None = None, end: date | None = None
    ) -> dict[str, list[Price]]:
        query = {
            "symbol": {"$in": sorted(set(symbols))},
            "day": {"$gte": (start or date.min).isoformat(), "$lte": (end or date.max).isoformat()},
        }
        found: dict[str, list[Price]] = {}
        with self._errors():
            for doc in self._db.prices.find(query, {"_id": 0}).sort([("symbol", 1), ("day", 1)]):
                price = Price(doc["symbol"], date.fromisoformat(doc["day"]), from_units(int(doc["close_n"])))
                found.setdefault(price.symbol, []).append(price)
        return found

    # -- runs --------------------------------------------------------------------------
    def start_run(self, run: Run) -> None:
        with self._errors():
            self._db.runs.insert_one(
                {
                    "run_id": run.run_id,
                    "command": run.command,
                    "started_at": format_ts(run.started_at),
                    "seq": self._next("runs"),
                    "ended_at": None,
                    "status": run.status.value,
                    "error": "",
                    "details": _plain(run.details),
                }
            )

    def finish_run(
        self,
        run_id: str,
        status: RunStatus,
        error: str = "",
        details: Mapping[str, Any] | None = None,
    ) -> None:
        update: dict[str, Any] = {
            "ended_at": format_ts(self.clock()),
            "status": status.value,
            "error": error,
        }
        if details is not None:
            update["details"] = _plain(details)
        with self._errors():
            self._db.runs.update_one({"run_id": run_id}, {"$set": update})

    def recent_runs(self, limit: int = 20) -> list[Run]:
        with self._errors():
            cursor = self._db.runs.find().sort([("started_at", -1), ("seq", -1)]).limit(limit)
            return [
                Run(
                    run_id=d["run_id"],
                    command=d["command"],
                    started_at=parse_ts(d["started_at"]),
                    ended_at=None if d.get("ended_at") is None else parse_ts(d["ended_at"]),
                    status=RunStatus(d["status"]),
                    error=d.get("error", ""),
                    details=dict(d.get("details") or {}),
                )
                for d in cursor
            ]

    # -- locks -------------------------------------------------------------------------
    def acquire_lock(self, name: str, owner: str, ttl_sec: float) -> bool:
        from pymongo.errors import DuplicateKeyError

        now = self.clock()
        # Matches a free, stale or own lock; when none matches, the upsert collides with the
        # live lock on _id and fails, which is the "held by someone else" answer.
        query = {"_id": name, "$or": [{"expires_at": {"$lte": format_ts(now)}}, {"owner": owner}]}
        update = {"$set": {"owner": owner, "expires_at": format_ts(now + timedelta(seconds=ttl_sec))}}
        try:
            with self._errors():
                self._db.locks.find_one_and_update(query, update, upsert=True)
        except StoreError as exc:
            if isinstance(exc.__cause__, DuplicateKeyError):
                return False
            raise
        return True

    def lock_owner(self, name: str) -> str | None:
        with self._errors():
            doc = self._db.locks.find_one({"_id": name})
        return None if doc is None else str(doc["owner"])

    def release_lock(self, name: str, owner: str) -> bool:
        with self._errors():
            return self._db.locks.delete_one({"_id": name, "owner": owner}).deleted_count > 0

    # -- scraped records ---------------------------------------------------------------
    # A record's fields are kept as one JSON string: keys from Quiver (or a hostile server)
    # never become field names, so "$where" or "a.b" cannot act as operators or paths.
    def upsert_records(self, dataset: str, records: Sequence[Record]) -> UpsertCounts:
        now = format_ts(self.clock())
        new = updated = unchanged = 0
        with self._errors():
            for start in range(0, len(records), BULK_BATCH):
                batch = records[start : start + BULK_BATCH]
                stored = {
                    d["key"]: d["digest"]
                    for d in self._db.records.find(
                        {"dataset": dataset, "key": {"$in": [r.key for r in batch]}},
                        {"_id": 0, "key": 1, "digest": 1},
                    )
                }
                inserts: list[dict[str, Any]] = []
                updates: dict[str, dict[str, Any]] = {}
                for r in batch:
                    digest = r.digest()
                    old = stored.get(r.key)
                    body = {
                        "ticker": r.ticker,
                        "event_date": r.event_date.isoformat(),
                        "public_at": format_ts(r.public_at),
                        "digest": digest,
                        "fields": r.fields_json(),
                    }
                    if old is None:
                        inserts.append({"dataset": dataset, "key": r.key, "first_seen": now, **body})
                        new += 1
                    elif old != digest:
                        updates[r.key] = body
                        updated += 1
                    else:
                        unchanged += 1
                    stored[r.key] = digest
                # Inserted first, so an update of a key new in this batch finds its document.
                # Updates are rare (Quiver revising a row) and go one by one.
                if inserts:
                    raced = self._insert_new(inserts)
                    new -= raced
                    unchanged += raced
                for key, body in updates.items():
                    self._db.records.update_one({"dataset": dataset, "key": key}, {"$set": body})
        return UpsertCounts(new, updated, unchanged)

    def _insert_new(self, docs: list[dict[str, Any]]) -> int:
        """Inserts records; returns how many another process had inserted first.

        Two scrapes of one dataset may race; the unique (dataset, key) index keeps one copy
        and the loser counts those records as unchanged instead of failing.
        """
        from pymongo.errors import BulkWriteError

        try:
            self._db.records.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != 11000 for e in errors):
                raise
            return len(errors)
        return 0

    def records(
        self,
        dataset: str,
        as_of: datetime | None = None,
        ticker: str | None = None,
        since: datetime | None = None,
    ) -> list[Record]:
        import json

        query: dict[str, Any] = {"dataset": dataset}
        if ticker is not None:
            query["ticker"] = ticker
        window: dict[str, str] = {}
        if as_of is not None:
            window["$lte"] = format_ts(as_of)
        if since is not None:
            window["$gte"] = format_ts(since)
        if window:
            query["public_at"] = window
        with self._errors():
            cursor = self._db.records.find(query, {"_id": 0}).sort([("public_at", 1), ("key", 1)])
            return [
                Record(
                    dataset=dataset,
                    key=d["key"],
                    ticker=d["ticker"],
                    event_date=date.fromisoformat(d["event_date"]),
                    public_at=parse_ts(d["public_at"]),
                    first_seen=parse_ts(d["first_seen"]),
                    fields=json.loads(d["fields"]),
                )
                for d in cursor
            ]

    def latest_public_at(self, dataset: str) -> datetime | None:
        with self._errors():
            doc = self._db.records.find_one(
                {"dataset": dataset}, {"_id": 0, "public_at": 1}, sort=[("public_at", -1)]
            )
        return None if doc is None else parse_ts(doc["public_at"])

    # -- HTTP cache --------------------------------------------------------------------
    def cache_get(self, key: str, now: datetime) -> str | None:
        with self._errors():
            doc = self._db.http_cache.find_one({"_id": key, "expires_at": {"$gt": format_ts(now)}})
        return None if doc is None else str(doc["body"])

    def cache_put(self, key: str, body: str, expires_at: datetime) -> None:
        with self._errors():
            self._db.http_cache.delete_many({"expires_at": {"$lte": format_ts(self.clock())}})
            if len(body.encode("utf-8", "surrogatepass")) > MAX_CACHED_BODY_BYTES:
                # Not cached at all: one document cannot hold it, and the next request of a
                # bulk page costs less than a cache split over many documents.
                self._db.http_cache.delete_one({"_id": key})
                return
            self._db.http_cache.update_one(
                {"_id": key}, {"$set": {"body": body, "expires_at": format_ts(expires_at)}}, upsert=True
            )

    # -- scrape coverage ---------------------------------------------------------------
    def coverage_get(self, dataset: str) -> str | None:
        with self._errors():
            doc = self._db.scrape_coverage.find_one({"_id": dataset})
        return None if doc is None else str(doc["coverage"])

    def coverage_put(self, dataset: str, coverage: str) -> None:
        with self._errors():
            self._db.scrape_coverage.update_one(
                {"_id": dataset}, {"$set": {"coverage": coverage}}, upsert=True
            )

    # -- rate limits -------------------------------------------------------------------
    def reserve_slot(self, name: str, interval_sec: float, now: datetime) -> datetime:
        from pymongo.errors import DuplicateKeyError

        # Compare-and-set on the last slot: a process that lost the race reads again.
        with self._errors():
            while True:
                doc = self._db.rate_slots.find_one({"_id": name})
                if doc is None:
                    try:
                        self._db.rate_slots.insert_one({"_id": name, "last_slot": format_ts(now)})
                    except DuplicateKeyError:
                        continue
                    return now
                last = str(doc["last_slot"])
                slot = max(now, parse_ts(last) + timedelta(seconds=interval_sec))
                result = self._db.rate_slots.update_one(
                    {"_id": name, "last_slot": last}, {"$set": {"last_slot": format_ts(slot)}}
                )
                if result.matched_count == 1:
                    return slot

    # -- daily metrics and trailing statistics -----------------------------------------
    def put_daily_metrics(self, metrics: Sequence[DailyMetric]) -> int:
        from pymongo import UpdateOne

        ops = [
            UpdateOne(
                {"portfolio": m.portfolio, "day": m.day.isoformat()},
                {
                    "$set": {
                        "ret": m.ret,
                        "equity_n": None if m.equity is None else to_units(m.equity),
                        "benchmark_ret": m.benchmark_ret,
                        "source": m.source,
                    }
                },
                upsert=True,
            )
            for m in metrics
        ]
        with self._errors():
            for start in range(0, len(ops), BULK_BATCH):
                self._db.daily_metrics.bulk_write(ops[start : start + BULK_BATCH], ordered=False)
        return len(ops)

    def daily_metrics(
        self, portfolio_id: str, start: date | None = None, end: date | None = None
    ) -> list[DailyMetric]:
        query = {
            "portfolio": portfolio_id,
            "day": {"$gte": (start or date.min).isoformat(), "$lte": (end or date.max).isoformat()},
        }
        with self._errors():
            return [
                DailyMetric(
                    d["portfolio"],
                    date.fromisoformat(d["day"]),
                    float(d["ret"]),
                    None if d.get("equity_n") is None else from_units(int(d["equity_n"])),
                    None if d.get("benchmark_ret") is None else float(d["benchmark_ret"]),
                    d["source"],
                )
                for d in self._db.daily_metrics.find(query).sort("day", 1)
            ]

    def metric_days(self, portfolio_id: str) -> set[date]:
        with self._errors():
            cursor = self._db.daily_metrics.find({"portfolio": portfolio_id}, {"_id": 0, "day": 1})
            return {date.fromisoformat(d["day"]) for d in cursor}

    def put_trailing_stats(self, stats: Sequence[TrailingStats]) -> int:
        from pymongo import UpdateOne

        ops = [
            UpdateOne(
                {"portfolio": t.portfolio, "window": t.window, "as_of": t.as_of.isoformat()},
                {"$set": {"values": [[k, float(v)] for k, v in t.values.items()]}},
                upsert=True,
            )
            for t in stats
        ]
        with self._errors():
            for start in range(0, len(ops), BULK_BATCH):
                self._db.trailing_stats.bulk_write(ops[start : start + BULK_BATCH], ordered=False)
        return len(ops)

    def trailing_stats(
        self, portfolio_id: str, window: str, as_of: date | None = None
    ) -> TrailingStats | None:
        query = {
            "portfolio": portfolio_id,
            "window": window,
            "as_of": {"$lte": (as_of or date.max).isoformat()},
        }
        with self._errors():
            doc = self._db.trailing_stats.find_one(query, sort=[("as_of", -1)])
        if doc is None:
            return None
        return TrailingStats(
            portfolio_id, date.fromisoformat(doc["as_of"]), window, {k: float(v) for k, v in doc["values"]}
        )

    def delete_trailing_stats_from(self, portfolio_id: str, day: date) -> int:
        with self._errors():
            result = self._db.trailing_stats.delete_many(
                {"portfolio": portfolio_id, "as_of": {"$gte": day.isoformat()}}
            )
            return int(result.deleted_count)

    # -- allocations -------------------------------------------------------------------
    def put_allocation(self, allocation: AppliedAllocation) -> None:
        with self._errors():
            self._db.allocations.insert_one(
                {
                    "as_of": allocation.as_of.isoformat(),
                    "applied_at": format_ts(allocation.applied_at),
                    "seq": self._next("allocations"),
                    "method": allocation.method,
                    "exposure": allocation.exposure,
                    "ex_ante_vol": allocation.ex_ante_vol,
                    "weights": [[p, w] for p, w in sorted(allocation.weights.items())],
                }
            )

    def allocation_history(self, limit: int | None = None) -> list[AppliedAllocation]:
        return self._allocations({}, limit)

    def latest_allocation(self, as_of: date | None = None) -> AppliedAllocation | None:
        found = self._allocations({"as_of": {"$lte": (as_of or date.max).isoformat()}}, 1)
        return found[0] if found else None

    def _allocations(self, query: dict[str, Any], limit: int | None) -> list[AppliedAllocation]:
        with self._errors():
            cursor = self._db.allocations.find(query).sort([("as_of", -1), ("seq", -1)])
            if limit is not None:
                cursor = cursor.limit(limit)
            return [
                AppliedAllocation(
                    date.fromisoformat(d["as_of"]),
                    parse_ts(d["applied_at"]),
                    d["method"],
                    {p: float(w) for p, w in d["weights"]},
                    float(d["exposure"]),
                    None if d.get("ex_ante_vol") is None else float(d["ex_ante_vol"]),
                )
                for d in cursor
            ]

    # -- circuit breaker ---------------------------------------------------------------
    def breaker_state(self) -> BreakerState:
        with self._errors():
            doc = self._db.breaker.find_one({"_id": "account"})
        return BreakerState() if doc is None else breaker_from_doc(doc["state"], int(doc["version"]))

    def save_breaker_state(self, state: BreakerState) -> bool:
        from pymongo.errors import DuplicateKeyError

        doc = {"version": state.version + 1, "state": breaker_to_doc(state)}
        with self._errors():
            if state.version == 0:
                try:
                    self._db.breaker.insert_one({"_id": "account", **doc})
                except DuplicateKeyError:
                    return False
                return True
            found = self._db.breaker.find_one_and_update(
                {"_id": "account", "version": state.version}, {"$set": doc}
            )
            return found is not None


def _plain(details: Mapping[str, Any]) -> list[list[Any]]:
    """Run details as [key, value] pairs, so user-influenced keys are never field paths."""
    return [
        [str(k), v if isinstance(v, (int, float, str, bool)) or v is None else str(v)]
        for k, v in details.items()
    ]


def _fill_doc(f: Fill, seq: int) -> dict[str, Any]:
    # fill_id is not here: the upsert's filter puts it into a new document.
    return {
        "seq": seq,
        "portfolio": f.portfolio,
        "symbol": f.symbol,
        "side": f.side.value,
        "qty_n": to_units(f.qty),
        "price_n": to_units(f.price),
        "commission_n": to_units(f.commission),
        "ts": format_ts(f.ts),
        "broker_order_id": f.broker_order_id,
        "client_order_id": f.client_order_id,
        "run_id": f.run_id,
    }


def _portfolio(doc: Mapping[str, Any]) -> Portfolio:
    capital = doc.get("capital_n")
    return Portfolio(
        id=doc["_id"],
        strategy=doc["strategy"],
        schedule=Schedule(doc["schedule"]),
        capital=None if capital is None else from_units(int(capital)),
        params={k: v for k, v in doc.get("params", [])},
        created_at=parse_ts(doc["created_at"]),
    )


def _fill(doc: Mapping[str, Any]) -> Fill:
    return Fill(
        fill_id=doc["fill_id"],
        portfolio=doc["portfolio"],
        symbol=doc["symbol"],
        side=Side(doc["side"]),
        qty=from_units(int(doc["qty_n"])),
        price=from_units(int(doc["price_n"])),
        commission=from_units(int(doc["commission_n"])),
        ts=parse_ts(doc["ts"]),
        broker_order_id=doc.get("broker_order_id", ""),
        client_order_id=doc.get("client_order_id", ""),
        run_id=doc.get("run_id", ""),
    )


def _trade_order_doc(o: TradeOrder) -> dict[str, Any]:
    return {
        "run_id": o.run_id,
        "client_order_id": o.client_order_id,
        "seq": o.seq,
        "symbol": o.symbol,
        "side": o.side.value,
        "qty_n": o.qty,
        "ref_price_n": to_units(o.ref_price),
        "fractionable": o.fractionable,
        "shares": [[p, u] for p, u in o.shares],
        "crosses": [[p, u] for p, u in o.crosses],
        "status": o.status.value,
        "broker_order_id": o.broker_order_id,
        "broker_status": o.broker_status,
        "error": o.error,
    }


def _trade_order(d: Mapping[str, Any]) -> TradeOrder:
    return TradeOrder(
        run_id=d["run_id"],
        client_order_id=d["client_order_id"],
        seq=int(d["seq"]),
        symbol=d["symbol"],
        side=Side(d["side"]),
        qty=int(d["qty_n"]),
        ref_price=from_units(int(d["ref_price_n"])),
        fractionable=bool(d["fractionable"]),
        shares=tuple((p, int(u)) for p, u in d["shares"]),
        crosses=tuple((p, int(u)) for p, u in d["crosses"]),
        status=TradeOrderStatus(d["status"]),
        broker_order_id=d.get("broker_order_id", ""),
        broker_status=d.get("broker_status", ""),
        error=d.get("error", ""),
    )


def _sim_order_doc(order: Order) -> dict[str, Any]:
    return {
        "_id": order.id,
        "client_order_id": order.client_order_id,
        "symbol": order.symbol,
        "side": order.side.value,
        "qty_n": to_units(order.qty),
        "filled_qty_n": to_units(order.filled_qty),
        "filled_avg_price_n": None if order.filled_avg_price is None else to_units(order.filled_avg_price),
        "status": order.status.value,
        "submitted_at": format_ts(order.submitted_at or datetime.min),
    }


def _sim_order(d: Mapping[str, Any]) -> Order:
    avg = d.get("filled_avg_price_n")
    return Order(
        id=d["_id"],
        client_order_id=d["client_order_id"],
        symbol=d["symbol"],
        side=Side(d["side"]),
        qty=from_units(int(d["qty_n"])),
        filled_qty=from_units(int(d["filled_qty_n"])),
        filled_avg_price=None if avg is None else from_units(int(avg)),
        status=OrderStatus(d["status"]),
        submitted_at=parse_ts(d["submitted_at"]),
    )
