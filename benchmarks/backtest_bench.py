"""Issues 8 and 18 benchmark: the demo end to end, its backtest against bt, a large backtest.

1. `pas demo` as a separate process: wall time and peak memory (goal: under 60 s).
2. `pas backtest` of the demo (its five portfolios, score allocation, $100,000) as a
   whole process in the demo's home, next to bt replaying the same targets and closes as
   a whole process (benchmarks/bt_baseline.py; install bt first: `pip install -e
   '.[bench]'`): wall and CPU seconds, their ratio (issue 18's goal: at most 1), the
   final equity of each book in both. Its books are audited (issue 14): the largest daily
   difference between the combined column and the return of the summed equities net of
   outside money (must be 0), the portfolio-days with negative cash (must be 0) and the
   trading runs refused for buying power or a risk limit (must be 0).
3. A backtest of the five strategies over five years of daily data on 500 synthetic
   symbols (made by scripts/make_demo_data.py): data generation, loading, and the
   backtest itself (monthly builds, weekly score allocation, daily metrics), with the
   peak memory of this process (goal: under 10 s); ms per simulated day in the first and
   the last tenth of the days (goal: the last within 1.3× of the first); bt on its targets;
   the same audit.

Usage: python benchmarks/backtest_bench.py [--tickers 500] [--start 2021-01-04] [--end 2025-12-31]
    [--rounds 5] [--skip-demo] [--skip-large]

``--rounds N`` also runs the demo's `pas backtest` and bt N more times each, alternating,
and prints the medians and each round's ratio (one run each is at the mercy of the load).
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
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import bt_baseline  # noqa: E402  (beside this file)

if TYPE_CHECKING:
    from pas.store.base import Store


def run_demo(home: Path) -> tuple[float, float]:
    """Wall seconds and peak resident MiB of `pas demo` in a fresh home."""
    pas = str(Path(sys.executable).parent / "pas")
    started = time.perf_counter()
    proc = subprocess.Popen([pas, "demo", "--home", str(home)], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("pas demo failed")
    return elapsed, usage.ru_maxrss / 1024


def timed(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + system) and standard output of a child process."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, env=env, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv[0]} failed")
    return elapsed, usage.ru_utime + usage.ru_stime, out


def against_bt(
    label: str,
    pas_times: tuple[float, float],
    source: Store,
    target: Store,
    ids: list[str],
    capital: float,
    equity: dict[str, float],
) -> None:
    """Runs bt on the targets and closes of a finished backtest, as a whole process, and
    prints its time and final values next to pas's (goal: ratio ≤ 1)."""
    inputs = Path(tempfile.mkdtemp(prefix="pas-bt-inputs-")) / "inputs.pkl"
    bt_baseline.export(source, target, ids, capital, inputs)
    wall, cpu, out = timed([sys.executable, str(ROOT / "benchmarks" / "bt_baseline.py"), str(inputs)])
    bt_values = {name: float(value) for name, value in (line.split() for line in out.splitlines())}
    print(
        f"  {label}: pas {pas_times[0]:.2f} s wall ({pas_times[1]:.2f} s CPU), bt {wall:.2f} s wall "
        f"({cpu:.2f} s CPU): ratio {pas_times[0] / wall:.2f} wall, {pas_times[1] / cpu:.2f} CPU (goal ≤ 1)"
    )
    for name in [*ids, "combined"]:
        print(
            f"    {name:>10}: pas ${equity.get(name, float('nan')):>14,.2f}   bt ${bt_values[name]:>14,.2f}"
        )


