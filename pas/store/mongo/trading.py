"""Trading runs, their orders, and the per-broker sync cursor."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pas.models import (
    UNSETTLED_ORDER_STATUSES,
    TradeOrder,
    TradeOrderStatus,
    TradeRun,
    TradeRunStatus,
    format_ts,
    parse_ts,
)
from pas.store.mongo._rows import _trade_order, _trade_order_doc, _trade_run
from pas.store.mongo.store import MongoCore


class MongoTrading(MongoCore):
    """Trading runs, their orders, and the per-broker sync cursor."""

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
        process is between its two writes. Where the server has transactions (a replica
        set, Atlas) the sweep and both writes are one.
        """
        with self._errors():
            self._atomically(lambda: self._store_trade_run(run, orders))

    def _store_trade_run(self, run: TradeRun, orders: Sequence[TradeOrder]) -> None:
        planned = TradeOrderStatus.PLANNED.value
        pending_runs = self._collection("trade_orders").distinct("run_id", {"status": planned})
        if pending_runs:
            live = {
                d["_id"]
                for d in self._collection("trade_runs").find({"_id": {"$in": pending_runs}}, {"_id": 1})
            }
            orphans = [r for r in pending_runs if r not in live]
            if orphans:
                self._collection("trade_orders").delete_many({"run_id": {"$in": orphans}, "status": planned})
        if orders:
            self._collection("trade_orders").insert_many([_trade_order_doc(o) for o in orders])
        self._collection("trade_runs").insert_one(
            {
                "_id": run.run_id,
                "created_at": format_ts(run.created_at),
                "broker": run.broker,
                "portfolios": list(run.portfolios),
                "status": run.status.value,
            }
        )

    def unfinished_trade_run(self, broker: str) -> TradeRun | None:
        with self._errors():
            docs = list(
                self._collection("trade_runs")
                .find({"status": TradeRunStatus.SUBMITTING.value, "broker": broker})
                .sort([("created_at", 1), ("_id", 1)])
                .limit(1)
            )
        if not docs:
            return None
        return _trade_run(docs[0])

    def set_trade_run_status(self, run_id: str, status: TradeRunStatus) -> None:
        with self._errors():
            self._collection("trade_runs").update_one({"_id": run_id}, {"$set": {"status": status.value}})

    def trade_orders(
        self, run_id: str | None = None, unsettled: bool = False, broker: str | None = None
    ) -> list[TradeOrder]:
        query: dict[str, Any] = {}
        if run_id is not None:
            query["run_id"] = run_id
        if unsettled:
            query["status"] = {"$in": [s.value for s in UNSETTLED_ORDER_STATUSES]}
        with self._errors():
            if broker is not None:
                runs = self._collection("trade_runs").distinct("_id", {"broker": broker})
                query["run_id"] = {"$in": [r for r in runs if run_id is None or r == run_id]}
            cursor = self._collection("trade_orders").find(query).sort([("run_id", 1), ("seq", 1)])
            return [_trade_order(doc) for doc in cursor]

    def update_trade_order(
        self,
        client_order_id: str,
        status: TradeOrderStatus,
        *,
        broker_order_id: str | None = None,
        broker_status: str | None = None,
        error: str | None = None,
        sent_at: datetime | None = None,
    ) -> None:
        update: dict[str, Any] = {"status": status.value}
        for key, value in (
            ("broker_order_id", broker_order_id),
            ("broker_status", broker_status),
            ("error", error),
            ("sent_at", format_ts(sent_at) if sent_at else None),
        ):
            if value is not None:
                update[key] = value
        with self._errors():
            self._collection("trade_orders").update_one(
                {"client_order_id": client_order_id}, {"$set": update}
            )

    def sync_cursor(self, broker: str) -> tuple[datetime, str] | None:
        with self._errors():
            doc = self._collection("sync_cursors").find_one({"_id": broker})
        return None if doc is None else (parse_ts(doc["ts"]), doc["fill_id"])

    def save_sync_cursor(self, broker: str, ts: datetime, fill_id: str) -> None:
        with self._errors():
            self._collection("sync_cursors").replace_one(
                {"_id": broker}, {"_id": broker, "ts": format_ts(ts), "fill_id": fill_id}, upsert=True
            )
