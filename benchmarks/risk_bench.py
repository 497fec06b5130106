"""Times `pas risk var` for 50 portfolios × 500 symbols × 756 days of closes.

Each portfolio holds 40 of the 500 symbols and has 756 days of daily metrics; the
account holds all 500. Prints the time of the whole command (in process, SQLite, best of
3) and of its parts: loading the books, reading the closes, and the VaR arithmetic.

    .venv/bin/python benchmarks/risk_bench.py
"""

from __future__ import annotations

import random
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from pas.cli import app
from pas.models import DailyMetric, Fill, Portfolio, Price, Schedule, Side
from pas.risk.books import account_book, load_books
from pas.risk.var import CONFIDENCES, book_vars
from pas.store.sqlite import SqliteStore

PORTFOLIOS, SYMBOLS, DAYS, HELD = 50, 500, 756, 40


def _setup(home: Path) -> None:
    rng = random.Random(7)
    symbols = [f"S{i:03d}" for i in range(SYMBOLS)]
    end = date.today()
    days = [
        end - timedelta(days=d)
        for d in range(DAYS * 7 // 5, 0, -1)
        if (end - timedelta(days=d)).weekday() < 5
    ]
    days = days[-DAYS:]
    with SqliteStore(home / "pas.db") as store:
        prices = []
        for s in symbols:
            close = 100.0
            for d in days:
                close *= 1 + rng.gauss(0, 0.02)
                prices.append(Price(s, d, Decimal(f"{close:.4f}")))
        store.upsert_prices(prices)
        when = datetime.combine(days[0], datetime.min.time(), UTC)
        for p in range(PORTFOLIOS):
            pid = f"p{p:02d}"
            store.add_portfolio(Portfolio(pid, "manual", Schedule.WEEKLY, when, capital=Decimal(1_000_000)))
            store.append_fills(
                [
                    Fill(pid, s, Side.BUY, Decimal(rng.randint(1, 100)), Decimal(100), when, f"{pid}-{s}")
                    for s in rng.sample(symbols, HELD)
                ]
            )
            store.put_daily_metrics([DailyMetric(pid, d, rng.gauss(0, 0.01)) for d in days])


def _best(fn, runs: int = 3) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        start = time.perf_counter()
        _setup(home)
        print(
            f"setup: {PORTFOLIOS} portfolios × {HELD} held of {SYMBOLS} symbols × {DAYS} days "
            f"({time.perf_counter() - start:.1f} s)"
        )
        runner = CliRunner()

        def command() -> None:
            result = runner.invoke(app, ["risk", "var", "--json"], env={"PAS_HOME": str(home)})
            assert result.exit_code == 0, result.output

        print(f"pas risk var (all books, 95% and 99%): {_best(command):.3f} s")
        with SqliteStore(home / "pas.db") as store:
            books: list = []

            def load() -> None:
                books[:] = load_books(store, store.list_portfolios())
                books.append(account_book(books))

            print(f"  load books (ledgers, latest closes): {_best(load):.3f} s")
            symbols = sorted({s for b in books for s in b.quantities})
            print(
                f"  read closes (price_history, {SYMBOLS * DAYS:,} rows): "
                f"{_best(lambda: store.price_history(symbols)):.3f} s"
            )
            print(
                f"  VaR of {len(books)} books incl. metrics and closes: "
                f"{_best(lambda: book_vars(store, books, CONFIDENCES)):.3f} s"
            )


if __name__ == "__main__":
    main()
