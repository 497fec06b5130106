"""Performance: daily metrics, trailing statistics and applied allocations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from pas.models import AppliedAllocation, DailyMetric, TrailingStats, format_ts, from_units, to_units
from pas.store.mongo._rows import _allocation, _weights_doc
from pas.store.mongo.store import MongoCore


class MongoPerformance(MongoCore):
    """Performance: daily metrics, trailing statistics and applied allocations."""

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
            self._upsert("daily_metrics", ops)
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
                for d in self._collection("daily_metrics").find(query).sort("day", 1)
            ]

    def metric_days(self, portfolio_id: str) -> set[date]:
        with self._errors():
            cursor = self._collection("daily_metrics").find({"portfolio": portfolio_id}, {"_id": 0, "day": 1})
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
            self._upsert("trailing_stats", ops)
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
            doc = self._collection("trailing_stats").find_one(query, sort=[("as_of", -1)])
        if doc is None:
            return None
        return TrailingStats(
            portfolio_id, date.fromisoformat(doc["as_of"]), window, {k: float(v) for k, v in doc["values"]}
        )

    def delete_trailing_stats_from(self, portfolio_id: str, day: date) -> int:
        with self._errors():
            result = self._collection("trailing_stats").delete_many(
                {"portfolio": portfolio_id, "as_of": {"$gte": day.isoformat()}}
            )
            return int(result.deleted_count)

    def put_allocation(self, allocation: AppliedAllocation) -> None:
        with self._errors():
            self._collection("allocations").insert_one(
                {
                    "as_of": allocation.as_of.isoformat(),
                    "applied_at": format_ts(allocation.applied_at),
                    "seq": self._next("allocations"),
                    "method": allocation.method,
                    "exposure": allocation.exposure,
                    "ex_ante_vol": allocation.ex_ante_vol,
                    "weights": _weights_doc(allocation),
                }
            )

    def allocation_history(self, limit: int | None = None) -> list[AppliedAllocation]:
        return self._allocations({}, limit)

    def latest_allocation(self, as_of: date | None = None) -> AppliedAllocation | None:
        found = self._allocations({"as_of": {"$lte": (as_of or date.max).isoformat()}}, 1)
        return found[0] if found else None

    def _allocations(self, query: dict[str, Any], limit: int | None) -> list[AppliedAllocation]:
        with self._errors():
            cursor = self._collection("allocations").find(query).sort([("as_of", -1), ("seq", -1)])
            if limit is not None:
                cursor = cursor.limit(limit)
            return [_allocation(d) for d in cursor]
