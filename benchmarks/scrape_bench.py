"""Scrape benchmark against the fake Quiver server, and store upsert throughput.

    .venv/bin/python benchmarks/scrape_bench.py [--scale 10] [--records 1000000]

Measures requests and wall time of (1) a first scrape of all datasets, (2) a second one
within the cache TTL (goal: 0 requests), (3) an incremental one after new rows appeared
and the TTL passed (goal: only the pages that hold new rows); then (4) upserting N
records into a fresh SQLite store, and upserting them again (all unchanged).

Rate limiting is off here (QUIVER_RATE_SEC=0): against Quiver each request also waits
its 1.1 s slot, so the request counts are what matter.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests

from pas.records import Record, natural_key
from pas.scrapers import DATASETS
from pas.scrapers.client import QuiverClient
from pas.scrapers.scrape import scrape
from pas.store.sqlite import SqliteStore
from tests.fakes.quiver import (
    API_KEY,
    FakeQuiver,
    congress_rows,
    contract_rows,
    insider_rows,
    lobbying_rows,
    serve,
    wiki_rows,
)

NEW_ROWS = 40


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def fill(fake: FakeQuiver, newest: date, scale: int, with_new: bool) -> None:
    """Every dataset up to ``newest``; without ``with_new`` the newest NEW_ROWS are held back."""
    skip = 0 if with_new else NEW_ROWS
    congress = congress_rows(1200 * scale + NEW_ROWS, newest)[skip:]
    fake.rows["bulk/congresstrading"] = congress
    fake.rows["live/congresstrading"] = congress[:200]
    fake.rows["live/lobbying"] = lobbying_rows(1000 * scale + NEW_ROWS, newest)[skip:]
    fake.rows["live/govcontractsall"] = contract_rows(300 * scale + NEW_ROWS, newest)[skip:]
    fake.rows["live/insiders"] = insider_rows(1000 * scale + NEW_ROWS, newest)[skip:]
    fake.rows["live/wikipedia"] = wiki_rows(newest if with_new else newest - timedelta(days=1))


def scrape_all(client: QuiverClient, store: SqliteStore, fake: FakeQuiver, label: str) -> None:
    before = len(fake.log)
    started = time.perf_counter()
    results = [scrape(d, client, store) for d in DATASETS.values()]
    seconds = time.perf_counter() - started
    per = ", ".join(f"{r.dataset} {r.requests}" for r in results)
    new = sum(r.counts.new for r in results)
    print(f"{label:<34} {len(fake.log) - before:>5} requests {seconds:>7.2f} s  {new:>6} new  ({per})")


def scrape_bench(scale: int) -> None:
    newest = date(2026, 3, 2)
    clock = Clock(datetime(2026, 3, 3, 12, tzinfo=UTC))
    with serve() as fake, tempfile.TemporaryDirectory() as tmp, requests.Session() as session:
        store = SqliteStore(Path(tmp) / "pas.db", clock=clock)
        client = QuiverClient(
            session=session,
            cache=store,
            limiter=store,
            api_key=API_KEY,
            base_url=fake.url,
            rate_sec=0,
            clock=clock,
        )
        fill(fake, newest, scale, with_new=False)
        scrape_all(client, store, fake, "first scrape all")
        clock.now += timedelta(hours=1)
        scrape_all(client, store, fake, "second, within the TTL")
        fill(fake, newest, scale, with_new=True)
        clock.now += timedelta(hours=7)
        scrape_all(client, store, fake, f"incremental, {NEW_ROWS} new rows each")
        store.close()


def store_bench(count: int, batch: int = 10_000) -> None:
    public = datetime(2025, 1, 1, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "pas.db")

        def records(start: int) -> list[Record]:
            return [
                Record(
                    "lobbying",
                    natural_key("lobbying", {"n": i}),
                    f"T{i % 5000}",
                    date(2024, 1, 1) + timedelta(days=i % 700),
                    public + timedelta(minutes=i),
                    {"amount": str(1000 + i % 97), "client": f"CLIENT {i % 311}", "issue": "Taxation"},
                )
                for i in range(start, min(start + batch, count))
            ]

        for label in ("upsert new", "upsert again (unchanged)"):
            started = time.perf_counter()
            total = 0
            for start in range(0, count, batch):
                total += sum(store.upsert_records("lobbying", records(start)))
            seconds = time.perf_counter() - started
            rate = total / seconds
            print(f"store {label:<28} {total:>9} records {seconds:>7.1f} s  {rate:>9,.0f} records/s")
        started = time.perf_counter()
        view = store.records("lobbying", as_of=public + timedelta(days=30), ticker="T42")
        seconds = time.perf_counter() - started
        print(f"store point-in-time read (one ticker) {len(view):>5} records {seconds:.3f} s")
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, default=10, help="Rows per dataset, in thousands (about).")
    parser.add_argument("--records", type=int, default=1_000_000, help="Records for the store benchmark.")
    args = parser.parse_args()
    scrape_bench(args.scale)
    store_bench(args.records)


if __name__ == "__main__":
    main()
