"""Performance: daily metrics, trailing statistics and applied allocations."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from pas.models import format_ts, from_units, to_units
from pas.store.sqlite._rows import _allocation
from pas.store.sqlite.store import SqliteCore

if TYPE_CHECKING:
    from pas.models import AppliedAllocation, DailyMetric, TrailingStats


class SqlitePerformance(SqliteCore):
    """Performance: daily metrics, trailing statistics and applied allocations."""

    def put_daily_metrics(self, metrics: Sequence[DailyMetric]) -> int:
        rows = [
            (
                m.portfolio,
                m.day.isoformat(),
                m.ret,
                None if m.equity is None else to_units(m.equity),
                m.benchmark_ret,
                m.source,
            )
            for m in metrics
        ]
        with self._write() as db:
            db.executemany(
                "INSERT INTO daily_metrics (portfolio, day, ret, equity_n, benchmark_ret, source)"
                " VALUES (?,?,?,?,?,?) ON CONFLICT (portfolio, day) DO UPDATE SET ret = excluded.ret,"
                " equity_n = excluded.equity_n, benchmark_ret = excluded.benchmark_ret,"
                " source = excluded.source",
                rows,
            )
        return len(rows)

    def daily_metrics(
        self, portfolio_id: str, start: date | None = None, end: date | None = None
    ) -> list[DailyMetric]:
        from pas.models import DailyMetric  # loaded at first use (pas.history)

        rows = self._db.execute(
            "SELECT portfolio, day, ret, equity_n, benchmark_ret, source FROM daily_metrics"
            " WHERE portfolio = ? AND day >= ? AND day <= ? ORDER BY day",
            (portfolio_id, (start or date.min).isoformat(), (end or date.max).isoformat()),
        )
        return [
            DailyMetric(p, date.fromisoformat(d), r, None if e is None else from_units(e), b, src)
            for p, d, r, e, b, src in rows
        ]

    def metric_days(self, portfolio_id: str) -> set[date]:
        rows = self._db.execute("SELECT day FROM daily_metrics WHERE portfolio = ?", (portfolio_id,))
        return {date.fromisoformat(d) for (d,) in rows}

    def put_trailing_stats(self, stats: Sequence[TrailingStats]) -> int:
        rows = [(t.portfolio, t.as_of.isoformat(), t.window, json.dumps(dict(t.values))) for t in stats]
        with self._write() as db:
            db.executemany(
                "INSERT INTO trailing_stats (portfolio, as_of, window, stats) VALUES (?,?,?,?)"
                " ON CONFLICT (portfolio, window, as_of) DO UPDATE SET stats = excluded.stats",
                rows,
            )
        return len(rows)

    def trailing_stats(
        self, portfolio_id: str, window: str, as_of: date | None = None
    ) -> TrailingStats | None:
        row = self._db.execute(
            "SELECT as_of, stats FROM trailing_stats WHERE portfolio = ? AND window = ? AND as_of <= ?"
            " ORDER BY as_of DESC LIMIT 1",
            (portfolio_id, window, (as_of or date.max).isoformat()),
        ).fetchone()
        if row is None:
            return None
        from pas.models import TrailingStats

        return TrailingStats(portfolio_id, date.fromisoformat(row[0]), window, json.loads(row[1]))

    def delete_trailing_stats_from(self, portfolio_id: str, day: date) -> int:
        with self._write() as db:
            cursor = db.execute(
                "DELETE FROM trailing_stats WHERE portfolio = ? AND as_of >= ?",
                (portfolio_id, day.isoformat()),
            )
            return cursor.rowcount

    def put_allocation(self, allocation: AppliedAllocation) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO allocations (as_of, applied_at, method, exposure, ex_ante_vol, weights)"
                " VALUES (?,?,?,?,?,?)",
                (
                    allocation.as_of.isoformat(),
                    format_ts(allocation.applied_at),
                    allocation.method,
                    allocation.exposure,
                    allocation.ex_ante_vol,
                    json.dumps(sorted(allocation.weights.items())),
                ),
            )

    def allocation_history(self, limit: int | None = None) -> list[AppliedAllocation]:
        return self._allocations("", (), limit)

    def latest_allocation(self, as_of: date | None = None) -> AppliedAllocation | None:
        found = self._allocations("WHERE as_of <= ?", ((as_of or date.max).isoformat(),), 1)
        return found[0] if found else None

    def _allocations(self, where: str, args: tuple[Any, ...], limit: int | None) -> list[AppliedAllocation]:
        rows = self._db.execute(
            "SELECT as_of, applied_at, method, exposure, ex_ante_vol, weights FROM allocations "
            f"{where} ORDER BY as_of DESC, id DESC LIMIT ?",
            (*args, -1 if limit is None else limit),
        )
        return [_allocation(row) for row in rows]
