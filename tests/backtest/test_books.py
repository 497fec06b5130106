"""Issue 14: the backtest's books — the combined column, cash, costs, order of inputs."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from pas.backtest import BacktestSpec, SimulatedClock, combined_returns, completed, run_backtest, summarize
from pas.backtest_audit import combined_gap, negative_cash_days
from pas.models import Side
from pas.portfolio.trading.limits import TradingLimits
from pas.store.sqlite import SqliteStore
from tests.backtest.conftest import DAYS, PORTFOLIOS

D = Decimal
LIMITS = TradingLimits(max_position_weight=D("0.5"))


def _run(source: SqliteStore, path: Path, portfolios=PORTFOLIOS, **costs: Decimal):  # type: ignore[no-untyped-def]
    clock = SimulatedClock(datetime(2000, 1, 1, tzinfo=UTC))
    target = SqliteStore(path, clock)
    spec = BacktestSpec(
        DAYS[0], DAYS[-1], D(100_000), "SPY", LIMITS, 10, allocation_method="inverse_vol", **costs
    )
    return target, run_backtest(source, target, clock, portfolios, spec)


def test_the_combined_return_is_that_of_the_summed_equities_net_of_outside_money() -> None:
    # Day 2: portfolio a gains 10% on 100; b is given 50 from outside and ends at 150 (0%).
    returns = np.array([[0.10, 0.0]])
    equity = np.array([[110.0, 150.0]])
    # Start of day: a 100, b 100 + 50; end 260: 260 / 250 - 1 = 4%, not the previous-close
    # weighting's (0.10 * 100 + 0 * 100) / 200 = 5%.
    assert math.isclose(combined_returns(returns, equity)[0], 260 / 250 - 1)
    assert math.isnan(combined_returns(np.array([[np.nan]]), np.array([[np.nan]]))[0])


def test_a_portfolio_that_starts_late_is_measured_over_its_own_life() -> None:
    # The wiki portfolio whose first return came late showed 19.3% a year (its own
    # returns: 35.0%), a Calmar of 2.44 (4.41) and no VaR: its days before the start
    # counted as 0% days.
    from pas import analytics
    from pas.analytics.losses import shown
    from pas.models import DailyMetric
    from pas.store.memory import MemoryStore

    rng = np.random.default_rng(7)
    early, late = rng.normal(0.001, 0.01, len(DAYS)), rng.normal(0.002, 0.012, len(DAYS) // 3)
    start = len(DAYS) - len(late)
    store = MemoryStore()
    store.put_daily_metrics(
        [DailyMetric("a", d, float(r), D(1000), 0.0005) for d, r in zip(DAYS, early, strict=True)]
        + [DailyMetric("b", d, float(r), D(1000), 0.0005) for d, r in zip(DAYS[start:], late, strict=True)]
    )
    summary = summarize(store, ["a", "b"], "SPY")
    for label, name in (
        ("annual return", "annual_return"),
        ("Calmar ratio", "calmar_ratio"),
        ("VaR 95% (1 day)", "value_at_risk"),
        ("max drawdown", "max_drawdown"),
    ):
        own = shown(name, float(getattr(analytics, name)(late)))
        assert math.isclose(summary.values[label]["b"], own, rel_tol=1e-12), label
    assert summary.days == DAYS


def test_a_backtest_keeps_cash_non_negative_and_its_combined_column_exact(
    source: SqliteStore, tmp_path: Path
) -> None:
    target, result = _run(source, tmp_path / "bt.db", commission=D("0.05"), slippage_bps=D(5))
    assert result.refusals == 0
    assert negative_cash_days(target, result.portfolios, result.days) == 0
    summary = summarize(target, result.portfolios, "SPY")
    gap, compared = combined_gap(
        target, result.portfolios, dict(zip(summary.days, summary.combined, strict=True))
    )
    assert compared > 100 and gap < 1e-12


def test_the_result_does_not_depend_on_the_order_portfolios_are_named(
    source: SqliteStore, tmp_path: Path
) -> None:
    first, _ = _run(source, tmp_path / "a.db")
    second, _ = _run(source, tmp_path / "b.db", list(reversed(PORTFOLIOS)))
    for p in ("gov", "gov2"):
        assert [m.equity for m in first.daily_metrics(p)] == [m.equity for m in second.daily_metrics(p)]


def _resimulated_equity(target: SqliteStore, pid: str, at_close: bool) -> float:
    """The portfolio's final equity recomputed in numpy from its fills and the closes:
    ``at_close`` values every fill at that day's close without commission (no costs)."""
    fills = target.fills(pid)
    symbols = sorted({f.symbol for f in fills})
    last = target.latest_prices(symbols, on_or_before=DAYS[-1])
    closes = {
        (f.symbol, f.ts.date()): target.latest_prices([f.symbol], on_or_before=f.ts.date())[f.symbol].close
        for f in fills
    }
    sign = np.array([1.0 if f.side is Side.BUY else -1.0 for f in fills])
    qty = np.array([float(f.qty) for f in fills])
    price = np.array([float(closes[f.symbol, f.ts.date()] if at_close else f.price) for f in fills])
    fees = 0.0 if at_close else sum(float(f.commission) for f in fills)
    cash = float(sum(f.amount for f in target.cash_flows(pid))) - float(sign * qty @ price) - fees
    held = {
        s: float(sum(q * g for q, g, f in zip(qty, sign, fills, strict=True) if f.symbol == s))
        for s in symbols
    }
    return cash + sum(held[s] * float(last[s].close) for s in symbols)


def test_an_independent_resimulation_agrees_and_with_costs_the_gap_is_the_costs(
    source: SqliteStore, tmp_path: Path
) -> None:
    free, _ = _run(source, tmp_path / "free.db")
    for p in ("gov", "gov2"):
        stored = float(free.daily_metrics(p)[-1].equity or 0)
        assert abs(_resimulated_equity(free, p, at_close=False) - stored) < 1e-6
        assert abs(_resimulated_equity(free, p, at_close=True) - stored) < 1e-6
    costly, _ = _run(
        source,
        tmp_path / "costs.db",
        commission=D(1),
        commission_per_share=D("0.005"),
        slippage_bps=D(10),
        spread_bps=D(4),
    )
    for p in ("gov", "gov2"):
        fills = costly.fills(p)
        paid = sum(
            f.commission
            + f.qty
            * abs(f.price - costly.latest_prices([f.symbol], on_or_before=f.ts.date())[f.symbol].close)
            for f in fills
        )
        assert paid > 0
        stored = float(costly.daily_metrics(p)[-1].equity or 0)
        lost = _resimulated_equity(costly, p, at_close=True) - stored
        assert abs(lost - float(paid)) < 0.005, "equity lost equals the costs paid, to the cent"


def test_an_interrupted_backtest_is_partial_and_a_finished_one_complete(
    source: SqliteStore, tmp_path: Path
) -> None:
    clock = SimulatedClock(datetime(2000, 1, 1, tzinfo=UTC))
    target = SqliteStore(tmp_path / "cut.db", clock)
    spec = BacktestSpec(DAYS[0], DAYS[-1], D(100_000), "SPY", LIMITS, 10)

    def ctrl_c(done: int, total: int) -> None:
        if done == total // 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_backtest(source, target, clock, PORTFOLIOS, spec, progress=ctrl_c)
    assert completed(target) == "it did not finish (interrupted)"
    finished, _ = _run(source, tmp_path / "full.db")
    assert completed(finished) is None
