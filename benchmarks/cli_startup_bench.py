"""Issue 2 benchmark: CLI start-up and `pas positions` on a 1,000,000-fill ledger.

Builds a ledger of 1,000,000 fills over 20 portfolios and 500 symbols in the embedded
store (through the library's own append_fills), then times, as separate processes,
`python -c "import typer"` (the floor any Typer CLI pays), `pas --help` and
`pas positions <one portfolio>`. Goals on a 2-core machine: --help under 0.25 s,
positions under 0.5 s.

Usage: python benchmarks/cli_startup_bench.py [--fills N] [--repeat R] [--home DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from pas.models import Fill, Portfolio, Price, Schedule, Side
from pas.store.base import Store
from pas.store.sqlite import SqliteStore

PORTFOLIOS = 20
SYMBOLS = 500
BATCH = 50_000


def build_ledger(store: Store, n_fills: int) -> None:
    """Writes the benchmark's portfolios, ``n_fills`` fills and one close per symbol to ``store``."""
    rng = random.Random(42)
    start = datetime(2021, 1, 4, 14, 30, tzinfo=UTC)
    symbols = [f"S{i:03d}" for i in range(SYMBOLS)]
    for p in range(PORTFOLIOS):
        store.add_portfolio(Portfolio(f"p{p:02d}", "manual", Schedule.DAILY, start, Decimal(1_000_000)))
    held: dict[tuple[int, str], int] = {}
    batch: list[Fill] = []
    for n in range(n_fills):
        p = n % PORTFOLIOS
        symbol = rng.choice(symbols)
        qty = rng.randint(1, 100)
        side = Side.BUY
        if rng.random() < 0.3 and held.get((p, symbol), 0) >= qty:
            side = Side.SELL
        held[(p, symbol)] = held.get((p, symbol), 0) + (qty if side is Side.BUY else -qty)
        batch.append(
            Fill(
                portfolio=f"p{p:02d}",
                symbol=symbol,
                side=side,
                qty=Decimal(qty),
                price=Decimal(rng.randint(1000, 50000)) / 100,
                ts=start + timedelta(seconds=n * 7),
                fill_id=f"bench-{n}",
                commission=Decimal("0.01"),
            )
        )
        if len(batch) == BATCH:
            store.append_fills(batch)
            batch.clear()
    if batch:
        store.append_fills(batch)
    store.upsert_prices(Price(s, date(2026, 1, 2), Decimal(rng.randint(1000, 50000)) / 100) for s in symbols)


def timed(cmd: list[str], env: dict[str, str], repeat: int) -> tuple[float, float]:
    """Median and best wall time of a command, in seconds (one warm-up run first)."""
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fills", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--home", type=Path, default=None, help="reuse a ledger built earlier")
    args = parser.parse_args()

    home = args.home or Path(tempfile.mkdtemp(prefix="pas-bench-"))
    if not (home / "pas.db").exists():
        t0 = time.perf_counter()
        with SqliteStore(home / "pas.db") as store:
            build_ledger(store, args.fills)
        build = time.perf_counter() - t0
        print(
            f"built ledger: {args.fills:,} fills, {PORTFOLIOS} portfolios, {SYMBOLS} symbols in {build:.1f} s"
        )
        print(f"  ({args.fills / build:,.0f} fills/s through append_fills; database in {home})")
    env = {**os.environ, "PAS_HOME": str(home), "COLUMNS": "200"}
    pas = str(Path(sys.executable).parent / "pas")
    rows = [
        ("python -c 'import typer' (baseline)", [sys.executable, "-c", "import typer"]),
        ("pas --help", [pas, "--help"]),
        ("pas positions p07", [pas, "positions", "p07"]),
        ("pas positions p07 --json", [pas, "positions", "p07", "--json"]),
    ]
    results = {name: timed(cmd, env, args.repeat) for name, cmd in rows}
    base = results[rows[0][0]][0]
    print(f"{'command':40} {'median s':>9} {'best s':>8} {'× baseline':>11}")
    for name, (median, best) in results.items():
        print(f"{name:40} {median:9.3f} {best:8.3f} {median / base:11.1f}")
    print("goals: pas --help < 0.25 s, pas positions < 0.5 s")


if __name__ == "__main__":
    main()
