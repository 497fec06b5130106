"""Daily closing prices."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from pas.models import Price, from_units, to_units
from pas.store.interfaces import PriceStore, PriceUnits
from pas.store.mongo.store import MongoCore


class MongoPrices(MongoCore):
    """Daily closing prices."""

    def upsert_prices(self, prices: Iterable[Price]) -> int:
        return self.upsert_price_units([(p.symbol, p.day, to_units(p.close)) for p in prices])

    def upsert_price_units(self, closes: Iterable[PriceUnits]) -> int:
        from pymongo import UpdateOne

        ops = [
            UpdateOne(
                {"symbol": symbol, "day": day.isoformat()},
                {"$set": {"close_n": int(units)}},
                upsert=True,
            )
            for symbol, day, units in closes
        ]
        with self._errors():
            self._upsert("prices", ops)
        return len(ops)

    def copy_prices(self, source: PriceStore, start: date, end: date) -> int:
        return self.upsert_price_units(source.price_units(start, end))

    def price_units(
        self, start: date | None = None, end: date | None = None, symbols: Iterable[str] | None = None
    ) -> list[PriceUnits]:
        query: dict[str, Any] = {
            "day": {"$gte": (start or date.min).isoformat(), "$lte": (end or date.max).isoformat()}
        }
        if symbols is not None:
            query["symbol"] = {"$in": sorted(set(symbols))}
        parsed: dict[str, date] = {}  # the same days recur for every symbol: parsed once
        with self._errors():
            docs = self._collection("prices").find(query, {"_id": 0}).sort([("symbol", 1), ("day", 1)])
            return [
                (
                    str(doc["symbol"]),
                    parsed.get(doc["day"]) or parsed.setdefault(doc["day"], date.fromisoformat(doc["day"])),
                    int(doc["close_n"]),
                )
                for doc in docs
            ]

    def latest_prices(self, symbols: Iterable[str], on_or_before: date | None = None) -> dict[str, Price]:
        found = self.latest_price_units(symbols, on_or_before)
        return {symbol: Price(symbol, day, from_units(close)) for symbol, (day, close) in found.items()}

    def latest_price_units(
        self, symbols: Iterable[str], on_or_before: date | None = None
    ) -> dict[str, tuple[date, int]]:
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
                str(doc["_id"]): (date.fromisoformat(doc["day"]), int(doc["close_n"]))
                for doc in self._collection("prices").aggregate(pipeline)
            }

    def price_symbols(self) -> list[str]:
        with self._errors():
            return sorted(str(s) for s in self._collection("prices").distinct("symbol"))

    def price_history(
        self, symbols: Iterable[str], start: date | None = None, end: date | None = None
    ) -> dict[str, list[Price]]:
        query = {
            "symbol": {"$in": sorted(set(symbols))},
            "day": {"$gte": (start or date.min).isoformat(), "$lte": (end or date.max).isoformat()},
        }
        found: dict[str, list[Price]] = {}
        with self._errors():
            for doc in self._collection("prices").find(query, {"_id": 0}).sort([("symbol", 1), ("day", 1)]):
                price = Price(doc["symbol"], date.fromisoformat(doc["day"]), from_units(int(doc["close_n"])))
                found.setdefault(price.symbol, []).append(price)
        return found
