"""Time `pas build` for each strategy on 5 years of synthetic data for 3,000 tickers.

Record counts follow QuiverQuant's full histories: lobbying ~150k filings, congress
~100k trades, wiki one row per ticker and day (5.5M), insiders ~500k Form 4 trades,
contracts ~300k awards. The store is an embedded SQLite file, written once and reused
(``--db``); each build is timed as the command runs it: load the records of the
strategy's window from the store, then compute. Goal: under 2 s per build (issue 6),
under 0.3 s (issue 18).

``--wiki-days 100`` writes only the last 100 days of page views (300,000 records instead of
5.5 million, minutes instead of over half an hour): the window a build reads is one
contiguous range of the store either way.

``--before DIR`` also times each build with the ``pas`` package of DIR first on the
Python path (the code before a change: ``git archive REF pas | tar -x -C DIR``) on its own
copy of the store (``--before-db``, in that code's schema), alternating the two sides,
and prints the medians and their ratio.

    .venv/bin/python benchmarks/strategies_bench.py [--scale 0.1] [--db /tmp/pas-bench.db]
        [--wiki-days 100] [--before DIR --before-db FILE]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from _before_after import alternate, print_ratios

from pas.models import Portfolio, Schedule
from pas.records import Record, natural_key
from pas.store.sqlite import SqliteStore
from pas.strategies import BUILTIN, get_strategy, resolve_params
from pas.strategies.build import build_weights, load_data

TICKERS = 3000
YEARS = 5
AS_OF = datetime(2026, 1, 5, 15, tzinfo=UTC)
START = (AS_OF - timedelta(days=365 * YEARS)).date()
DAYS = (AS_OF.date() - START).days
COUNTS = {"lobbying": 150_000, "congress": 100_000, "insiders": 500_000, "contracts": 300_000}
DATASET = {
    "lobbying_growth": "lobbying",
    "congress_buying": "congress",
    "wiki_attention": "wiki",
    "insider_sentiment": "insiders",
    "gov_contracts": "contracts",
}
BATCH = 50_000
GOAL_BUILD_SEC = 0.3  # issue 18, every strategy


def at(d: date, days_after: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC) + timedelta(days=days_after)


def synthetic(dataset: str, n: int, rng: random.Random) -> list[Record]:
    tickers = [f"T{i:04d}" for i in range(TICKERS)]
    out = []
    for i in range(n):
        t = rng.choice(tickers)
        day = START + timedelta(days=rng.randrange(DAYS))
        if dataset == "lobbying":
            fields, public = {"amount": str(rng.randrange(10, 500) * 1000)}, at(day, 1)
        elif dataset == "congress":
            low = rng.choice(["1001", "15001", "50001", "100001"])
            fields = {
                "name": f"Member {rng.randrange(500)}",
                "transaction": rng.choice(["Purchase", "Sale (Full)", "Sale (Partial)"]),
                "low": low,
                "high": str(int(low) * 3),
            }
            public = at(day, rng.randrange(1, 45))
        elif dataset == "insiders":
            fields = {"code": rng.choice("PSSAMF"), "shares": str(rng.randrange(1, 10_000)), "price": "25.5"}
            public = at(day, rng.randrange(0, 3))
        else:
            fields, public = {"amount": str(rng.randrange(-10, 1000) * 10_000)}, at(day)
        out.append(Record(dataset, natural_key(dataset, {"i": i}), t, day, public, fields))
    return out


def wiki_rows(scale: float, days: int) -> list[Record]:
    tickers = TICKERS if scale >= 1 else max(1, int(TICKERS * scale))
    out = []
    rng = random.Random(7)
    for i in range(tickers):
        t = f"T{i:04d}"
        base = rng.randrange(50, 50_000)
        for d in range(DAYS - min(days, DAYS), DAYS):
            day = START + timedelta(days=d)
            fields = {"views": str(int(base * (0.5 + rng.random())))}
            out.append(Record("wiki", natural_key("wiki", {"t": t, "d": d}), t, day, at(day, 1), fields))
    return out


def fill(store: SqliteStore, scale: float, wiki_days: int) -> None:
    rng = random.Random(1)
    for dataset, n in COUNTS.items():
        started = time.perf_counter()
        rows = synthetic(dataset, int(n * scale), rng)
        for i in range(0, len(rows), BATCH):
            store.upsert_records(dataset, rows[i : i + BATCH])
        print(f"  wrote {len(rows):>9,} {dataset} records in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    rows = wiki_rows(scale, wiki_days)
    for i in range(0, len(rows), BATCH):
        store.upsert_records("wiki", rows[i : i + BATCH])
    print(f"  wrote {len(rows):>9,} wiki records in {time.perf_counter() - started:.1f} s")


def build_times(store: SqliteStore, repeat: int) -> dict[str, tuple[int, float, float, float, float]]:
    """Per strategy: records read, and the best load, compute and build seconds (wall), and
    the best build's CPU seconds (the steadier figure on a machine others load)."""
    out = {}
    for name in BUILTIN:
        strategy = get_strategy(name)
        params = resolve_params(strategy, {})
        portfolio = Portfolio("bench", name, Schedule.DAILY, AS_OF)
        loads, computes, builds, cpus = [], [], [], []
        for _ in range(repeat):
            t0 = time.perf_counter()
            data, uses = load_data(store, strategy, params, AS_OF, 10)
            t1 = time.perf_counter()
            strategy.weights(data, AS_OF, params)
            t2, c2 = time.perf_counter(), time.process_time()
            build_weights(store, portfolio, AS_OF, max_stale_days=10)
            t3, c3 = time.perf_counter(), time.process_time()
            loads.append(t1 - t0)
            computes.append(t2 - t1)
            builds.append(t3 - t2)
            cpus.append(c3 - c2)
        out[name] = (sum(u.records for u in uses), min(loads), min(computes), min(builds), min(cpus))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the record counts")
    parser.add_argument("--db", type=Path, default=Path("/tmp/pas-bench-strategies.db"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--wiki-days", type=int, default=DAYS, help="days of page views written, the last (a build reads 65)"
    )
    parser.add_argument("--before", type=Path, help="also time the pas package of DIR")
    parser.add_argument("--before-db", type=Path, help="the store for --before, in its schema")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of --before")
    parser.add_argument(
        "--json", action="store_true", help="print build wall and CPU seconds as JSON (for --before)"
    )
    args = parser.parse_args()
    fresh = not args.db.exists()
    store = SqliteStore(args.db, clock=lambda: AS_OF)
    if fresh:
        print(f"writing synthetic data to {args.db} (once; delete it to start over)")
        fill(store, args.scale, args.wiki_days)
    times = build_times(store, args.repeat)
    store.close()
    if args.json:
        walls = {name: build for name, (_, _, _, build, _) in times.items()}
        cpus = {f"{name} CPU": cpu for name, (*_, cpu) in times.items()}
        print(json.dumps(walls | cpus))
        return
    header = (
        f"{'strategy':<18} {'records':>8} {'load s':>7} {'compute s':>9} {'build s':>8} {'build CPU s':>11}"
    )
    print(f"{header}  (best of {args.repeat})")
    for name, (count, load, compute, build, cpu) in times.items():
        print(f"{name:<18} {count:>8,} {load:>7.2f} {compute:>9.2f} {build:>8.2f} {cpu:>11.2f}")
    slowest = max(build for *_, build, _ in times.values())
    slowest_cpu = max(cpu for *_, cpu in times.values())
    met = "met" if slowest < GOAL_BUILD_SEC else "MISSED"
    print(f"goal {met}: slowest build {slowest:.2f} s, {slowest_cpu:.2f} s CPU (goal < {GOAL_BUILD_SEC} s)")
    if args.before is not None:
        if args.before_db is None:
            parser.error("--before needs --before-db, a store in the schema of that code")
        base = [sys.executable, __file__, "--json", f"--repeat={args.repeat}"]
        # Each side reads its own store: the code before a change cannot open a newer schema.
        sides = {"before": ["--db", str(args.before_db)], "after": ["--db", str(args.db)]}
        before, after = alternate(base, args.before, args.rounds, extra=sides)
        print(f"\nbuild s before ({args.before}) and after, medians of {args.rounds} alternating runs:")
        print_ratios(before, after, unit="s")


if __name__ == "__main__":
    main()
