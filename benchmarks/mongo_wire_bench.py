"""Issue 16 benchmark: pas on MongoDB over the wire (mongoeco's server on 127.0.0.1).

1. Round trips per command: ``pas positions p00``, ``pas rebalance --all --broker sim
   --dry-run`` and ``pas metrics update --all`` run in-process (typer's CliRunner) with a
   pymongo ``CommandListener`` registered, on 5 portfolios × 10 symbols, 10 days of closes.
   Each command is run twice: the first open of a database creates its indexes.
2. ``pas positions p07`` as a separate process on the ledger of cli_startup_bench.py
   (20 portfolios × 500 symbols) over the wire next to SQLite, for each ``--fills`` size.
   mongoeco's Python server writes a few hundred documents a second on a loaded 2-core
   machine, so the default sizes are small; 1,000,000 fills (``--fills 1000000``) is meant
   for a real mongod (``--uri``).

The server is started from the wire venv that ``scripts/dev test`` makes (``.venv-mongo``);
``--uri`` measures an already running server (a local mongod, Atlas) instead.

Usage, from the repository root:
    .venv/bin/python benchmarks/mongo_wire_bench.py [--fills 1000,5000] [--repeat R]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pymongo
from pymongo import monitoring
from typer.testing import CliRunner

sys.path[:0] = [str(Path(__file__).resolve().parent)]

from cli_startup_bench import build_ledger, timed  # noqa: E402

from pas.cli import app  # noqa: E402
from pas.models import Fill, Portfolio, Price, Schedule, Side, WeightSet  # noqa: E402
from pas.store.mongo import MongoStore  # noqa: E402
from pas.store.sqlite import SqliteStore  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
WIRE_PYTHON = ROOT / ".venv-mongo" / "bin" / "python"
START_TIMEOUT_SEC = 60
PORTFOLIOS = 5
SYMBOLS = 10
DAYS = 10
SEED = 16
LONG_MS = 600_000  # ten minutes
# pas's own client: the default 3 s bounds the heartbeat too, which a busy mongoeco on a
# loaded machine misses, and pymongo then cancels the command in flight.
PATIENT = {"PAS_MONGO_TIMEOUT_SEC": "120"}


def patient_client(uri: str) -> pymongo.MongoClient[dict[str, Any]]:
    """A client for building the data: mongoeco answers nothing while it works through a
    large write, so the heartbeat (bounded by the connect timeout) must outlast it, or
    pymongo resets the pool and cancels the write."""
    return pymongo.MongoClient(uri, connectTimeoutMS=LONG_MS, socketTimeoutMS=LONG_MS)


class CommandCounter(monitoring.CommandListener):
    """Counts the commands pymongo sends, by name (one command is one round trip)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.counts[event.command_name] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@contextmanager
def wire_server(python: Path) -> Iterator[str]:
    """Runs scripts/mongo_wire_server.py and yields its URI; stops it afterwards."""
    with tempfile.TemporaryDirectory() as tmp:
        uri_file = Path(tmp) / "uri"
        proc = subprocess.Popen(
            [str(python), str(ROOT / "scripts" / "mongo_wire_server.py"), "--uri-file", str(uri_file)]
        )
        try:
            deadline = time.monotonic() + START_TIMEOUT_SEC
            while not uri_file.exists():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the wire server did not start")
                time.sleep(0.05)
            yield uri_file.read_text().strip()
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:  # still busy with a large write
                proc.kill()
                proc.wait()


def seed_small(store: MongoStore) -> None:
    """5 portfolios holding and targeting 10 of 20 symbols, with 10 days of closes."""
    rng = random.Random(SEED)
    universe = [f"S{i:02d}" for i in range(2 * SYMBOLS)]
    start = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
    days = [date(2025, 10, 1) + timedelta(days=d) for d in range(DAYS)]
    store.upsert_prices(
        Price(s, d, Decimal(rng.randint(1000, 50000)) / 100) for s in [*universe, "SPY"] for d in days
    )
    fills = []
    for p in range(PORTFOLIOS):
        pid = f"p{p:02d}"
        first = datetime.combine(days[0], datetime.min.time(), UTC) + timedelta(hours=15)
        store.add_portfolio(Portfolio(pid, "manual", Schedule.WEEKLY, first, Decimal(10_000), broker="sim"))
        picked = rng.sample(universe, SYMBOLS)
        store.put_weights(WeightSet(pid, start, {s: 0.9 / SYMBOLS for s in picked}))
        fills += [
            Fill(pid, s, Side.BUY, Decimal(rng.randint(1, 5)), Decimal(100), first, f"{pid}-{s}")
            for s in rng.sample(universe, SYMBOLS)
        ]
    store.append_fills(fills)


