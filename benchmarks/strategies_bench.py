"""Time `pas build` for each strategy on 5 years of synthetic data for 3,000 tickers.

Record counts follow QuiverQuant's full histories: lobbying ~150k filings, congress
~100k trades, wiki one row per ticker and day (5.5M), insiders ~500k Form 4 trades,
contracts ~300k awards. The store is an embedded SQLite file, written once and reused
(``--db``); each build is timed as the command runs it: load the records of the
strategy's window from the store, then compute. Goal: under 2 s per build.

    .venv/bin/python benchmarks/strategies_bench.py [--scale 0.1] [--db /tmp/pas-bench.db]
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

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


def wiki_rows(scale: float) -> list[Record]:
    tickers = TICKERS if scale >= 1 else max(1, int(TICKERS * scale))
    out = []
    rng = random.Random(7)
    for i in range(tickers):
        t = f"T{i:04d}"
        base = rng.randrange(50, 50_000)
        for d in range(DAYS):
            day = START + timedelta(days=d)
            fields = {"views": str(int(base * (0.5 + rng.random())))}
            out.append(Record("wiki", natural_key("wiki", {"t": t, "d": d}), t, day, at(day, 1), fields))
    return out


def fill(store: SqliteStore, scale: float) -> None:
    rng = random.Random(1)
    for dataset, n in COUNTS.items():
        started = time.perf_counter()
        rows = synthetic(dataset, int(n * scale), rng)
        for i in range(0, len(rows), BATCH):
            store.upsert_records(dataset, rows[i : i + BATCH])
        print(f"  wrote {len(rows):>9,} {dataset} records in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    rows = wiki_rows(scale)
    for i in range(0, len(rows), BATCH):
        store.upsert_records("wiki", rows[i : i + BATCH])
    print(f"  wrote {len(rows):>9,} wiki records in {time.perf_counter() - started:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the record counts")
    parser.add_argument("--db", type=Path, default=Path("/tmp/pas-bench-strategies.db"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    fresh = not args.db.exists()
    store = SqliteStore(args.db, clock=lambda: AS_OF)
    if fresh:
        print(f"writing synthetic data to {args.db} (once; delete it to start over)")
        fill(store, args.scale)
    header = f"{'strategy':<18} {'records':>8} {'load s':>7} {'compute s':>9} {'build s':>8}"
    print(f"{header}  (best of {args.repeat})")
    for name in BUILTIN:
        strategy = get_strategy(name)
        params = resolve_params(strategy, {})
        portfolio = Portfolio("bench", name, Schedule.DAILY, AS_OF)
        loads, computes, builds = [], [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            data, uses = load_data(store, strategy, params, AS_OF, 10)
            t1 = time.perf_counter()
            strategy.weights(data, AS_OF, params)
            t2 = time.perf_counter()
            build_weights(store, portfolio, AS_OF, max_stale_days=10)
            t3 = time.perf_counter()
            loads.append(t1 - t0)
            computes.append(t2 - t1)
            builds.append(t3 - t2)
        count = sum(u.records for u in uses)
        print(f"{name:<18} {count:>8,} {min(loads):>7.2f} {min(computes):>9.2f} {min(builds):>8.2f}")
    store.close()


if __name__ == "__main__":
    main()
