"""Issue 17 benchmark: the tear sheet, and every read command's ``--json`` on the demo's store.

1. ``pas report`` as a separate process for 20 portfolios × 5 years (1,260 trading days of
   daily metrics, 20 symbols traded weekly by each: 100,800 fills) over 100 symbols of
   closes: wall time, the HTML's and the trades CSV's sizes, and the peak memory.
2. The demo's store (``pas demo --home``; ``--demo-home DIR`` reuses one): its
   ``pas.db`` holds the sample datasets and closes, its kept run (``backtests/RUN.db``)
   the portfolios, ledger, metrics and allocations. They are joined into one live store so that the
   portfolio commands have something to read, and each read command's ``--json`` is timed
   as a separate process (best of ``--repeat``).

Usage: python benchmarks/report_bench.py [--portfolios 20] [--years 5] [--demo-home DIR] [--repeat 3]
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

PAS = str(Path(sys.executable).parent / "pas")
SYMBOLS = 100
HELD = 20
"""Symbols each portfolio holds; it trades all of them every Monday."""


def trading_days(count: int, start: date = date(2021, 1, 4)) -> list[date]:
    out, d = [], start
    while len(out) < count:
        if d.weekday() < 5:
            out.append(d)
        d += timedelta(1)
    return out


def seed(home: Path, portfolios: int, days: list[date]) -> int:
    """A store of ``portfolios`` portfolios with metrics, weekly fills and closes; fills made."""
    from pas.models import DailyMetric, Fill, Portfolio, Price, Schedule, Side, WeightSet
    from pas.store.sqlite import SqliteStore

    closes = {
        f"S{j:03d}": [
            round(50 * math.exp(0.3 * math.sin(i / (40 + j)) + 0.0002 * i), 2) for i in range(len(days))
        ]
        for j in range(SYMBOLS)
    }
    made = 0
    with SqliteStore(home / "pas.db") as store:
        store.upsert_prices(
            Price(s, d, Decimal(str(c))) for s, cs in closes.items() for d, c in zip(days, cs, strict=True)
        )
        store.upsert_prices(Price("SPY", d, Decimal(400 + i % 17)) for i, d in enumerate(days))
        for p in range(portfolios):
            pid = f"p{p:02d}"
            store.add_portfolio(Portfolio(pid, "manual", Schedule.WEEKLY, datetime(2020, 1, 1, tzinfo=UTC)))
            held = [f"S{(p * 7 + k) % SYMBOLS:03d}" for k in range(HELD)]
            store.put_weights(WeightSet(pid, datetime(2020, 1, 1, tzinfo=UTC), dict.fromkeys(held, 1 / HELD)))
            metrics = [
                DailyMetric(
                    pid,
                    d,
                    0.01 * math.sin(i * (0.3 + p / 50)) + 0.0003,
                    Decimal(100_000 + 40 * i),
                    0.002 * math.cos(i),
                )
                for i, d in enumerate(days)
            ]
            store.put_daily_metrics(metrics)
            fills = []
            for i, d in enumerate(days):
                if d.weekday() != 0:
                    continue
                ts = datetime(d.year, d.month, d.day, 20, 0, tzinfo=UTC)
                for k, s in enumerate(held):
                    side = Side.BUY if (i + k) % 2 == 0 or i < 5 else Side.SELL
                    price = Decimal(str(closes[s][i])) * Decimal("1.0005")
                    fills.append(
                        Fill(
                            pid,
                            s,
                            side,
                            Decimal("3"),
                            price,
                            ts,
                            f"{pid}-{i}-{k}",
                            commission=Decimal("0.35"),
                        )
                    )
            made += store.append_fills(fills)
    return made


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak resident MiB of one pas process.

    On a shared machine the CPU time is the steadier figure: wall time includes waiting
    for a core."""
    started = time.perf_counter()
    proc = subprocess.Popen([PAS, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        error = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"pas {' '.join(args)} failed: {error.strip()}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def bench_report(portfolios: int, years: int) -> None:
    home = Path(tempfile.mkdtemp(prefix="pas-report-bench-"))
    days = trading_days(252 * years)
    t0 = time.perf_counter()
    fills = seed(home, portfolios, days)
    print(
        f"seeded {portfolios} portfolios × {len(days)} days, {fills:,} fills, {SYMBOLS} symbols "
        f"in {time.perf_counter() - t0:.1f} s"
    )
    env = {**os.environ, "PAS_HOME": str(home)}
    out = home / "report.html"
    elapsed, cpu, peak = timed(["report", "--out", str(out)], env)
    csv = out.with_name("report.trades.csv")
    print(
        f"pas report: {elapsed:.1f} s wall, {cpu:.1f} s CPU, {out.stat().st_size / 2**20:.2f} MiB HTML, "
        f"{csv.stat().st_size / 2**20:.2f} MiB trades CSV, peak memory {peak:.0f} MiB"
    )
    shutil.rmtree(home)


def join_demo(demo: Path) -> Path:
    """A live store of the demo: its pas.db plus the tables of its backtest run (the newest
    kept under ``backtests/``) that pas.db leaves empty."""
    home = Path(tempfile.mkdtemp(prefix="pas-demo-live-"))
    shutil.copy(demo / "pas.db", home / "pas.db")
    runs = sorted((demo / "backtests").glob("*.db"))  # run ids sort by their start
    if not runs:
        sys.exit(f"{demo} holds no kept backtest run (backtests/*.db): run `pas demo --home {demo}`")
    db = sqlite3.connect(home / "pas.db")
    db.execute("ATTACH DATABASE ? AS bt", (str(runs[-1]),))
    tables = [r[0] for r in db.execute("SELECT name FROM bt.sqlite_master WHERE type = 'table'")]
    for table in tables:  # names from the schema, not from input
        if db.execute(f"SELECT COUNT(*) FROM main.{table}").fetchone()[0] == 0:
            db.execute(f"INSERT INTO main.{table} SELECT * FROM bt.{table}")
    db.commit()
    db.close()
    return home


def bench_reads(demo: Path | None, repeat: int) -> None:
    if demo is None:
        demo = Path(tempfile.mkdtemp(prefix="pas-demo-bench-")) / "home"
        elapsed, _, _ = timed(["demo", "--home", str(demo)], dict(os.environ))
        print(f"pas demo: {elapsed:.1f} s")
    home = join_demo(demo)
    env = {**os.environ, "PAS_HOME": str(home)}
    pid = "lobbying"
    commands = [
        ["config"],
        ["jobs"],
        ["portfolio", "list"],
        ["portfolio", "show", pid],
        ["positions", pid],
        ["trades", "list", pid],
        ["metrics", "show", pid],
        ["allocate"],
        ["allocate", "--history"],
        ["risk", "exposure"],
        ["risk", "var"],
        ["risk", "status"],
        *(["data", d] for d in ("congress", "lobbying", "wiki", "insiders", "contracts")),
    ]
    print(f"read commands on the demo's store (best of {repeat}; wall, CPU):")
    total = 0.0
    for args in commands:
        runs = [timed([*args, "--json"], env) for _ in range(repeat)]
        wall, cpu = min(r[0] for r in runs), min(r[1] for r in runs)
        total += wall
        print(f"  pas {' '.join(args)} --json: {wall * 1000:.0f} ms, {cpu * 1000:.0f} ms CPU")
    print(f"  all {len(commands)}: {total:.1f} s wall")
    shutil.rmtree(home)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portfolios", type=int, default=20)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--demo-home", type=Path, default=None, help="reuse a `pas demo --home` directory")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    bench_report(args.portfolios, args.years)
    bench_reads(args.demo_home, args.repeat)


if __name__ == "__main__":
    main()