def round_trips(uri: str) -> None:
    counter = CommandCounter()
    monitoring.register(counter)  # every client made from here on reports to it
    db_name = "bench_round_trips"
    with MongoStore(patient_client(uri), db_name) as store:
        seed_small(store)
    runner = CliRunner()
    # The closes are of fixed days long past: none counts as stale (the trading guard's
    # PRICE_MAX_STALE_DAYS would refuse the dry run, and the benchmark would count that).
    env = {"MONGO_URI": uri, "DB_NAME": db_name, "COLUMNS": "200", "PRICE_MAX_STALE_DAYS": "36500", **PATIENT}
    commands = [
        ["positions", "p00"],
        ["rebalance", "--all", "--broker", "sim", "--dry-run"],
        ["metrics", "update", "--all"],
    ]
    print(f"round trips per command ({PORTFOLIOS} portfolios x {SYMBOLS} symbols, {DAYS} days of closes):")
    print(f"  {'command':48} {'run':>4} {'round trips':>12} {'s':>7}  by command")
    for args in commands:
        for run in (1, 2):
            counter.counts.clear()
            started = time.perf_counter()
            result = runner.invoke(app, args, env=env)
            elapsed = time.perf_counter() - started
            if result.exit_code != 0:
                raise SystemExit(f"pas {' '.join(args)} failed ({result.exit_code}): {result.output}")
            top = ", ".join(f"{name} {n}" for name, n in counter.counts.most_common(5))
            label = "pas " + " ".join(args)
            print(f"  {label:48} {run:>4} {sum(counter.counts.values()):>12} {elapsed:7.2f}  {top}")
    patient_client(uri).drop_database(db_name)


def positions_time(uri: str, sizes: list[int], repeat: int) -> None:
    print("pas positions p07 as a process (median wall / CPU s of the repeats, the sides alternating):")
    print(f"  {'fills':>10} {'build wire s':>13} {'SQLite':>13} {'MongoDB wire':>13} {'ratio':>6}")
    pas = str(Path(sys.executable).parent / "pas")
    for n in sizes:
        db_name = f"bench_ledger_{n}"
        with tempfile.TemporaryDirectory() as home:
            with SqliteStore(Path(home) / "pas.db") as lite:
                build_ledger(lite, n)
            started = time.perf_counter()
            with MongoStore(patient_client(uri), db_name) as mongo:
                build_ledger(mongo, n)
            build = time.perf_counter() - started
            base: dict[str, Any] = {**os.environ, "PAS_HOME": home, "COLUMNS": "200"}
            sides = {"sqlite": base, "wire": {**base, "MONGO_URI": uri, "DB_NAME": db_name, **PATIENT}}
            medians = timed(sides, {"positions": [pas, "positions", "p07"]}, repeat)
        patient_client(uri).drop_database(db_name)
        lite_wall, lite_cpu = medians["sqlite"]["positions"]
        wire_wall, wire_cpu = medians["wire"]["positions"]
        print(
            f"  {n:>10,} {build:13.1f} {lite_wall:6.3f}/{lite_cpu:6.3f} {wire_wall:6.3f}/{wire_cpu:6.3f}"
            f" {wire_wall / lite_wall:6.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fills", default="1000,5000", help="ledger sizes, comma separated")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--uri", help="an already running MongoDB instead of the wire server")
    parser.add_argument("--wire-python", type=Path, default=WIRE_PYTHON, help="Python with mongoeco[wire]")
    args = parser.parse_args()
    sizes = [int(n) for n in args.fills.split(",") if n]
    if args.uri:
        round_trips(args.uri)
        positions_time(args.uri, sizes, args.repeat)
        return
    with wire_server(args.wire_python) as uri:
        print(f"mongoeco wire server at {uri}")
        round_trips(uri)
        positions_time(uri, sizes, args.repeat)


if __name__ == "__main__":
    main()
