"""Portfolios, their target weights, ledger and cash flows, and the delete cascade."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pas.errors import InputError, StoreError
from pas.models import (
    CashFlow,
    Fill,
    Portfolio,
    Schedule,
    Side,
    WeightSet,
    format_ts,
    from_units,
    parse_ts,
    to_units,
)
from pas.store.cascade import OWNED_BY_PORTFOLIO, allocation_without, trade_order_without, trade_run_without
from pas.store.interfaces import LedgerEntry
from pas.store.mongo._rows import _allocation, _trade_order, _trade_order_doc, _trade_run, _weights_doc
from pas.store.mongo.folds import current_fold
from pas.store.mongo.store import BULK_BATCH, MongoCore
from pas.store.rules import LedgerFold


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
        broker=doc["broker"],
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


class MongoPortfolios(MongoCore):
    """Portfolios, their target weights, ledger and cash flows, and the delete cascade."""

    def add_portfolio(self, portfolio: Portfolio) -> None:
        from pymongo.errors import DuplicateKeyError

        doc = {
            "_id": portfolio.id,
            "strategy": portfolio.strategy,
            "schedule": portfolio.schedule.value,
            "capital_n": None if portfolio.capital is None else to_units(portfolio.capital),
            "params": [[k, v] for k, v in sorted(portfolio.params.items())],
            "created_at": format_ts(portfolio.created_at),
            "broker": portfolio.broker,
        }
        try:
            with self._errors():
                self._collection("portfolios").insert_one(doc)
        except StoreError as exc:
            if isinstance(exc.__cause__, DuplicateKeyError):
                raise InputError(
                    f"portfolio {portfolio.id!r} exists already (see `pas portfolio show {portfolio.id}`)"
                ) from None
            raise

    def get_portfolio(self, portfolio_id: str) -> Portfolio | None:
        with self._errors():
            doc = self._collection("portfolios").find_one({"_id": portfolio_id})
        return None if doc is None else _portfolio(doc)

    def list_portfolios(self) -> list[Portfolio]:
        with self._errors():
            return [_portfolio(doc) for doc in self._collection("portfolios").find().sort("_id", 1)]

    def remove_portfolio(self, portfolio_id: str) -> None:
        """One transaction where the server has them (a replica set, Atlas). Elsewhere what
        the portfolio owns goes first and its own document last: a crash half-way leaves a
        portfolio that can be removed again, never rows of a portfolio that is gone."""

        def remove() -> None:
            for collection, field in OWNED_BY_PORTFOLIO:
                self._collection(collection).delete_many({field: portfolio_id})
            self._drop_from_allocations(portfolio_id)
            self._drop_from_trade_runs(portfolio_id)
            self._collection("portfolios").delete_one({"_id": portfolio_id})

        with self._errors():
            self._atomically(remove)

    def _drop_from_allocations(self, portfolio_id: str) -> None:
        """Rewrites (or deletes) the applied allocations that name a removed portfolio."""
        allocations = self._collection("allocations")
        for doc in list(allocations.find()):
            allocation = _allocation(doc)
            kept = allocation_without(allocation, portfolio_id)
            if kept is None:
                allocations.delete_one({"_id": doc["_id"]})
            elif kept is not allocation:
                allocations.update_one(
                    {"_id": doc["_id"]},
                    {"$set": {"exposure": kept.exposure, "weights": _weights_doc(kept)}},
                )

    def _drop_from_trade_runs(self, portfolio_id: str) -> None:
        """Takes a removed portfolio out of the trading runs (and their orders) that name it."""
        runs, orders = self._collection("trade_runs"), self._collection("trade_orders")
        for doc in list(runs.find({"portfolios": portfolio_id})):
            for order in [_trade_order(d) for d in orders.find({"run_id": doc["_id"]})]:
                kept_order = trade_order_without(order, portfolio_id)
                if kept_order is None:
                    orders.delete_one({"client_order_id": order.client_order_id})
                else:
                    update = {k: _trade_order_doc(kept_order)[k] for k in ("shares", "crosses")}
                    orders.update_one({"client_order_id": order.client_order_id}, {"$set": update})
            kept_run = trade_run_without(_trade_run(doc), portfolio_id)
            if kept_run is None:
                runs.delete_one({"_id": doc["_id"]})
            else:
                runs.update_one({"_id": doc["_id"]}, {"$set": {"portfolios": list(kept_run.portfolios)}})

    def put_weights(self, weights: WeightSet) -> None:
        with self._errors():
            self._collection("weights").insert_one(
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
            cursor = (
                self._collection("weights").find({"portfolio": portfolio_id}).sort([("at", -1), ("seq", -1)])
            )
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
                new += self._upsert("fills", ops)
            if new:
                for portfolio in sorted({f.portfolio for f in fills}):
                    current_fold(self, portfolio)
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
            cursor = self._collection("fills").find(query).sort([("ts", 1), ("seq", 1)])
            if limit is not None:
                cursor = cursor.limit(limit)
            return [_fill(doc) for doc in cursor]

    def ledger(self, portfolio_id: str) -> list[LedgerEntry]:
        projection = {"_id": 0, "symbol": 1, "side": 1, "qty_n": 1, "price_n": 1, "commission_n": 1}
        with self._errors():
            cursor = (
                self._collection("fills")
                .find({"portfolio": portfolio_id}, projection)
                .sort([("ts", 1), ("seq", 1)])
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

    def ledger_fold(self, portfolio_id: str) -> LedgerFold:
        # Kept as fills are written, and checked against the ledger (pas.store.mongo.folds).
        with self._errors():
            return current_fold(self, portfolio_id)

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
            return {
                doc["_id"]: from_units(int(doc["q"])) for doc in self._collection("fills").aggregate(pipeline)
            }

    def fills_of_order(self, broker_order_id: str) -> list[Fill]:
        with self._errors():
            cursor = (
                self._collection("fills")
                .find({"broker_order_id": broker_order_id})
                .sort([("ts", 1), ("seq", 1)])
            )
            return [_fill(doc) for doc in cursor]

    def add_cash_flow(self, flow: CashFlow) -> bool:
        with self._errors():
            result = self._collection("cash_flows").update_one(
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
            cursor = (
                self._collection("cash_flows").find({"portfolio": portfolio_id}).sort([("ts", 1), ("seq", 1)])
            )
            return [
                CashFlow(
                    d["portfolio"], from_units(int(d["amount_n"])), parse_ts(d["ts"]), d["flow_id"], d["note"]
                )
                for d in cursor
            ]
