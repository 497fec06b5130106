"""Scraped records: what a dataset row becomes once validated, stored point-in-time.

A :class:`Record` keeps three times: the day of the event (a trade, a filing, an award),
``public_at`` (when the world could first know it; strategies filter on this) and
``first_seen`` (when pas first stored it, never changed by a re-scrape).

Records are bitemporal. The natural key is the identity of the filing, award, trade or day,
never a value that gets corrected; when a re-scrape finds other values under a key, the
store keeps the values it replaces with the time pas first saw the new ones, so the view
as of a time shows each record's values as pas knew them then. ``public_at`` is the one of
the first values stored and never moves when the source edits a row.

Strategies read records as :class:`RecordColumns`: one query of the store's point-in-time
view straight into columns, with only the fields they use.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


class UpsertCounts(NamedTuple):
    """What an upsert did: records written for the first time, changed, or already stored."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: object) -> UpsertCounts:
        if not isinstance(other, UpsertCounts):
            return NotImplemented
        return UpsertCounts(
            self.new + other.new, self.updated + other.updated, self.unchanged + other.unchanged
        )


@dataclass(frozen=True)
class Record:
    """One validated row of a dataset.

    Attributes:
        dataset: the canonical dataset name (``congress``, ``lobbying``...).
        key: the natural key, a hash of the row's identifying content.
        ticker: the stock symbol.
        event_date: the day the event happened.
        public_at: the UTC time the row became public (strategies see it from then on).
        fields: the normalised fields, JSON values only (amounts as decimal strings).
        first_seen: the UTC time pas first stored the row (None before it is stored).
    """

    dataset: str
    key: str
    ticker: str
    event_date: date
    public_at: datetime
    fields: Mapping[str, Any] = field(default_factory=dict)
    first_seen: datetime | None = None

    def fields_json(self) -> str:
        """The fields as canonical JSON text (sorted keys), as the stores keep them."""
        return canonical_json(self.fields)

    def digest(self) -> str:
        """A hash of the values a revision can change (not ``public_at``, which stays the
        first one stored): a re-scrape compares it."""
        text = f"{self.ticker}|{self.event_date.isoformat()}|{self.fields_json()}"
        return hashlib.sha256(text.encode()).hexdigest()[:32]


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: equal content, equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def natural_key(dataset: str, identity: Mapping[str, Any]) -> str:
    """The natural key of a row: a hash of its dataset and full identifying content."""
    text = canonical_json({"dataset": dataset, "identity": identity})
    return hashlib.sha256(text.encode()).hexdigest()[:40]


@dataclass(frozen=True)
class RecordColumns:
    """Records of one dataset as columns, oldest ``public_at`` first (ties by key).

    Attributes:
        ticker: each record's ticker.
        event_date: the days of the events, NumPy ``datetime64[D]``.
        public_at: the times the records became public, NumPy ``datetime64[us]`` in UTC
            (no zone attached: every time pas stores is UTC).
        fields: per field asked for, each record's value as :func:`column_value` gives it
            (None where a record has no such field).
    """

    ticker: Sequence[str]
    event_date: npt.NDArray[np.datetime64]
    public_at: npt.NDArray[np.datetime64]
    fields: Mapping[str, Sequence[Any]]

    def __len__(self) -> int:
        return len(self.ticker)

    @classmethod
    def from_text(
        cls,
        ticker: Sequence[str],
        event_date: Sequence[str],
        public_at: Sequence[str],
        fields: Mapping[str, Sequence[Any]],
    ) -> RecordColumns:
        """Columns from the stores' text: days ``YYYY-MM-DD`` and UTC times
        ``YYYY-MM-DDTHH:MM:SS.ffffff`` (the stored form without its ``Z``)."""
        import numpy as np

        return cls(
            ticker=ticker,
            event_date=np.array(event_date, dtype="datetime64[D]"),
            public_at=np.array(public_at, dtype="datetime64[us]"),
            fields=fields,
        )

    @classmethod
    def from_texts(
        cls,
        ticker: Sequence[str],
        event_date: str | None,
        public_at: str | None,
        fields: Mapping[str, Sequence[Any]],
    ) -> RecordColumns:
        """Columns from one text each: the event days ``YYYY-MM-DD`` and the UTC times as
        stored (``YYYY-MM-DDTHH:MM:SS.ffffffZ``), one per ticker, comma-separated (None
        when there are no records); NumPy reads both without a Python object per record."""
        return cls(
            ticker=ticker,
            event_date=_comma_separated(event_date or "", len(ticker), "D", _DAY_WIDTH, b""),
            public_at=_comma_separated(public_at or "", len(ticker), "us", _TIME_WIDTH, b"Z"),
            fields=fields,
        )

    @classmethod
    def of(cls, records: Iterable[Record], fields: Sequence[str]) -> RecordColumns:
        """Records held in memory (a test's, a caller's own) as columns, in their order."""
        rows = list(records)
        return cls.from_text(
            [r.ticker for r in rows],
            [r.event_date.isoformat() for r in rows],
            [r.public_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") for r in rows],
            {name: [column_value(r.fields.get(name)) for r in rows] for name in fields},
        )


_DAY_WIDTH = len("2026-01-02")
_TIME_WIDTH = len("2026-01-02T15:04:05.000000Z")


def _comma_separated(
    text: str, count: int, unit: str, width: int, suffix: bytes
) -> npt.NDArray[np.datetime64]:
    """``count`` comma-separated days or UTC times as ``datetime64[unit]``. Values of the
    stored ``width`` ending in ``suffix`` (the ``Z`` of a UTC time) are read in place as
    fixed-width bytes (a third of the time of splitting the text); any other text is split."""
    import numpy as np

    data = f"{text},".encode()
    if len(data) == (width + 1) * count:
        tail = len(suffix) + 1
        raw = np.frombuffer(data, dtype=[("value", f"S{width - len(suffix)}"), ("tail", f"S{tail}")])
        if bool(np.all(raw["tail"] == suffix + b",")):
            return raw["value"].astype(f"datetime64[{unit}]")
    values = [value.removesuffix(suffix.decode()) for value in text.split(",")] if count else []
    return np.array(values, dtype=f"datetime64[{unit}]")


def column_value(value: Any) -> Any:
    """A field's JSON value as every store gives it in a column: strings, numbers and None
    as they are, true and false as 1 and 0, objects and arrays as canonical JSON text
    (SQLite's ``json_extract`` answers so, and the other backends follow it)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dict | list):
        return canonical_json(value)
    return value
