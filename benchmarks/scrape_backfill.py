"""A full five-dataset history backfill against the fake Quiver with its documented limits.

The fake enforces Quiver's per-endpoint limits on a simulated clock (bulk 5/hour,
historical 200/hour, live 100/minute) and the client sleeps on that clock, so hours of
waiting take no real time. First one uninterrupted backfill on a fresh store gives the
requests the history needs; then the same backfill on another fresh store is
interrupted at 20 random requests — half of them a kill (the process dies mid-scrape:
nothing after that request happens), half a 5xx storm (the endpoint answers 503 until
the retries are spent) — and resumed until every dataset is ``ok``. Printed: requests
sent against that minimum, simulated wall time, completeness and duplicates after each
resume, then the store's throughput on 1,000,000 record revisions and the cost of
reading the as-of view.

    .venv/bin/python benchmarks/scrape_backfill.py [--seed 13] [--revisions 1000000]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests

from pas.records import Record, natural_key
from pas.scrapers import DATASETS
from pas.scrapers.client import MAX_TRIES, QuiverClient
from pas.scrapers.scrape import scrape
from pas.store.sqlite import SqliteStore
from tests.fakes.quiver import (
    API_KEY,
    FakeQuiver,
    Fault,
    congress_rows,
    contract_rows,
    insider_rows,
    lobbying_rows,
    serve,
    wiki_rows,
)

START = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
TODAY = START.date()
INTERRUPTIONS = 20
# Quiver's documented limits, enforced by the fake on the simulated clock.
LIMITS = {"bulk/": (5, 3600.0), "historical/": (200, 3600.0), "live/": (100, 60.0)}


class SimClock:
    """Simulated time: the client's clock, its sleep and the fake's limit window."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def seconds(self) -> float:
        return (self.now - START).total_seconds()


class Killed(BaseException):
    """The process dying mid-scrape (kill -9): nothing after the request runs."""


