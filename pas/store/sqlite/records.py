"""Scraped records (point in time)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from pas.models import format_ts, parse_ts
from pas.store.rules import classify_records, column_fields
from pas.store.sqlite.store import SqliteCore

if TYPE_CHECKING:  # the records module is loaded by what reads or writes them, not by every open
    from pas.records import Record, RecordColumns, UpsertCounts

# Keys looked up per query when comparing a batch of records with what is stored
# (SQLite allows 32766 host parameters; smaller chunks keep each statement cheap).
_KEY_CHUNK = 900


def _record_row(r: Record, digest: str) -> tuple[str, str, str, str, str]:
    return (r.ticker, r.event_date.isoformat(), format_ts(r.public_at), digest, r.fields_json())


# A record's fields as of a time: the oldest of its replaced values still valid then, else
# its current ones (the one parameter is the time).
_FIELDS_AS_OF = (
    "COALESCE((SELECT v.fields FROM record_revisions v WHERE v.dataset = r.dataset AND v.key = r.key"
    " AND v.until > ? ORDER BY v.until LIMIT 1), r.fields)"
)


def _columns_sql(source: str, fields: int, where: str) -> str:
    """The query of record columns as one row of texts: the tickers and each field's values
    as JSON arrays (json_group_array keeps strings, numbers and nulls apart), the event days
    and the public times as stored (``YYYY-MM-DD``, ``YYYY-MM-DDTHH:MM:SS.ffffffZ``) joined
    by commas, which NumPy reads in place (a function per row in SQL cost more). The
    aggregates read the inner query's rows in its order, one pass for all."""
    extract = "".join(f", json_extract({source}, ?) AS f{n}" for n in range(fields))
    arrays = "".join(f", json_group_array(f{n})" for n in range(fields))
    return (
        f"SELECT json_group_array(ticker), group_concat(event_date), group_concat(public_at){arrays} FROM ("
        f"SELECT ticker, event_date, public_at{extract} FROM records r"
        f" INDEXED BY records_columns WHERE {where} ORDER BY public_at, key)"
    )


def _json_values(array: str) -> list[Any]:
    """A field's values from their JSON array, objects and arrays as canonical JSON text
    (:func:`pas.records.column_value`), as json_extract gives them row by row."""
    from pas.records import column_value

    values: list[Any] = json.loads(array)
    if "{" in array or "[" in array[1:]:
        return [column_value(v) for v in values]
    return values


