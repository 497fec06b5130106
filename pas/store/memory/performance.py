"""The working store's daily metrics and trailing statistics, as Python values only."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from pas.clock import Clock
from pas.models import DailyMetric, TrailingStats, to_units
from pas.store.sqlite import SqliteStore


class MemoryPerformance(SqliteStore):
    """Each portfolio's daily metrics by day and its trailing statistics by window and
    as-of day (applied allocations stay in SQL: one is written a simulated week)."""

    def __init__(self, path: Path, clock: Clock) -> None:
        super().__init__(path, clock)
        self._metrics: dict[str, dict[date, DailyMetric]] = {}
        self._metric_days: dict[str, list[date]] = {}  # each portfolio's metric days, sorted
        # (portfolio, window) -> as-of days, oldest first, and their statistics
        self._trailing: dict[tuple[str, str], tuple[list[date], list[TrailingStats]]] = {}

    def put_daily_metrics(self, metrics: Sequence[DailyMetric]) -> int:
        for m in metrics:  # all converted before any is kept, as SQLite's batch
            if m.equity is not None:
                to_units(m.equity)
        for m in metrics:
            own = self._metrics.setdefault(m.portfolio, {})
            if m.day not in own:
                days = self._metric_days.setdefault(m.portfolio, [])
                if days and m.day < days[-1]:
                    bisect.insort(days, m.day)
                else:
                    days.append(m.day)  # the usual case: a day after the last one
            own[m.day] = m
        return len(metrics)

    def daily_metrics(
        self, portfolio_id: str, start: date | None = None, end: date | None = None
    ) -> list[DailyMetric]:
        own, days = self._metrics.get(portfolio_id, {}), self._metric_days.get(portfolio_id, [])
        first = 0 if start is None else bisect.bisect_left(days, start)
        last = len(days) if end is None else bisect.bisect_right(days, end)
        return [own[d] for d in days[first:last]]

    def metric_days(self, portfolio_id: str) -> set[date]:
        return set(self._metrics.get(portfolio_id, {}))

    def put_trailing_stats(self, stats: Sequence[TrailingStats]) -> int:
        for t in stats:
            days, rows = self._trailing.setdefault((t.portfolio, t.window), ([], []))
            at = bisect.bisect_left(days, t.as_of)
            row = TrailingStats(t.portfolio, t.as_of, t.window, dict(t.values))
            if at < len(days) and days[at] == t.as_of:
                rows[at] = row
            else:
                days.insert(at, t.as_of)
                rows.insert(at, row)
        return len(stats)

    def trailing_stats(
        self, portfolio_id: str, window: str, as_of: date | None = None
    ) -> TrailingStats | None:
        days, rows = self._trailing.get((portfolio_id, window), ([], []))
        at = len(days) if as_of is None else bisect.bisect_right(days, as_of)
        if not at:
            return None
        found = rows[at - 1]
        return TrailingStats(found.portfolio, found.as_of, found.window, dict(found.values))

    def delete_trailing_stats_from(self, portfolio_id: str, day: date) -> int:
        deleted = 0
        for (portfolio, _), (days, rows) in self._trailing.items():
            if portfolio == portfolio_id:
                at = bisect.bisect_left(days, day)
                deleted += len(days) - at
                del days[at:], rows[at:]
        return deleted

    def all_trailing_stats(self) -> list[TrailingStats]:
        """Every statistic kept, by portfolio, window and as-of day."""
        return [t for _, (_, rows) in sorted(self._trailing.items()) for t in rows]

    def remove_portfolio(self, portfolio_id: str) -> None:
        super().remove_portfolio(portfolio_id)
        self._metrics.pop(portfolio_id, None)
        self._metric_days.pop(portfolio_id, None)
        for key in [k for k in self._trailing if k[0] == portfolio_id]:
            del self._trailing[key]
