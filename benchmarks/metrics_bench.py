"""Times trailing statistics and `pas metrics update`.

1. ``recompute_trailing_stats`` for one portfolio with 1,260 daily metrics: every window
   (63, 126, 252, inception) as of every day, then as of the last day only (the daily
   cron case), on SQLite.
2. ``pas metrics update --all`` for 20 portfolios × 250 trading days of fills and closes
   (a fresh store: every day is missing), then again (nothing missing).

Prints the figures (best of a few repeats); makes no assertions.

    .venv/bin/python benchmarks/metrics_bench.py
"""

import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from pas.cli import app
from pas.metrics import recompute_trailing_stats, trailing_stats_table
from pas.models import DailyMetric, Fill, Portfolio, Price, Schedule, Side
from pas.schedule import is_trading_day
from pas.store.sqlite import SqliteStore

SEED = 20260105
REPEATS = 3
STAT_DAYS = 1_260
PORTFOLIOS = 20
UPDATE_DAYS = 250
SYMBOLS = 10


def trading_days(count: int, start: date = date(2021, 1, 4)) -> list[date]:
    days, day = [], start
    while len(days) < count:
        if is_trading_day(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def best(run: "object", repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return min(times)


def bench_stats(home: Path) -> None:
    rng = np.random.default_rng(SEED)
    days = trading_days(STAT_DAYS)
    rets, bench = rng.normal(0.0004, 0.01, STAT_DAYS), rng.normal(0.0003, 0.009, STAT_DAYS)
    with SqliteStore(home / "stats.db") as store:
        store.put_daily_metrics(
            [DailyMetric("p", d, float(r), None, float(b)) for d, r, b in zip(days, rets, bench, strict=True)]
        )
        metrics = store.daily_metrics("p")
        trailing_stats_table("p", metrics[:10])  # imports
        compute = best(lambda: trailing_stats_table("p", metrics))
        full = best(lambda: recompute_trailing_stats(store, "p", days[0]))
        last = best(lambda: recompute_trailing_stats(store, "p", days[-1]), repeats=10)
    print(f"trailing stats, 1 portfolio x {STAT_DAYS} days, 4 windows x {STAT_DAYS} as-of days:")
    print(f"  compute only            {compute:8.3f} s")
    print(f"  recompute and store     {full:8.3f} s  ({STAT_DAYS * 4:,} rows)")
    print(f"  last day only (cron)    {last * 1000:8.1f} ms")


def bench_update(home: Path) -> None:
    rng = np.random.default_rng(SEED)
    days = trading_days(UPDATE_DAYS + 1)
    symbols = [f"S{i:02d}" for i in range(SYMBOLS)]
    paths = np.cumprod(1 + rng.normal(0.0003, 0.015, (len(days), SYMBOLS + 1)), axis=0) * 100
    with SqliteStore(home / "pas.db") as store:
        prices = [
            Price(sym, d, Decimal(f"{paths[i, j]:.2f}"))
            for i, d in enumerate(days)
            for j, sym in enumerate([*symbols, "SPY"])
        ]
        store.upsert_prices(prices)
        fills = []
        for p in range(PORTFOLIOS):
            pid = f"p{p:02d}"
            store.add_portfolio(
                Portfolio(pid, "manual", Schedule.WEEKLY, datetime(2021, 1, 1, tzinfo=UTC), Decimal(100000))
            )
            # a trade every 5 days: buy 10 of a random symbol, 5 days later sell 1 of it
            sym = symbols[0]
            for i in range(0, UPDATE_DAYS, 5):
                side = Side.BUY if i % 10 == 0 else Side.SELL
                if side is Side.BUY:
                    sym = symbols[int(rng.integers(SYMBOLS))]
                ts = datetime.combine(days[i], datetime.min.time(), UTC) + timedelta(hours=15)
                qty = Decimal(10) if side is Side.BUY else Decimal(1)
                price = Decimal(f"{paths[i, symbols.index(sym)]:.2f}")
                fills.append(Fill(pid, sym, side, qty, price, ts, f"{pid}-{i}"))
        store.append_fills(fills)
    runner = CliRunner()
    env = {"PAS_HOME": str(home)}
    started = time.perf_counter()
    result = runner.invoke(app, ["metrics", "update", "--all", "--json"], env=env)
    first = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    started = time.perf_counter()
    runner.invoke(app, ["metrics", "update", "--all"], env=env)
    again = time.perf_counter() - started
    print(f"pas metrics update --all, {PORTFOLIOS} portfolios x {UPDATE_DAYS} days ({len(fills)} fills):")
    print(f"  every day missing       {first:8.3f} s")
    print(f"  nothing missing         {again:8.3f} s")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        bench_stats(Path(tmp))
        bench_update(Path(tmp))


if __name__ == "__main__":
    main()
