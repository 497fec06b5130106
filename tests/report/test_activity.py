"""Trades, exposure, turnover and costs from fills and closes, hand-computed; the trades
CSV beside the report."""

from __future__ import annotations

import csv
import io
import math
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from pas.models import DailyMetric, Fill, Portfolio, Price, Schedule, Side
from pas.report.activity import CSV_COLUMNS, Trade, activity, closes_by_day, costs, trades_csv, trades_of
from pas.report.data import load_report_data
from pas.store.base import Store
from pas.store.sqlite import SqliteStore
from tests.commands.conftest import Invoke
from tests.report.test_report import NOW, parse

D1, D2, D3 = date(2025, 3, 3), date(2025, 3, 4), date(2025, 3, 5)


def fill(symbol: str, side: Side, qty: str, price: str, day: date, n: int, commission: str = "0") -> Fill:
    ts = datetime(day.year, day.month, day.day, 15, 0, tzinfo=UTC)  # 10:00 in New York
    return Fill(
        "lobby", symbol, side, Decimal(qty), Decimal(price), ts, f"f{n}", commission=Decimal(commission)
    )


FILLS = [
    fill("AAA", Side.BUY, "10", "101", D1, 1, "1.5"),  # 1 above the close of 100
    fill("BBB", Side.BUY, "5", "50", D2, 2),  # BBB has no close on D2
    fill("AAA", Side.SELL, "4", "109", D3, 3, "0.5"),  # 1 below the close of 110
]
CLOSES = {"AAA": {D1: Decimal(100), D2: Decimal(105), D3: Decimal(110)}, "BBB": {D3: Decimal(60)}}


def test_a_trade_costs_its_commission_and_its_price_against_the_days_close() -> None:
    trades = trades_of(reversed(FILLS), CLOSES)
    assert [t.ts.day for t in trades] == [3, 4, 5]  # oldest first
    assert [t.slippage for t in trades] == [Decimal(10), None, Decimal(4)]
    c = costs(trades)
    assert (c.trades, c.traded, c.commission, c.slippage, c.unmeasured) == (
        3,
        Decimal(1010 + 250 + 436),
        Decimal(2),
        Decimal(14),
        1,
    )
    assert c.total == Decimal(16)


def test_exposure_is_the_positions_at_the_close_over_equity_and_unknown_without_a_close() -> None:
    trades = trades_of(FILLS, CLOSES)
    a = activity([D1, D2, D3], [2000.0, None, 2500.0], trades, CLOSES)
    assert a.gross[0] == pytest.approx(10 * 100 / 2000) and a.net[0] == a.gross[0]
    assert math.isnan(a.gross[1])  # no equity known on D2
    assert a.gross[2] == pytest.approx((6 * 110 + 5 * 60) / 2500)
    assert a.turnover == pytest.approx((1010 / 2000, math.nan, 436 / 2500), nan_ok=True)
    # BBB has never closed by D2: with equity known, the day's exposure is still unknown
    unknown = activity([D1, D2, D3], [2000.0, 2000.0, 2500.0], trades, CLOSES)
    assert math.isnan(unknown.gross[1]) and unknown.gross[0] == pytest.approx(0.5)


def test_a_short_position_counts_in_gross_but_against_net() -> None:
    trades = trades_of(
        [fill("AAA", Side.SELL, "2", "100", D1, 1), fill("BBB", Side.BUY, "4", "60", D1, 2)], {}
    )
    a = activity([D1], [1000.0], trades, {"AAA": {D1: Decimal(100)}, "BBB": {D1: Decimal(60)}})
    assert (a.gross[0], a.net[0]) == (pytest.approx(0.44), pytest.approx(0.04))