def linearity(stamps: list[float]) -> str:
    """ms per simulated day in the first and the last tenth of the days, and their ratio."""
    per_day = [b - a for a, b in pairwise(stamps)]
    tenth = max(len(per_day) // 10, 1)
    first = sum(per_day[:tenth]) / tenth * 1000
    last = sum(per_day[-tenth:]) / tenth * 1000
    return (
        f"{first:.1f} ms per day in the first tenth, {last:.1f} in the last: {last / first:.2f}× (goal ≤ 1.3)"
    )


def audit(label: str, target: Store, ids: list[str], refusals: int) -> None:
    """Prints the three invariants of issue 14 for a finished backtest."""
    from pas.backtest import summarize
    from pas.backtest_audit import combined_gap, negative_cash_days

    summary = summarize(target, ids, "SPY")
    combined = dict(zip(summary.days, summary.combined, strict=True))
    gap, compared = combined_gap(target, ids, combined)
    negative = negative_cash_days(target, ids, summary.days)
    print(
        f"  {label} audit: largest daily gap combined vs summed equity {gap:.2e} over {compared} days "
        f"(must be 0);\n    negative-cash portfolio-days {negative} (must be 0); refused runs {refusals} "
        "(must be 0)"
    )


def demo_backtest(home: Path, rounds: int) -> None:
    """`pas backtest` of the demo's portfolios in its home, whole process, against bt;
    with ``rounds`` > 1, that many runs of each alternate and their medians are compared."""
    import json
    from statistics import median

    from pas.commands.demo import DEMO_CAPITAL, WARM_UP
    from pas.demo.sample import sample_range
    from pas.store.sqlite import SqliteStore

    first, last = sample_range()
    pas = str(Path(sys.executable).parent / "pas")
    argv = [pas, "backtest", "--start", str(first + WARM_UP), "--end", str(last), "--allocation", "score"]
    # Timed commands compile nothing: with PYTHONDONTWRITEBYTECODE set, every module would be
    # compiled on every run.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"PAS_HOME": str(home)}
    wall, cpu, out = timed([*argv, "--json"], env=env)
    shown = json.loads(out)
    print(f"pas backtest of the demo: {shown['days']} days, {shown['rebalances']} trading runs")
    equity = {name: float(v) for name, v in shown["final_equity"].items() if v is not None}
    kept = home / "backtests" / f"{shown['run']}.db"
    with SqliteStore(home / "pas.db") as source, SqliteStore(kept) as target:
        against_bt(
            "whole process", (wall, cpu), source, target, shown["portfolios"], float(DEMO_CAPITAL), equity
        )
        audit("demo", target, shown["portfolios"], shown["refusals"])
    if rounds > 1:
        inputs = Path(tempfile.mkdtemp(prefix="pas-bt-inputs-")) / "inputs.pkl"
        with SqliteStore(home / "pas.db") as source, SqliteStore(kept) as target:
            bt_baseline.export(source, target, shown["portfolios"], float(DEMO_CAPITAL), inputs)
        bt_argv = [sys.executable, str(ROOT / "benchmarks" / "bt_baseline.py"), str(inputs)]
        pas_runs, bt_runs = [], []
        for _ in range(rounds):
            pas_runs.append(timed([*argv, "--json"], env=env)[:2])
            bt_runs.append(timed(bt_argv, env=env)[:2])
        for name, of in (("wall", 0), ("CPU", 1)):
            ours, theirs = median(r[of] for r in pas_runs), median(r[of] for r in bt_runs)
            pairs = ", ".join(f"{a[of] / b[of]:.2f}" for a, b in zip(pas_runs, bt_runs, strict=True))
            print(
                f"  {rounds} alternating rounds, medians: pas {ours:.2f} s {name}, bt {theirs:.2f} s {name}: "
                f"ratio {ours / theirs:.2f} (goal ≤ 1; each round {pairs})"
            )


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
    cpu0 = time.process_time()
    stamps = [t0]
    result = run_backtest(
        source, target, clock, portfolios, spec, lambda *_: stamps.append(time.perf_counter())
    )
    backtest_time = time.perf_counter() - t0
    backtest_cpu = time.process_time() - cpu0
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
    print(f"  linearity: {linearity(stamps)}")
    combined = summary.values["Sharpe ratio"]["combined"]
    print(f"  combined book: Sharpe {combined:.2f}, final equity ${summary.final_equity['combined']:,.0f}")
    equity = {name: float(v) for name, v in summary.final_equity.items() if v is not None}
    against_bt("the backtest against bt (whole process)", (backtest_time, backtest_cpu), source, target,
               result.portfolios, float(spec.capital), equity)  # fmt: skip
    audit("large", target, result.portfolios, result.refusals)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickers", type=int, default=500)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2021, 1, 4))
    parser.add_argument("--end", type=date.fromisoformat, default=date(2025, 12, 31))
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--rounds", type=int, default=1, help="alternating pas/bt runs of the demo")
    parser.add_argument("--skip-large", action="store_true")
    args = parser.parse_args()
    if not args.skip_demo:
        home = Path(tempfile.mkdtemp(prefix="pas-demo-bench-")) / "home"
        elapsed, peak = run_demo(home)
        print(f"pas demo end to end: {elapsed:.1f} s wall, peak memory {peak:.0f} MiB (goal: under 60 s)")
        demo_backtest(home, args.rounds)
    if not args.skip_large:
        run_large(args.tickers, args.start, args.end)


if __name__ == "__main__":
    main()