class SqliteRecords(SqliteCore):
    """Scraped records (point in time)."""

    def upsert_records(self, dataset: str, records: Sequence[Record]) -> UpsertCounts:
        from pas.records import UpsertCounts

        now = format_ts(self.clock())
        total = UpsertCounts()
        with self._write() as db:
            for start in range(0, len(records), _KEY_CHUNK):
                batch = records[start : start + _KEY_CHUNK]
                marks = ",".join("?" * len(batch))
                stored = {
                    key: (digest, fields)
                    for key, digest, fields in db.execute(
                        f"SELECT key, digest, fields FROM records WHERE dataset = ? AND key IN ({marks})",
                        [dataset, *(r.key for r in batch)],
                    )
                }
                changes = classify_records(batch, {key: digest for key, (digest, _) in stored.items()})
                # The values a revision replaces stay valid until now (a key revised twice at
                # one time keeps the values from before that time).
                db.executemany(
                    "INSERT OR IGNORE INTO record_revisions (dataset, key, until, fields) VALUES (?,?,?,?)",
                    [(dataset, key, now, stored[key][1]) for key in changes.revised(stored)],
                )
                db.executemany(
                    "INSERT INTO records (dataset, key, ticker, event_date, public_at, digest, fields,"
                    " first_seen) VALUES (?,?,?,?,?,?,?,?)",
                    [(dataset, r.key, *_record_row(r, digest), now) for r, digest in changes.new],
                )
                db.executemany(
                    "UPDATE records SET ticker = ?, event_date = ?, digest = ?, fields = ?"
                    " WHERE dataset = ? AND key = ?",
                    [
                        (r.ticker, r.event_date.isoformat(), digest, r.fields_json(), dataset, r.key)
                        for r, digest in changes.changed
                    ],
                )
                new, updated, unchanged = changes.counts
                total = UpsertCounts(total.new + new, total.updated + updated, total.unchanged + unchanged)
        return total

    def records(
        self,
        dataset: str,
        as_of: datetime | None = None,
        ticker: str | None = None,
        since: datetime | None = None,
    ) -> list[Record]:
        where, args = _point_in_time(dataset, as_of, since)
        if ticker is not None:
            where += " AND ticker = ?"
            args.append(ticker)
        source, known = self._fields_source(dataset, as_of)
        return self._read_records(dataset, source, f"WHERE {where} ORDER BY public_at, key", [*known, *args])

    def newest_records(
        self, dataset: str, limit: int, *, tickers: Sequence[str] = (), since: datetime | None = None
    ) -> list[Record]:
        where, args = _selected(dataset, tickers, since)
        clauses = f"WHERE {where} ORDER BY public_at DESC, key DESC LIMIT ?"
        return self._read_records(dataset, "fields", clauses, [*args, limit])

    def count_records(
        self, dataset: str, *, tickers: Sequence[str] = (), since: datetime | None = None
    ) -> int:
        where, args = _selected(dataset, tickers, since)
        (count,) = self._db.execute(f"SELECT COUNT(*) FROM records WHERE {where}", args).fetchone()
        return int(count)

    def _read_records(self, dataset: str, source: str, clauses: str, args: Sequence[Any]) -> list[Record]:
        """Records read with ``source`` as their fields' SQL (current, or as of a time)."""
        from pas.records import Record

        sql = f"SELECT key, ticker, event_date, public_at, first_seen, {source} FROM records r {clauses}"
        return [
            Record(
                dataset=dataset,
                key=key,
                ticker=t,
                event_date=date.fromisoformat(ev),
                public_at=parse_ts(pub),
                first_seen=parse_ts(seen),
                fields=json.loads(fields),
            )
            for key, t, ev, pub, seen, fields in self._db.execute(sql, args)
        ]

    def record_columns(
        self, dataset: str, fields: Sequence[str], as_of: datetime, since: datetime | None = None
    ) -> RecordColumns:
        from pas.records import RecordColumns

        # One range scan of the covering index records_columns, in (public_at, key) order:
        # no table lookups, no sort, each field taken out of the JSON by SQLite itself, and
        # each column handed over as one text (_columns_sql): a Python tuple per record cost
        # more than the scan, 0.85 of 1 s for 195,000 records.
        names = column_fields(fields)
        source, known = self._fields_source(dataset, as_of)
        where, window = _point_in_time(dataset, as_of, since)
        paths = [arg for name in names for arg in (*known, f'$."{name}"')]
        row = self._db.execute(_columns_sql(source, len(names), where), [*paths, *window]).fetchone()
        ticker, event_date, public_at, *values = row
        return RecordColumns.from_texts(
            json.loads(ticker),
            event_date,
            public_at,
            {name: _json_values(v) for name, v in zip(names, values, strict=True)},
        )

    def _fields_source(self, dataset: str, as_of: datetime | None) -> tuple[str, list[str]]:
        """The SQL of a record's fields as of ``as_of`` and its arguments: the stored fields
        when no record of the dataset was revised after then (the common case, no lookups)."""
        if as_of is None:
            return "fields", []
        at = format_ts(as_of)
        revised = self._db.execute(
            "SELECT 1 FROM record_revisions WHERE dataset = ? AND until > ? LIMIT 1", (dataset, at)
        ).fetchone()
        return (_FIELDS_AS_OF, [at]) if revised else ("fields", [])

    def latest_public_at(self, dataset: str) -> datetime | None:
        (latest,) = self._db.execute(
            "SELECT MAX(public_at) FROM records WHERE dataset = ?", (dataset,)
        ).fetchone()
        return None if latest is None else parse_ts(latest)


def _point_in_time(dataset: str, as_of: datetime | None, since: datetime | None) -> tuple[str, list[Any]]:
    """The condition (and its arguments) of a dataset's records public in ``[since, as_of]``."""
    where, args = "dataset = ?", [dataset]
    if as_of is not None:
        where += " AND public_at <= ?"
        args.append(format_ts(as_of))
    if since is not None:
        where += " AND public_at >= ?"
        args.append(format_ts(since))
    return where, args


def _selected(dataset: str, tickers: Sequence[str], since: datetime | None) -> tuple[str, list[Any]]:
    """The condition of a dataset's records public at or after ``since``, of the tickers
    given (all when none are)."""
    where, args = _point_in_time(dataset, None, since)
    if tickers:
        where += f" AND ticker IN ({','.join('?' * len(tickers))})"
        args.extend(tickers)
    return where, args
