"""Issue 8 benchmark: the demo end to end, and a large backtest.

1. `pas demo` as a separate process: wall time and peak memory (goal: under 60 s).
2. A backtest of the five strategies over five years of daily data on 500 synthetic
   symbols (made by scripts/make_demo_data.py): data generation, loading, and the
   backtest itself (monthly builds, weekly score allocation, daily metrics), with the
   peak memory of this process.

Usage: python benchmarks/backtest_bench.py [--tickers 500] [--start 2021-01-04] [--end 2025-12-31]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_demo() -> tuple[float, float]:
    """Wall seconds and peak resident MiB of `pas demo` in a fresh home."""
    home = Path(tempfile.mkdtemp(prefix="pas-demo-bench-")) / "home"
    pas = str(Path(sys.executable).parent / "pas")
    started = time.perf_counter()
    proc = subprocess.Popen([pas, "demo", "--home", str(home)], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("pas demo failed")
    return elapsed, usage.ru_maxrss / 1024


def run_large(tickers: int, start: date, end: date) -> None:
    from pas.backtest import BacktestSpec, SimulatedClock, run_backtest, summarize
    from pas.commands.demo import DEMO_PORTFOLIOS
    from pas.demo.sample import load_sample
    from pas.models import Portfolio, Schedule
    from pas.portfolio.trading.limits import TradingLimits
    from pas.store.sqlite import SqliteStore

    folder = Path(tempfile.mkdtemp(prefix="pas-bt-bench-"))
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_demo_data.py"), "--out", str(folder / "data"),
         "--tickers", str(tickers), "--start", start.isoformat(), "--end", end.isoformat()],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    generated = time.perf_counter() - t0
    source = SqliteStore(folder / "pas.db")
    t0 = time.perf_counter()
    loaded = load_sample(source, folder / "data")
    load_time = time.perf_counter() - t0
    records = sum(c.new for c in loaded.records.values())
    portfolios = [
        Portfolio(pid, name, Schedule.MONTHLY, datetime(2020, 1, 1, tzinfo=UTC))
        for pid, name in DEMO_PORTFOLIOS.items()
    ]
    clock = SimulatedClock(datetime(2020, 1, 1, tzinfo=UTC))
    target = SqliteStore(folder / "backtest.db", clock)
    spec = BacktestSpec(
        start=date(start.year, 7, 1),
        end=end,
        capital=Decimal(1_000_000),
        benchmark="SPY",
        limits=TradingLimits(max_order_notional=Decimal(10**9)),
        max_stale_days=10,
        allocation_method="score",
    )
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    result = run_backtest(source, target, clock, portfolios, spec)
    backtest_time = time.perf_counter() - t0
    summary = summarize(target, result.portfolios, "SPY")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    fills = sum(len(target.fills(p)) for p in result.portfolios)
    print(f"large backtest: {tickers} symbols, {start} to {end}, 5 strategies")
    print(
        f"  data: generated in {generated:.1f} s; loaded {loaded.prices:,} closes and "
        f"{records:,} records in {load_time:.1f} s"
    )
    print(
        f"  backtest: {len(result.days)} trading days, {result.builds} builds, "
        f"{result.allocations} allocations,"
    )
    print(
        f"            {result.rebalances} trading runs, {fills:,} fills in {backtest_time:.1f} s"
        f" ({backtest_time / len(result.days) * 1000:.0f} ms per simulated day)"
    )
    print(f"  peak memory: {peak:.0f} MiB (before the backtest: {before:.0f} MiB)")
    combined = summary.values["Sharpe ratio"]["combined"]
    print(f"  combined book: Sharpe {combined:.2f}, final equity ${summary.final_equity['combined']:,.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickers", type=int, default=500)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2021, 1, 4))
    parser.add_argument("--end", type=date.fromisoformat, default=date(2025, 12, 31))
    parser.add_argument("--skip-demo", action="store_true")
    args = parser.parse_args()
    if not args.skip_demo:
        elapsed, peak = run_demo()
        print(f"pas demo end to end: {elapsed:.1f} s wall, peak memory {peak:.0f} MiB (goal: under 60 s)")
    run_large(args.tickers, args.start, args.end)


if __name__ == "__main__":
    main()
