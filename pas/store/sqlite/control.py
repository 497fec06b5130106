"""Control: command runs, locks, the HTTP cache, rate slots and the circuit breaker."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pas.models import RunStatus, format_ts, parse_ts
from pas.store.rules import LockGrant, breaker_from_doc, breaker_to_doc, lock_expiry, lock_grant
from pas.store.sqlite.store import SqliteCore

if TYPE_CHECKING:
    from pas.models import BreakerState, Run


class SqliteControl(SqliteCore):
    """Control: command runs, locks, the HTTP cache, rate slots and the circuit breaker."""

    def start_run(self, run: Run) -> bool:
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO runs (run_id, command, started_at, status, details) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (run_id) DO NOTHING",
                (
                    run.run_id,
                    run.command,
                    format_ts(run.started_at),
                    run.status.value,
                    json.dumps(dict(run.details), default=str),
                ),
            )
            return cursor.rowcount == 1

    def finish_run(
        self,
        run_id: str,
        status: RunStatus,
        error: str = "",
        details: Mapping[str, Any] | None = None,
    ) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE runs SET ended_at = ?, status = ?, error = ?,"
                " details = CASE WHEN ? IS NULL THEN details ELSE ? END WHERE run_id = ?",
                (
                    format_ts(self.clock()),
                    status.value,
                    error,
                    None if details is None else 1,
                    json.dumps(dict(details or {}), default=str),
                    run_id,
                ),
            )

    def recent_runs(self, limit: int = 20) -> list[Run]:
        from pas.models import Run  # loaded at first use (pas.history)

        rows = self._db.execute(
            "SELECT run_id, command, started_at, ended_at, status, error, details FROM runs"
            " ORDER BY started_at DESC, rowid DESC LIMIT ?",
            (limit,),
        )
        return [
            Run(
                run_id=run_id,
                command=command,
                started_at=parse_ts(started),
                ended_at=None if ended is None else parse_ts(ended),
                status=RunStatus(status),
                error=error,
                details=json.loads(details),
            )
            for run_id, command, started, ended, status, error, details in rows
        ]

    def acquire_lock(self, name: str, owner: str, ttl_sec: float) -> LockGrant:
        now = self.clock()
        with self._write() as db:
            row = db.execute("SELECT owner, expires_at FROM locks WHERE name = ?", (name,)).fetchone()
            holder, expires_at = (None, None) if row is None else (row[0], parse_ts(row[1]))
            grant = lock_grant(holder, expires_at, owner, now)
            if grant:
                db.execute(
                    "INSERT INTO locks (name, owner, expires_at) VALUES (?, ?, ?) ON CONFLICT (name)"
                    " DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at",
                    (name, owner, format_ts(lock_expiry(now, ttl_sec))),
                )
            return grant

    def lock_owner(self, name: str) -> str | None:
        row = self._db.execute("SELECT owner FROM locks WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def release_lock(self, name: str, owner: str) -> bool:
        with self._write() as db:
            cursor = db.execute("DELETE FROM locks WHERE name = ? AND owner = ?", (name, owner))
            return cursor.rowcount > 0

    def cache_get(self, key: str, now: datetime) -> str | None:
        row = self._db.execute(
            "SELECT body FROM http_cache WHERE key = ? AND expires_at > ?", (key, format_ts(now))
        ).fetchone()
        return None if row is None else str(row[0])

    def cache_put(self, key: str, body: str, expires_at: datetime) -> None:
        with self._write() as db:
            # Expired bodies are dropped here so the cache never grows past one TTL of responses.
            db.execute("DELETE FROM http_cache WHERE expires_at <= ?", (format_ts(self.clock()),))
            db.execute(
                "INSERT INTO http_cache (key, body, expires_at) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET body = excluded.body, expires_at = excluded.expires_at",
                (key, body, format_ts(expires_at)),
            )

    def coverage_get(self, dataset: str) -> str | None:
        row = self._db.execute(
            "SELECT coverage FROM scrape_coverage WHERE dataset = ?", (dataset,)
        ).fetchone()
        return None if row is None else str(row[0])

    def coverage_put(self, dataset: str, coverage: str) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO scrape_coverage (dataset, coverage) VALUES (?, ?)"
                " ON CONFLICT (dataset) DO UPDATE SET coverage = excluded.coverage",
                (dataset, coverage),
            )

    def reserve_slot(self, name: str, interval_sec: float, now: datetime) -> datetime:
        with self._write() as db:
            row = db.execute("SELECT last_slot FROM rate_slots WHERE name = ?", (name,)).fetchone()
            slot = now if row is None else max(now, parse_ts(row[0]) + timedelta(seconds=interval_sec))
            db.execute(
                "INSERT INTO rate_slots (name, last_slot) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET last_slot = excluded.last_slot",
                (name, format_ts(slot)),
            )
        return slot

    def breaker_state(self) -> BreakerState:
        from pas.models import BreakerState

        row = self._db.execute("SELECT version, state FROM breaker WHERE name = 'account'").fetchone()
        return BreakerState() if row is None else breaker_from_doc(json.loads(row[1]), row[0])

    def save_breaker_state(self, state: BreakerState) -> bool:
        with self._write() as db:
            row = db.execute("SELECT version FROM breaker WHERE name = 'account'").fetchone()
            if (0 if row is None else row[0]) != state.version:
                return False
            db.execute(
                "INSERT INTO breaker (name, version, state) VALUES ('account', ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET version = excluded.version, state = excluded.state",
                (state.version + 1, json.dumps(breaker_to_doc(state))),
            )
        return True
