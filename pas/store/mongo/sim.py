"""The simulated broker's book: its orders and fills."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from pas.domain.broker import BrokerFill, Order, OrderStatus
from pas.errors import StoreError
from pas.models import Side, format_ts, from_units, parse_ts, to_units
from pas.store.mongo.store import MongoCore
from pas.store.rules import sum_sim_fills


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
        "limit_price_n": None if order.limit_price is None else to_units(order.limit_price),
        "time_in_force": order.time_in_force,
    }


def _sim_order(d: Mapping[str, Any]) -> Order:
    avg, limit = d.get("filled_avg_price_n"), d.get("limit_price_n")
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
        limit_price=None if limit is None else from_units(int(limit)),
        time_in_force=d.get("time_in_force", "day"),
    )


# An order's status is one of OrderStatus: `$in` the open ones walks the (status, ...)
# index, where `$nin` the terminal ones would scan every order the book ever had.
_OPEN_STATUSES = sorted(s.value for s in OrderStatus if not s.terminal)


class MongoSimBook(MongoCore):
    """The simulated broker's book: its orders and fills."""

    def sim_add_order(self, order: Order) -> bool:
        from pymongo.errors import DuplicateKeyError

        doc = {**_sim_order_doc(order), "seq": self._next("sim_orders")}
        try:
            with self._errors():
                self._collection("sim_orders").insert_one(doc)
        except StoreError as exc:
            if isinstance(exc.__cause__, DuplicateKeyError):
                return False
            raise
        return True

    def sim_save_order(self, order: Order) -> None:
        doc = _sim_order_doc(order)
        update = {k: doc[k] for k in ("filled_qty_n", "filled_avg_price_n", "status")}
        with self._errors():
            self._collection("sim_orders").update_one({"_id": order.id}, {"$set": update})

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
            query["status"] = {"$in": _OPEN_STATUSES}
        if order_id is not None:
            query["_id"] = order_id
        if client_order_id is not None:
            query["client_order_id"] = client_order_id
        if after is not None:
            query["submitted_at"] = {"$gt": format_ts(after)}
        with self._errors():
            cursor = self._collection("sim_orders").find(query).sort([("submitted_at", -1), ("seq", -1)])
            return [_sim_order(d) for d in cursor]

    def sim_totals(self) -> tuple[dict[str, Decimal], Decimal]:
        fields = {"_id": 0, "symbol": 1, "side": 1, "qty_n": 1, "price_n": 1, "commission_n": 1}
        with self._errors():
            rows = [
                (d["symbol"], d["side"], int(d["qty_n"]), int(d["price_n"]), int(d["commission_n"]))
                for d in self._collection("sim_fills").find({}, fields)
            ]
        return sum_sim_fills(rows)

    def sim_add_fill(self, fill: BrokerFill) -> None:
        with self._errors():
            self._collection("sim_fills").insert_one(
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
            cursor = self._collection("sim_fills").find(query).sort([("ts", 1), ("seq", 1)])
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