def history(fake: FakeQuiver) -> None:
    """Five datasets' history up to yesterday, dated over the windows pas asks for."""
    newest = TODAY - timedelta(days=1)
    fake.rows["bulk/congresstrading"] = congress_rows(24_000, newest)  # 4 filed a day
    fake.rows["live/congresstrading"] = congress_rows(100, newest)
    lobbying = lobbying_rows(9_000, newest)  # 5 a day from the newest back
    fake.rows["live/lobbying"] = [
        dict(r, Date=(newest - timedelta(days=i // 3)).isoformat()) for i, r in enumerate(lobbying)
    ]
    fake.rows["live/insiders"] = insider_rows(15_500, newest)
    fake.rows["live/govcontractsall"] = contract_rows(3_000, newest)  # 3 a day
    fake.rows["live/wikipedia"] = wiki_rows(newest)


def client_for(
    fake: FakeQuiver, store: SqliteStore, clock: SimClock, session: requests.Session
) -> QuiverClient:
    return QuiverClient(
        session=session,
        cache=store,
        limiter=store,
        api_key=API_KEY,
        base_url=fake.url,
        rate_sec=0,
        cache_ttl_sec=0,
        sleep=clock.sleep,
        clock=clock,
    )


def scrape_all(client: QuiverClient, store: SqliteStore) -> dict[str, str]:
    return {name: scrape(d, client, store).status for name, d in DATASETS.items()}


Keys = set[tuple[str, str]]


def stored(store: SqliteStore) -> Keys:
    return {(name, r.key) for name in DATASETS for r in store.records(name)}


def completeness(store: SqliteStore, want: Keys) -> tuple[float, int]:
    """Share of the reference records stored, and stored records the reference lacks."""
    have = stored(store)
    return len(have & want) / len(want), len(have - want)


def backfill(interrupt_at: dict[int, str], session: requests.Session, want: Keys | None) -> tuple[Keys, int]:
    """Runs scrapes until every dataset is ok; the records stored and the requests sent."""
    with serve(FakeQuiver()) as fake, tempfile.TemporaryDirectory() as tmp:
        clock = SimClock()
        fake.clock, fake.limits = clock.seconds, LIMITS
        history(fake)
        store = SqliteStore(Path(tmp) / "pas.db", clock=clock)
        client = client_for(fake, store, clock, session)
        sent = 0

        def on_request(url: str) -> None:
            nonlocal sent
            sent += 1
            kind = interrupt_at.pop(sent, None)
            if kind == "kill":
                raise Killed
            if kind == "storm":
                path = url.split("/beta/", 1)[-1]
                fake.fault(path, *[Fault(503, "Service Unavailable")] * MAX_TRIES)

        client.on_request = on_request
        label = "uninterrupted" if not interrupt_at else f"{len(interrupt_at)} interruptions"
        print(f"\n{label}:")
        print(f"{'run':>4} {'requests':>9} {'sim. hours':>10} {'complete':>9} {'duplicates':>10}  statuses")
        for run in range(1, 200):
            try:
                statuses = scrape_all(client, store)
                outcome = " ".join(f"{n}={s}" for n, s in statuses.items())
            except Killed:
                statuses, outcome = {}, "killed"
            share, extra = completeness(store, want) if want is not None else (1.0, 0)
            print(f"{run:>4} {sent:>9} {clock.seconds() / 3600:>10.2f} {share:>9.2%} {extra:>10}  {outcome}")
            if statuses and all(s == "ok" for s in statuses.values()):
                break
            clock.sleep(60)  # cron, or the user, starts the next run a minute later
        print(f"requests sent: {sent}; simulated wall time {clock.seconds() / 3600:.2f} h")
        keys = stored(store)
        store.close()
        return keys, sent


def throughput(revisions: int) -> None:
    """Records/s of upserting ``revisions`` changes: 200,000 records, each revised in turn."""
    keys = 200_000
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "pas.db")
        day = date(2025, 1, 2)
        public = datetime(2025, 1, 3, tzinfo=UTC)
        started = time.perf_counter()
        done = 0
        version = 0
        while done < revisions:
            batch = [
                Record(
                    "lobbying",
                    natural_key("lobbying", {"n": i}),
                    "AAPL",
                    day,
                    public,
                    {"amount": str(100_000 + version), "n": i},
                )
                for i in range(min(keys, revisions - done))
            ]
            for chunk in range(0, len(batch), 10_000):
                store.upsert_records("lobbying", batch[chunk : chunk + 10_000])
            done += len(batch)
            version += 1
        seconds = time.perf_counter() - started
        read = time.perf_counter()
        latest = store.records("lobbying")
        latest_sec = time.perf_counter() - read
        read = time.perf_counter()
        past = store.records("lobbying", as_of=public + timedelta(days=1))
        past_sec = time.perf_counter() - read
        store.close()
    print(
        f"\nstore: {revisions:,} record revisions ({keys:,} records × {revisions // keys} versions) "
        f"upserted into SQLite in {seconds:.1f} s = {revisions / seconds:,.0f} records/s "
        "(each change keeps the values it replaces)"
    )
    print(
        f"reading the {len(latest):,} records: latest values {latest_sec:.2f} s; as of a past time "
        f"(each record's first values, from its revisions) {past_sec:.2f} s; "
        f"first values seen as of then: {past[0].fields['amount'] == '100000'}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--revisions", type=int, default=1_000_000)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with requests.Session() as session:
        reference, minimum = backfill({}, session, None)
        print(f"records of the complete history: {len(reference):,}")
        points = sorted(rng.sample(range(1, minimum), INTERRUPTIONS))
        plan = {p: ("kill" if i % 2 == 0 else "storm") for i, p in enumerate(points)}
        print(f"\ninterruptions at requests {points} (kills and 5xx storms alternating)")
        _, sent = backfill(plan, session, reference)
        print(
            f"\nrequests: {sent} with interruptions vs {minimum} for the history uninterrupted "
            f"({sent / minimum:.2f}×)"
        )
    throughput(args.revisions)
    return 0


if __name__ == "__main__":
    sys.exit(main())
