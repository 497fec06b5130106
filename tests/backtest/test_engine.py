"""The backtest engine: the live functions on a simulated clock, without look-ahead."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pas.backtest import BacktestSpec, SimulatedClock, run_backtest, summarize
from pas.errors import InputError
from pas.models import Fill, Portfolio
from pas.portfolio.trading.limits import TradingLimits
from pas.store.sqlite import SqliteStore
from tests.backtest.conftest import DAYS, PORTFOLIOS, awards, closes

LIMITS = TradingLimits(max_position_weight=Decimal("0.5"))


def spec(end: date = DAYS[-1], method: str | None = "equal") -> BacktestSpec:
    return BacktestSpec(DAYS[0], end, Decimal(100_000), "SPY", LIMITS, 10, allocation_method=method)


def run(source: SqliteStore, path: Path, end: date = DAYS[-1], method: str | None = "equal") -> SqliteStore:
    clock = SimulatedClock(datetime(2000, 1, 1, tzinfo=UTC))
    target = SqliteStore(path, clock)
    run_backtest(source, target, clock, PORTFOLIOS, spec(end, method))
    return target


def test_a_backtest_trades_records_and_measures_apart_from_live_data(
    source: SqliteStore, tmp_path: Path
) -> None:
    target = run(source, tmp_path / "bt.db")
    for p in ("gov", "gov2"):
        assert target.fills(p), "the simulated broker filled orders into the backtest ledger"
        metrics = target.daily_metrics(p)
        assert metrics[-1].day == DAYS[-1]
        assert target.trailing_stats(p, "inception") is not None
        # Every target the strategy built sums to at most 1 and names only priced symbols.
        for w in target.weights_history(p):
            assert sum(w.weights.values()) <= 1 + 1e-9
    allocations = target.allocation_history()
    assert len(allocations) >= len({d.isocalendar()[:2] for d in DAYS}), "allocated every week"
    assert all(abs(sum(a.weights.values()) - 1) < 1e-9 for a in allocations)
    # The source store (live data) is only read.
    assert source.list_portfolios() == [] and source.fills("gov") == []
    assert source.allocation_history() == []


def test_without_allocation_each_portfolio_starts_with_an_equal_share(
    source: SqliteStore, tmp_path: Path
) -> None:
    target = run(source, tmp_path / "bt.db", method=None)
    assert [f.amount for f in target.cash_flows("gov")] == [Decimal(50_000)]
    assert target.allocation_history() == []
    summary = summarize(target, ["gov", "gov2"], "SPY")
    assert summary.columns == ["gov", "gov2", "combined", "SPY"]
    final = summary.final_equity
    assert final["combined"] == final["gov"] + final["gov2"]  # type: ignore[operator]
    assert summary.values["beta"]["SPY"] == pytest.approx(1.0)


def test_no_trading_day_is_an_input_error(source: SqliteStore, tmp_path: Path) -> None:
    clock = SimulatedClock(datetime(2000, 1, 1, tzinfo=UTC))
    late = BacktestSpec(date(2030, 1, 1), date(2030, 2, 1), Decimal(1000), "SPY", LIMITS, 10)
    with pytest.raises(
        InputError, match=r"no stored close of SPY \(BENCHMARK\) between 2030-01-01 and 2030-02-01"
    ):
        run_backtest(source, SqliteStore(tmp_path / "bt.db", clock), clock, PORTFOLIOS, late)
    with pytest.raises(InputError, match="--end 2020-01-01 is before --start 2021-01-01"):
        BacktestSpec(date(2021, 1, 1), date(2020, 1, 1), Decimal(1), "SPY", LIMITS, 10)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=25, max_value=len(DAYS) - 10))
def test_nothing_after_a_day_changes_what_the_backtest_did_up_to_it(
    tmp_path_factory: pytest.TempPathFactory, cut: int
) -> None:
    # The same backtest over a store that holds only what was public by day D (records
    # and closes) must build, trade and measure exactly the same up to D: whatever lies
    # after D in the full store was never looked at.
    d = DAYS[cut]
    folder = tmp_path_factory.mktemp("cut")
    full_source = SqliteStore(folder / "full.db")
    full_source.upsert_prices(closes())
    full_source.upsert_records("contracts", awards())
    past_source = SqliteStore(folder / "past.db")
    past_source.upsert_prices(p for p in closes() if p.day <= d)
    end_of_d = datetime.combine(d, datetime.max.time(), UTC)
    past_source.upsert_records("contracts", [r for r in awards() if r.public_at <= end_of_d])
    full = run(full_source, folder / "full-bt.db")
    past = run(past_source, folder / "past-bt.db", end=d)
    for p in ("gov", "gov2"):
        full_targets = [w for w in full.weights_history(p) if w.at.date() <= d]
        assert full_targets == past.weights_history(p)
        # Run and order ids are random; what was traded, when and at what price is not.
        assert [_trade(f) for f in full.fills(p) if f.ts.date() <= d] == [_trade(f) for f in past.fills(p)]
        assert full.daily_metrics(p, end=d) == past.daily_metrics(p)
        # Equal up to float rounding: statistics are computed in batches whose shape
        # depends on how many days there are, which can change the last bit.
        full_stats, past_stats = full.trailing_stats(p, "63", as_of=d), past.trailing_stats(p, "63", as_of=d)
        assert (full_stats is None) == (past_stats is None)
        if full_stats is not None and past_stats is not None:
            assert full_stats.as_of == past_stats.as_of
            assert dict(full_stats.values) == pytest.approx(dict(past_stats.values), rel=1e-12, nan_ok=True)
    assert [a for a in full.allocation_history() if a.applied_at.date() <= d] == past.allocation_history()


def _trade(f: Fill) -> tuple[object, ...]:
    return (f.symbol, f.side, f.qty, f.price, f.ts, f.commission)


def test_a_portfolio_that_never_builds_does_not_stop_the_backtest(
    source: SqliteStore, tmp_path: Path
) -> None:
    # No lobbying record exists: that portfolio never gets targets, so the allocation never
    # funds it and it has no equity to measure; the others run and are measured.
    clock = SimulatedClock(datetime(2000, 1, 1, tzinfo=UTC))
    target = SqliteStore(tmp_path / "bt.db", clock)
    idle = Portfolio("idle", "lobbying_growth", PORTFOLIOS[0].schedule, PORTFOLIOS[0].created_at)
    result = run_backtest(source, target, clock, [*PORTFOLIOS, idle], spec())
    assert target.daily_metrics("idle") == [] and target.cash_flows("idle") == []
    assert target.daily_metrics("gov")[-1].day == DAYS[-1]
    assert any(note.startswith(f"{DAYS[0]} idle: not built") for note in result.notes)


def test_each_day_decides_at_the_cron_builds_new_york_time_in_winter_and_summer(
    source: SqliteStore, tmp_path: Path
) -> None:
    from pas.schedule import DECISION_TIME, MARKET_TZ

    target = run(source, tmp_path / "bt.db")
    built = [w.at for p in PORTFOLIOS for w in target.weights_history(p.id)]
    # January is standard time (UTC-5), June daylight saving time (UTC-4): the same
    # New York wall time is a different UTC hour, and the backtest follows New York.
    assert {at.month for at in built} >= {1, 6}
    assert {at.astimezone(MARKET_TZ).time() for at in built} == {DECISION_TIME}
    assert {at.astimezone(UTC).hour for at in built if at.month == 1} == {14}
    assert {at.astimezone(UTC).hour for at in built if at.month == 6} == {13}