def test_the_trades_csv_has_every_trade_with_decimal_strings() -> None:
    text = trades_csv(trades_of(FILLS, CLOSES))
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert rows[1] == [
        "2025-03-03T15:00:00Z",
        "2025-03-03",
        "lobby",
        "AAA",
        "buy",
        "10",
        "101",
        "1010",
        "1.5",
        "100",
        "10",
    ]
    assert rows[2][-2:] == ["", ""]  # no close, so no slippage: left empty, not zero
    assert len(rows) == 4


def _seed(store: Store) -> None:
    store.add_portfolio(Portfolio("lobby", "manual", Schedule.WEEKLY, NOW))
    store.put_daily_metrics(
        [DailyMetric("lobby", d, 0.001 * i, Decimal(2000 + i)) for i, d in enumerate((D1, D2, D3))]
    )
    store.append_fills(FILLS)
    store.upsert_prices(Price(s, d, c) for s, by_day in CLOSES.items() for d, c in by_day.items())


def test_load_report_data_reads_trades_and_activity(store: Store) -> None:
    _seed(store)
    data = load_report_data(store, ["lobby"], "SPY", now=NOW)
    assert [t.slippage for t in data.trades["lobby"]] == [Decimal(10), None, Decimal(4)]
    assert data.activity["lobby"].gross[0] == pytest.approx(1000 / 2000)
    assert closes_by_day(store.price_history(["AAA", "BBB"])) == CLOSES


def test_pas_report_writes_the_trades_csv_beside_the_report(pas: Invoke, home: Path, tmp_path: Path) -> None:
    with SqliteStore(home / "pas.db") as s:
        _seed(s)
    out = tmp_path / "tear.html"
    result = pas("report", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("KiB) and tear.trades.csv\n")
    assert (tmp_path / "tear.trades.csv").read_text() == trades_csv(trades_of(FILLS, CLOSES))
    text = " ".join(parse(out.read_text()).text)
    assert "every trade is in tear.trades.csv beside this report" in text
    assert "(1 trades without a close)" in text


def test_trade_value_is_shares_times_price() -> None:
    t = Trade(
        "p", NOW, "AAA", Side.SELL, Decimal("0.5"), Decimal("10.25"), Decimal(0), None, date(2026, 1, 5)
    )
    assert t.value == Decimal("5.125") and t.slippage is None
    assert (
        trades_of([fill("AAA", Side.BUY, "1", "1", D1, 1)], {})[0].day == D1
    )  # 15:00 UTC is 10:00 in New York


def test_the_combined_book_has_its_exposure_turnover_and_costs(store: Store) -> None:
    from pas.report.data import COMBINED
    from pas.report.html import render_report

    _seed(store)
    store.add_portfolio(Portfolio("gov", "manual", Schedule.WEEKLY, NOW))
    store.put_daily_metrics([DailyMetric("gov", d, 0.0, Decimal(1000)) for d in (D1, D2, D3)])
    bought = datetime(D1.year, D1.month, D1.day, 15, 0, tzinfo=UTC)
    store.append_fills(
        [Fill("gov", "AAA", Side.BUY, Decimal(5), Decimal(100), bought, "g1", commission=Decimal(1))]
    )
    data = load_report_data(store, ["lobby", "gov"], "SPY", now=NOW)
    book = data.activity[COMBINED]
    # D1: lobby holds 10 AAA, gov 5, at the close of 100, over 2,000 + 1,000 of equity;
    # traded 1,010 + 500
    assert book.gross[0] == pytest.approx(1_500 / 3_000)
    assert book.turnover[0] == pytest.approx(1_510 / 3_000)
    # D3: lobby 6 AAA at 110 and 5 BBB at 60, gov 5 AAA at 110, over 2,002 + 1,000
    assert book.gross[2] == pytest.approx((11 * 110 + 5 * 60) / 3_002)
    text = " ".join(parse(render_report(data)).text)
    # 4 trades: 1,010 + 250 + 436 + 500 traded; commissions 1.5 + 0.5 + 1; slippage 10 + 4 (+ gov's 0)
    assert "combined 4 2,196.00 3.00 14.00 (1 trades without a close) 17.00 77.4" in text
