"""Scraped records (point in time)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from pas.models import format_ts, parse_ts
from pas.records import Record, RecordColumns, UpsertCounts, column_value
from pas.store.mongo.store import BULK_BATCH, DUPLICATE_KEY, MongoCore
from pas.store.rules import classify_records, column_fields


def _record_body(r: Record, digest: str) -> dict[str, Any]:
    return {
        "ticker": r.ticker,
        "event_date": r.event_date.isoformat(),
        "public_at": format_ts(r.public_at),
        "digest": digest,
        "fields": r.fields_json(),
    }


class MongoRecords(MongoCore):
    """Scraped records (point in time)."""

    # A record's fields are kept as one JSON string: keys from Quiver (or a hostile server)
    # never become field names, so "$where" or "a.b" cannot act as operators or paths.
    def upsert_records(self, dataset: str, records: Sequence[Record]) -> UpsertCounts:
        now = format_ts(self.clock())
        total = UpsertCounts()
        with self._errors():
            for start in range(0, len(records), BULK_BATCH):
                batch = records[start : start + BULK_BATCH]
                stored = {
                    d["key"]: d
                    for d in self._collection("records").find(
                        {"dataset": dataset, "key": {"$in": [r.key for r in batch]}},
                        {"_id": 0, "key": 1, "digest": 1, "fields": 1},
                    )
                }
                changes = classify_records(batch, {key: d["digest"] for key, d in stored.items()})
                self._keep_revisions(
                    dataset, [(key, stored[key]["fields"]) for key in changes.revised(stored)], now
                )
                new, updated, unchanged = changes.counts
                # Inserted first, so an update of a key new in this batch finds its document.
                # Updates are rare (Quiver revising a row) and go one by one (the last wins).
                if changes.new:
                    raced = self._insert_new(
                        [
                            {"dataset": dataset, "key": r.key, "first_seen": now, **_record_body(r, digest)}
                            for r, digest in changes.new
                        ]
                    )
                    new -= raced
                    unchanged += raced
                # public_at stays the first one stored: an edit never makes a record public later.
                updates = {r.key: _record_body(r, digest) for r, digest in changes.changed}
                for body in updates.values():
                    del body["public_at"]
                for key, body in updates.items():
                    self._collection("records").update_one({"dataset": dataset, "key": key}, {"$set": body})
                total = UpsertCounts(total.new + new, total.updated + updated, total.unchanged + unchanged)
        return total

    def _keep_revisions(self, dataset: str, replaced: list[tuple[str, str]], until: str) -> None:
        """Keeps the values a revision replaces as valid until ``until`` (a key revised twice
        at one time keeps the values from before that time: the duplicate is ignored)."""
        from pymongo.errors import BulkWriteError

        if not replaced:
            return
        docs = [
            {"dataset": dataset, "key": key, "until": until, "fields": fields} for key, fields in replaced
        ]
        try:
            self._collection("record_revisions").insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", [])):
                raise

    def _insert_new(self, docs: list[dict[str, Any]]) -> int:
        """Inserts records; returns how many another process had inserted first.

        Two scrapes of one dataset may race; the unique (dataset, key) index keeps one copy
        and the loser counts those records as unchanged instead of failing.
        """
        from pymongo.errors import BulkWriteError

        try:
            self._collection("records").insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in errors):
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
        query = _point_in_time(dataset, as_of, since)
        if ticker is not None:
            query["ticker"] = ticker
        with self._errors():
            cursor = self._collection("records").find(query, {"_id": 0}).sort([("public_at", 1), ("key", 1)])
            docs = list(cursor)
            known = {} if as_of is None else self._fields_as_of(dataset, format_ts(as_of))
        return [_record(dataset, d, known.get(d["key"], d["fields"])) for d in docs]

    def _fields_as_of(self, dataset: str, as_of: str) -> dict[str, str]:
        """The fields of each record revised after ``as_of``: the oldest values still valid then."""
        found: dict[str, str] = {}
        revisions = self._collection("record_revisions").find(
            {"dataset": dataset, "until": {"$gt": as_of}}, {"_id": 0, "key": 1, "fields": 1}
        )
        for d in revisions.sort([("until", 1)]):
            found.setdefault(d["key"], d["fields"])
        return found

    def newest_records(
        self, dataset: str, limit: int, *, tickers: Sequence[str] = (), since: datetime | None = None
    ) -> list[Record]:
        with self._errors():
            cursor = (
                self._collection("records")
                .find(_selected(dataset, tickers, since), {"_id": 0})
                .sort([("public_at", -1), ("key", -1)])
                .limit(limit)
            )
            return [_record(dataset, d) for d in cursor]

    def count_records(
        self, dataset: str, *, tickers: Sequence[str] = (), since: datetime | None = None
    ) -> int:
        with self._errors():
            return int(self._collection("records").count_documents(_selected(dataset, tickers, since)))

    def record_columns(
        self, dataset: str, fields: Sequence[str], as_of: datetime, since: datetime | None = None
    ) -> RecordColumns:
        import json

        names = column_fields(fields)
        ticker: list[str] = []
        event_date: list[str] = []
        public_at: list[str] = []
        values: dict[str, list[Any]] = {name: [] for name in names}
        projection = {"_id": 0, "key": 1, "ticker": 1, "event_date": 1, "public_at": 1, "fields": 1}
        with self._errors():
            known = self._fields_as_of(dataset, format_ts(as_of))
            cursor = (
                self._collection("records")
                .find(_point_in_time(dataset, as_of, since), projection)
                .sort([("public_at", 1), ("key", 1)])
            )
            for d in cursor:
                ticker.append(d["ticker"])
                event_date.append(d["event_date"])
                public_at.append(d["public_at"][:26])  # without the "Z", as NumPy parses UTC
                stored = json.loads(known.get(d["key"], d["fields"]))
                for name in names:
                    values[name].append(column_value(stored.get(name)))
        return RecordColumns.from_text(ticker, event_date, public_at, values)

    def latest_public_at(self, dataset: str) -> datetime | None:
        with self._errors():
            doc = self._collection("records").find_one(
                {"dataset": dataset}, {"_id": 0, "public_at": 1}, sort=[("public_at", -1)]
            )
        return None if doc is None else parse_ts(doc["public_at"])


def _point_in_time(dataset: str, as_of: datetime | None, since: datetime | None) -> dict[str, Any]:
    """The query of a dataset's records public in ``[since, as_of]`` (either end open)."""
    query: dict[str, Any] = {"dataset": dataset}
    window: dict[str, str] = {}
    if as_of is not None:
        window["$lte"] = format_ts(as_of)
    if since is not None:
        window["$gte"] = format_ts(since)
    if window:
        query["public_at"] = window
    return query


def _selected(dataset: str, tickers: Sequence[str], since: datetime | None) -> dict[str, Any]:
    """The query of a dataset's records public at or after ``since``, of the tickers given
    (all when none are)."""
    query = _point_in_time(dataset, None, since)
    if tickers:
        query["ticker"] = tickers[0] if len(tickers) == 1 else {"$in": list(tickers)}
    return query


def _record(dataset: str, d: Mapping[str, Any], fields: str | None = None) -> Record:
    """A stored record, with ``fields`` (JSON text) in place of its current ones if given."""
    import json

    return Record(
        dataset=dataset,
        key=d["key"],
        ticker=d["ticker"],
        event_date=date.fromisoformat(d["event_date"]),
        public_at=parse_ts(d["public_at"]),
        first_seen=parse_ts(d["first_seen"]),
        fields=json.loads(d["fields"] if fields is None else fields),
    )
