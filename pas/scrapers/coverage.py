"""What history of a dataset pas has fetched completely, persisted per dataset.

A dataset's coverage is a set of day ranges (inclusive, by the day the feed dates a row)
that were read to the feed's documented end, plus the position of an unfinished backfill
of a feed that has no date parameters (the next page to ask for). A scrape asks only for
what is not covered, and is ``ok`` only when its whole range is; an interrupted scrape
(a kill, a failed page, a rate limit) keeps what it finished, and the next one resumes.

The last :data:`OVERLAP` of covered days are always asked again: Quiver adds late rows
and revises recent ones.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

OVERLAP = timedelta(days=7)

Span = tuple[date, date]


@dataclass(frozen=True)
class Cursor:
    """An unfinished backfill of a paged feed without dates.

    Attributes:
        page: the next page to ask for (from 1).
        page_size: rows per page the backfill asks for (a resumed backfill must keep it).
        started: the day the backfill began; once finished, history up to the day before
            is covered (rows added at the front while it ran are read by the next scrape).
    """

    page: int
    page_size: int
    started: date


@dataclass
class Coverage:
    """The covered day ranges of one dataset, merged and sorted, and an unfinished backfill."""

    spans: list[Span] = field(default_factory=list)
    cursor: Cursor | None = None

    def add(self, start: date, end: date) -> None:
        """Marks ``start``..``end`` (inclusive) as fetched completely."""
        if end < start:
            return
        self.spans = merge([*self.spans, (start, end)])

    def missing(self, start: date, end: date) -> list[Span]:
        """The parts of ``start``..``end`` (inclusive) not covered, oldest first; the last
        :data:`OVERLAP` of each covered range count as not covered."""
        gaps: list[Span] = []
        day = start
        for lo, hi in self.spans:
            hi = hi - OVERLAP
            if hi < day or lo > end:
                continue
            if lo > day:
                gaps.append((day, lo - timedelta(days=1)))
            day = max(day, hi + timedelta(days=1))
        if day <= end:
            gaps.append((day, end))
        return gaps

    def covers(self, start: date, end: date) -> bool:
        """Whether ``start``..``end`` lies within one covered range (no overlap rule)."""
        return any(lo <= start and end <= hi for lo, hi in self.spans)

    def to_json(self) -> str:
        """The coverage as JSON text (ISO days), as the store keeps it."""
        doc: dict[str, Any] = {"spans": [[lo.isoformat(), hi.isoformat()] for lo, hi in self.spans]}
        if self.cursor is not None:
            c = self.cursor
            doc["cursor"] = {"page": c.page, "page_size": c.page_size, "started": c.started.isoformat()}
        return json.dumps(doc, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> Coverage:
        """The coverage stored as :meth:`to_json`; none stored, or unreadable, is empty
        (the scrape then fetches the whole history again, which upserts never duplicate)."""
        if not text:
            return cls()
        try:
            doc = json.loads(text)
            spans = [(date.fromisoformat(lo), date.fromisoformat(hi)) for lo, hi in doc["spans"]]
            raw = doc.get("cursor")
            cursor = (
                None
                if raw is None
                else Cursor(int(raw["page"]), int(raw["page_size"]), date.fromisoformat(raw["started"]))
            )
        except (ValueError, KeyError, TypeError):
            return cls()
        return cls(merge(spans), cursor)


def merge(spans: Iterable[Span]) -> list[Span]:
    """Sorted ranges with overlapping or adjacent ones joined."""
    merged: list[Span] = []
    for lo, hi in sorted(spans):
        if merged and lo <= merged[-1][1] + timedelta(days=1):
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged
