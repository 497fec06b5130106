"""Measuring several portfolios together (as the backtest does every week) gives each what
measuring it alone gives: its own metrics exactly, its own statistics up to the rounding
of a sum taken over a wider array (issue 18: one set of statistics calls for all books)."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest

from pas.errors import InputError
from pas.metrics import (
    STATISTICS,
    trailing_stats_table,
    trailing_stats_tables,
    update_all_metrics,
    update_metrics,
)
from pas.models import CashFlow, DailyMetric, Fill, Portfolio, Price, Schedule, Side, TrailingStats
from pas.store.memory import MemoryStore

START = date(2025, 1, 1)
T0 = datetime(2025, 1, 1, 15, tzinfo=UTC)


def _metrics(portfolio: str, count: int, seed: int) -> list[DailyMetric]:
    rng = np.random.default_rng(seed)
    bench = rng.normal(0.0003, 0.008, count)
    bench[::37] = np.nan  # days without a benchmark return are skipped
    return [
        DailyMetric(portfolio, START + timedelta(days=i), float(r), None, None if math.isnan(b) else float(b))
        for i, (r, b) in enumerate(zip(rng.normal(0.0005, 0.01, count), bench, strict=True))
    ]


def _close(got: list[TrailingStats], alone: list[TrailingStats]) -> None:
    assert [(t.portfolio, t.as_of, t.window) for t in got] == [
        (t.portfolio, t.as_of, t.window) for t in alone
    ]
    for mine, own in zip(got, alone, strict=True):
        for name in STATISTICS:
            assert mine.values[name] == pytest.approx(own.values[name], rel=1e-12, abs=1e-15, nan_ok=True), (
                name,
                mine.as_of,
                mine.window,
            )


def test_each_portfolios_statistics_computed_together_are_its_own() -> None:
    # Lengths on both sides of every window and of a block of as-of days, and from_days
    # that ask for every day, the last days, and none.
    books = [
        ("a", _metrics("a", 40, 1), None),
        ("b", _metrics("b", 300, 2), START + timedelta(days=250)),
        ("c", _metrics("c", 130, 3), None),
        ("d", _metrics("d", 70, 4), START + timedelta(days=400)),
        ("e", [], None),
    ]
    together = trailing_stats_tables(books)
    assert len(together) == len(books)
    for (portfolio, metrics, from_day), got in zip(books, together, strict=True):
        _close(got, trailing_stats_table(portfolio, metrics, from_day))
    assert together[3] == [] and together[4] == []


def _store() -> MemoryStore:
    store = MemoryStore(lambda: T0 + timedelta(days=60))
    days = [START + timedelta(days=n) for n in range(60) if (START + timedelta(days=n)).weekday() < 5]
    rng = np.random.default_rng(5)
    for symbol in ("SPY", "AAA", "BBB"):
        walk = 100 * np.cumprod(1 + rng.normal(0, 0.01, len(days)))
        store.upsert_prices(Price(symbol, d, Decimal(f"{c:.2f}")) for d, c in zip(days, walk, strict=True))
    for n, pid in enumerate(("p1", "p2", "p3")):
        store.add_portfolio(Portfolio(pid, "manual", Schedule.WEEKLY, T0))
        store.add_cash_flow(CashFlow(pid, Decimal(1000 * (n + 1)), T0, f"seed-{pid}"))
        for k, symbol in enumerate(("AAA", "BBB")[: n + 1]):
            ts = T0 + timedelta(days=3 * k + n)
            store.append_fills([Fill(pid, symbol, Side.BUY, Decimal(3 + n), Decimal(100), ts, f"{pid}-{k}")])
    return store


def test_updating_several_portfolios_writes_what_updating_each_alone_writes() -> None:
    alone, together = _store(), _store()
    books = alone.list_portfolios()
    for until in (START + timedelta(days=20), None):  # a first update, then the rest
        singles = [update_metrics(alone, p, "SPY", until) for p in books]
        assert update_all_metrics(together, books, "SPY", until) == singles
        for p in books:
            assert together.daily_metrics(p.id) == alone.daily_metrics(p.id)
            assert together.daily_metrics(p.id)
            for window in ("63", "inception"):
                own, got = alone.trailing_stats(p.id, window), together.trailing_stats(p.id, window)
                assert own is not None and got is not None
                _close([got], [own])
    assert update_all_metrics(together, books, "SPY") == [update_metrics(alone, p, "SPY") for p in books]


def test_a_portfolio_that_cannot_be_measured_leaves_the_others_unwritten() -> None:
    store = _store()
    store.add_portfolio(
        Portfolio("zbroke", "manual", Schedule.WEEKLY, T0)
    )  # measured last: no capital, no cash flows
    books = store.list_portfolios()
    with pytest.raises(InputError, match="pas portfolio fund zbroke"):
        update_all_metrics(store, books, "SPY")
    for p in books:
        assert store.daily_metrics(p.id) == [] and store.trailing_stats(p.id, "inception") is None


@pytest.mark.parametrize("case", ["after", "replacing", "out of order"])
def test_pending_metrics_are_merged_with_the_stored_ones_by_day(case: str) -> None:
    # The statistics are recomputed over the stored metrics with the pending ones in their
    # days' places: new days after the stored ones (the usual case, appended), a pending
    # metric of a stored day (it replaces that one), pending days out of order (sorted).
    from pas.metrics.trailing import recompute_trailing_stats

    series = _metrics("p", 300, seed=5)
    stored, pending = series[:280], series[280:]
    if case == "replacing":
        pending = [replace(series[279], ret=0.25), *pending]
    elif case == "out of order":
        pending = pending[::-1]
    expected = {m.day: m for m in stored} | {m.day: m for m in pending}
    store = MemoryStore()
    store.put_daily_metrics(stored)
    from_day = pending[0].day if case != "out of order" else pending[-1].day
    recompute_trailing_stats(store, "p", from_day, pending)
    alone = trailing_stats_table("p", [expected[d] for d in sorted(expected)], from_day)
    kept = sorted(
        (t for t in store.all_trailing_stats() if t.as_of >= from_day), key=lambda t: (t.as_of, t.window)
    )
    _close(kept, sorted(alone, key=lambda t: (t.as_of, t.window)))
