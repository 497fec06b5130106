"""The demo's backtest ends where it ended before the working store in memory: every
portfolio's final equity, to the cent (issue 18: fast, with results unchanged)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from pas.backtest import BacktestSpec, SimulatedClock, run_backtest, summarize
from pas.commands.demo import DEMO_ALLOCATION, DEMO_CAPITAL, DEMO_PORTFOLIOS, WARM_UP
from pas.demo.sample import load_sample, sample_range
from pas.models import Portfolio, Schedule
from pas.portfolio.trading.limits import TradingLimits
from pas.store.sqlite import SqliteStore

# `pas backtest` of the demo (the sample, score allocation, $100,000, default settings)
# on main before the backtest ran on the working store in memory.
DEMO_FINAL_EQUITY = {
    "congress": Decimal("21070.06"),
    "contracts": Decimal("21396.71"),
    "insiders": Decimal("59513.39"),
    "lobbying": Decimal("41456.63"),
    "wiki": Decimal("7343.99"),
    "combined": Decimal("150780.77"),
}


@pytest.mark.slow
def test_the_demo_backtest_ends_with_the_pinned_equity_to_the_cent(tmp_path: Path) -> None:
    source = SqliteStore(tmp_path / "pas.db")
    load_sample(source)
    first, last = sample_range()
    portfolios = [
        Portfolio(pid, name, Schedule.MONTHLY, datetime(2020, 1, 1, tzinfo=UTC))
        for pid, name in DEMO_PORTFOLIOS.items()
    ]
    clock = SimulatedClock(datetime(2020, 1, 1, tzinfo=UTC))
    target = SqliteStore(tmp_path / "backtest.db", clock)
    spec = BacktestSpec(
        first + WARM_UP, last, DEMO_CAPITAL, "SPY", TradingLimits(), 10, allocation_method=DEMO_ALLOCATION
    )
    result = run_backtest(source, target, clock, portfolios, spec)
    final = summarize(target, result.portfolios, "SPY").final_equity
    cents = {name: value.quantize(Decimal("0.01")) for name, value in final.items() if value is not None}
    assert cents == DEMO_FINAL_EQUITY
