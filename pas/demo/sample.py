"""Loads the bundled SYNTHETIC sample data into a store.

The files under ``pas/demo/data`` are written by ``scripts/make_demo_data.py``: invented
companies (``SYN01``...), a synthetic ``SPY``, and the five QuiverQuant datasets as the
records a scrape stores. Nothing in them is market data; their README says how they were
made and which link between alternative data and returns was planted.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from pas.models import Price, parse_ts
from pas.records import Record, UpsertCounts
from pas.store.base import Store

DATA_PACKAGE = "pas.demo"
DATA_DIR = "data"
DATASET_NAMES = ("congress", "lobbying", "wiki", "insiders", "contracts")


@dataclass(frozen=True)
class SampleSummary:
    """What :func:`load_sample` did.

    Attributes:
        records: per dataset, how many records were new, updated and unchanged.
        prices: closes written (a close already stored is replaced by the same value).
        symbols: the synthetic tickers, without the benchmark.
        benchmark: the synthetic benchmark's symbol (``SPY``).
        first_day: the first price day.
        last_day: the last price day.
    """

    records: dict[str, UpsertCounts]
    prices: int
    symbols: tuple[str, ...]
    benchmark: str
    first_day: date
    last_day: date


def _read(name: str, folder: Path | None = None) -> bytes:
    if folder is not None:
        return (folder / name).read_bytes()
    return (resources.files(DATA_PACKAGE) / DATA_DIR / name).read_bytes()


def manifest(folder: Path | None = None) -> dict[str, Any]:
    """The sample's manifest: range, symbols, record counts, seed."""
    data: dict[str, Any] = json.loads(_read("manifest.json", folder))
    return data


def sample_range(folder: Path | None = None) -> tuple[date, date]:
    """The first and last price day of the sample."""
    m = manifest(folder)
    return date.fromisoformat(m["first_day"]), date.fromisoformat(m["last_day"])


def sample_records(dataset: str, folder: Path | None = None) -> list[Record]:
    """The stored records of one dataset, oldest ``public_at`` first."""
    text = gzip.decompress(_read(f"{dataset}.jsonl.gz", folder)).decode()
    return [_record(json.loads(line)) for line in text.splitlines() if line]


def sample_prices(folder: Path | None = None) -> list[Price]:
    """Every synthetic close, by day then symbol."""
    text = gzip.decompress(_read("prices.csv.gz", folder)).decode()
    reader = csv.reader(io.StringIO(text))
    next(reader)
    days: dict[str, date] = {}
    return [
        Price(symbol, days.setdefault(day, date.fromisoformat(day)), Decimal(close))
        for day, symbol, close in reader
    ]


def load_sample(store: Store, folder: Path | None = None) -> SampleSummary:
    """Loads the sample's records and closes into ``store``; loading again changes nothing.

    Records are upserted on their natural keys and closes on (symbol, day), so a second
    load counts every record as unchanged.

    Args:
        folder: a sample written by ``scripts/make_demo_data.py --out`` (default: the
            bundled one).
    """
    m = manifest(folder)
    counts = {name: store.upsert_records(name, sample_records(name, folder)) for name in DATASET_NAMES}
    written = store.upsert_prices(sample_prices(folder))
    first, last = sample_range(folder)
    return SampleSummary(counts, written, tuple(m["symbols"]), m["benchmark"], first, last)


def _record(row: dict[str, Any]) -> Record:
    public_at: datetime = parse_ts(row["public_at"])
    return Record(
        dataset=row["dataset"],
        key=row["key"],
        ticker=row["ticker"],
        event_date=date.fromisoformat(row["event_date"]),
        public_at=public_at,
        fields=row["fields"],
    )
