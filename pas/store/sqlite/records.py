"""Scraped records (point in time)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from pas.models import format_ts, parse_ts
from pas.records import Record, UpsertCounts
from pas.store.rules import classify_records
from pas.store.sqlite.store import SqliteCore

# Keys looked up per query when comparing a batch of records with what is stored
# (SQLite allows 32766 host parameters; smaller chunks keep each statement cheap).
_KEY_CHUNK = 900


def _record_row(r: Record, digest: str) -> tuple[str, str, str, str, str]:
    return (r.ticker, r.event_date.isoformat(), format_ts(r.public_at), digest, r.fields_json())


def _where(
    dataset: str, tickers: Sequence[str], since: datetime | None, as_of: datetime | None = None
) -> tuple[str, list[Any]]:
    """The WHERE clause (and its arguments) of a dataset's records, filtered as given."""
    sql = "WHERE dataset = ?"
    args: list[Any] = [dataset]
    if tickers:
        sql += f" AND ticker IN ({','.join('?' * len(tickers))})"
        args.extend(tickers)
    if as_of is not None:
        sql += " AND public_at <= ?"
        args.append(format_ts(as_of))
    if since is not None:
        sql += " AND public_at >= ?"
        args.append(format_ts(since))
    return sql, args


class SqliteRecords(SqliteCore):
    """Scraped records (point in time)."""

    def upsert_records(self, dataset: str, records: Sequence[Record]) -> UpsertCounts:
        now = format_ts(self.clock())
        total = UpsertCounts()
        with self._write() as db:
            for start in range(0, len(records), _KEY_CHUNK):
                batch = records[start : start + _KEY_CHUNK]
                marks = ",".join("?" * len(batch))
                stored = dict(
                    db.execute(
                        f"SELECT key, digest FROM records WHERE dataset = ? AND key IN ({marks})",
                        [dataset, *(r.key for r in batch)],
                    ).fetchall()
                )
                changes = classify_records(batch, stored)
                db.executemany(
                    "INSERT INTO records (dataset, key, ticker, event_date, public_at, digest, fields,"
                    " first_seen) VALUES (?,?,?,?,?,?,?,?)",
                    [(dataset, r.key, *_record_row(r, digest), now) for r, digest in changes.new],
                )
                db.executemany(
                    "UPDATE records SET ticker = ?, event_date = ?, public_at = ?, digest = ?, fields = ?"
                    " WHERE dataset = ? AND key = ?",
                    [(*_record_row(r, digest), dataset, r.key) for r, digest in changes.changed],
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
        where, args = _where(dataset, () if ticker is None else (ticker,), since, as_of)
        return self._read_records(dataset, f"{where} ORDER BY public_at, key", args)

    def newest_records(
        self, dataset: str, limit: int, *, tickers: Sequence[str] = (), since: datetime | None = None
    ) -> list[Record]:
        where, args = _where(dataset, tickers, since)
        return self._read_records(
            dataset, f"{where} ORDER BY public_at DESC, key DESC LIMIT ?", [*args, limit]
        )

    def count_records(
        self, dataset: str, *, tickers: Sequence[str] = (), since: datetime | None = None
    ) -> int:
        where, args = _where(dataset, tickers, since)
        (count,) = self._db.execute(f"SELECT COUNT(*) FROM records {where}", args).fetchone()
        return int(count)

    def _read_records(self, dataset: str, clauses: str, args: Sequence[Any]) -> list[Record]:
        sql = f"SELECT key, ticker, event_date, public_at, first_seen, fields FROM records {clauses}"
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

    def latest_public_at(self, dataset: str) -> datetime | None:
        (latest,) = self._db.execute(
            "SELECT MAX(public_at) FROM records WHERE dataset = ?", (dataset,)
        ).fetchone()
        return None if latest is None else parse_ts(latest)
