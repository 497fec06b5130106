"""Reading fills and prices files."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from pas.errors import InputError
from pas.portfolio.imports import read_fills, read_prices

NOW = datetime(2026, 6, 1, 15, tzinfo=UTC)


def test_json_object_form_and_default_portfolio(tmp_path: Path) -> None:
    path = tmp_path / "fills.json"
    row = {
        "symbol": "brk.b",
        "side": "BUY",
        "qty": "0.5",
        "price": 400.25,
        "time": "2026-01-02T10:00:00-05:00",
    }
    path.write_text(json.dumps({"fills": [row]}))
    (fill,) = read_fills(path, default_portfolio="p", now=NOW).items
    assert (fill.portfolio, fill.symbol, fill.qty, fill.price) == (
        "p",
        "BRK.B",
        Decimal("0.5"),
        Decimal("400.25"),
    )
    assert fill.ts.isoformat() == "2026-01-02T15:00:00+00:00"
    again = read_fills(path, default_portfolio="p", now=NOW).items
    assert again[0].fill_id == fill.fill_id, "a derived fill id is stable, so re-imports are no-ops"


def test_given_fill_id_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("portfolio,symbol,side,qty,price,time,fill_id\np,A,sell,1,2,2026-01-02,abc-1\n")
    assert read_fills(path, now=NOW).items[0].fill_id == "abc-1"


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("p,A,buy,0.0000000001,1,2026-01-02", "line 2: 1E-10 has more than 9 decimal places"),
        ("p,A,buy,1,0,2026-01-02", "line 2: price must be more than zero, got 0"),
        ("p,A,buy,-1,1,2026-01-02", "line 2: quantity must be more than zero, got -1"),
        ("p,$A,buy,1,1,2026-01-02", "line 2: '$A' is not a ticker symbol"),
        ("p,A,buy,1,1,yesterday", "line 2: 'yesterday' is not a date or time"),
        ("P!,A,buy,1,1,2026-01-02", "line 2: portfolio id 'P!' must be 1-16 characters"),
        (",A,buy,1,1,2026-01-02", "line 2: missing portfolio (add the column or pass --portfolio)"),
        ("p,,buy,1,1,2026-01-02", "line 2: missing symbol"),
    ],
)
def test_bad_rows_are_reported_with_their_line(tmp_path: Path, row: str, problem: str) -> None:
    path = tmp_path / "f.csv"
    path.write_text("portfolio,symbol,side,qty,price,time\n" + row + "\n")
    with pytest.raises(InputError) as err:
        read_fills(path, now=NOW)
    assert f"1 bad row(s), nothing imported: {problem}" in str(err.value)


def test_many_bad_rows_are_summarised(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("portfolio,symbol,side,qty,price,time\n" + "p,A,buy,x,1,2026-01-02\n" * 8)
    with pytest.raises(
        InputError, match=r"8 bad row\(s\).*line 6: qty must be a number, got 'x' \(and 3 more\)$"
    ):
        read_fills(path, now=NOW)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "holds no rows"),
        ("[1, 2", "is not valid JSON"),
        ('{"other": []}', "expected a JSON list of objects"),
    ],
)
def test_unreadable_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "f.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        read_fills(path, now=NOW)
    with pytest.raises(InputError, match="cannot read"):
        read_fills(tmp_path / "missing.csv", now=NOW)


def test_prices(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("date,symbol,close\n2026-01-02,spy,580.123\n")
    (price,) = read_prices(path, now=NOW).items
    assert (price.symbol, price.day.isoformat(), price.close) == ("SPY", "2026-01-02", Decimal("580.123"))
    path.write_text("date,symbol,close\n2026-13-02,SPY,1\n")
    with pytest.raises(InputError, match="line 2: date '2026-13-02' is not YYYY-MM-DD"):
        read_prices(path, now=NOW)
