"""One account model at the CLI: every command shows the same funded, cash, equity and weights."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pas.cli import app
from pas.models import AppliedAllocation, Price
from pas.store.rules import LedgerFold
from pas.store.sqlite import SqliteStore

runner = CliRunner()
# Closes of fixed days long past, on the real clock (staleness: test_stale_data.py).
pytestmark = pytest.mark.usefixtures("closes_of_long_ago")


def _pas(home: Path, *args: str, **env: str) -> Any:
    result = runner.invoke(
        app, list(args), env={"PAS_HOME": str(home), "PAS_BROKER": "sim", "SIM_MARKET": "always", **env}
    )
    assert result.exit_code == 0, result.output
    return result


def _json(home: Path, *args: str, **env: str) -> Any:
    return json.loads(_pas(home, *args, "--json", **env).output)


def _prices(home: Path, day: date, **closes: int) -> None:
    with SqliteStore(home / "pas.db") as store:
        store.upsert_prices([Price(s, day, Decimal(c)) for s, c in closes.items()])


def test_a_deposit_counts_in_positions_as_in_risk_and_sizing(tmp_path: Path) -> None:
    # The reported defect: the rebalance sized on capital + deposit ($15,000) while
    # `pas positions` valued the book on the capital alone.
    _prices(tmp_path, date(2020, 1, 2), AAPL=100)
    _pas(tmp_path, "portfolio", "add", "lobby", "--capital", "10000")
    _pas(tmp_path, "portfolio", "fund", "lobby", "5000")
    _pas(tmp_path, "portfolio", "set-weights", "lobby", "AAPL=0.5")
    _pas(tmp_path, "rebalance", "-p", "lobby", "--broker", "sim")
    positions = _json(tmp_path, "positions", "lobby")
    assert [(p["symbol"], Decimal(p["qty"])) for p in positions["positions"]] == [("AAPL", Decimal(75))]
    assert Decimal(positions["cash"]) == 7500
    assert Decimal(positions["equity"]) == 15000
    assert Decimal(positions["positions"][0]["weight"]) == Decimal("0.5")
    (book,) = _json(tmp_path, "risk", "exposure", "lobby")
    assert Decimal(book["equity"]) == 15000
    assert Decimal(book["cash"]) == 7500


def test_every_view_shows_the_same_money(tmp_path: Path) -> None:
    # One portfolio through a deposit, a withdrawal, fills with commission, a sale and an
    # allocation transfer; then every command that shows its money must agree.
    sim = {"SIM_COMMISSION": "1.5", "SIM_CASH": "20000"}
    today = datetime.now(UTC).date()
    _prices(tmp_path, date(2020, 1, 2), AAA=10, BBB=20)
    _pas(tmp_path, "portfolio", "add", "lobby", "--capital", "10000")
    _pas(tmp_path, "portfolio", "fund", "lobby", "5000")
    _pas(tmp_path, "portfolio", "fund", "lobby", "1000", "--withdraw")
    _pas(tmp_path, "portfolio", "set-weights", "lobby", "AAA=0.4", "BBB=0.3")
    _pas(tmp_path, "rebalance", "-p", "lobby", **sim)
    _pas(tmp_path, "portfolio", "set-weights", "lobby", "AAA=0.1", "BBB=0.3")
    _pas(tmp_path, "rebalance", "-p", "lobby", **sim)  # sells AAA
    with SqliteStore(tmp_path / "pas.db") as store:
        store.put_allocation(AppliedAllocation(today, datetime.now(UTC), "equal", {"lobby": 1.0}, 0.5))
    _pas(tmp_path, "rebalance", "-p", "lobby", **sim)  # moves money out by the allocation
    later = today + timedelta(days=3)
    _prices(tmp_path, later, AAA=12, BBB=19)
    with SqliteStore(tmp_path / "pas.db") as store:
        store.upsert_prices([Price("SPY", today + timedelta(days=d), Decimal(400 + d)) for d in range(-3, 4)])
        flows = store.cash_flows("lobby")
        fills = store.fills("lobby")
    (transfer,) = [f.amount for f in flows if f.note == "allocation"]
    assert len(flows) == 3

    positions = _json(tmp_path, "positions", "lobby")
    funded, cash, equity = (Decimal(positions[k]) for k in ("funded", "cash", "equity"))
    qty = {p["symbol"]: Decimal(p["qty"]) for p in positions["positions"]}
    weights = {p["symbol"]: Decimal(p["weight"]) for p in positions["positions"]}
    assert {p["price_date"] for p in positions["positions"]} == {later.isoformat()}
    assert any(f.side.value == "sell" for f in fills)
    assert Decimal(positions["commissions"]) == Decimal("1.5") * len(fills), "$1.50 an order"
    assert equity == cash + qty["AAA"] * 12 + qty["BBB"] * 19
    assert funded == 10000 + 5000 - 1000 + transfer

    (book,) = _json(tmp_path, "risk", "exposure", "lobby")
    (whole,) = [b for b in _json(tmp_path, "risk", "exposure") if b["book"] == "account"]
    for view in (book, whole):
        assert (Decimal(view["equity"]), Decimal(view["cash"])) == (equity, cash)
        shown = {h["symbol"]: h["weight"] for h in view["largest"]}  # floats: risk works in floats
        assert shown == pytest.approx({s: float(w) for s, w in weights.items()}, rel=1e-12)
    var = _json(tmp_path, "risk", "var", "lobby")
    assert {Decimal(r["equity"]) for r in var if r["source"] == "holdings"} == {equity}

    _pas(tmp_path, "metrics", "update", "lobby")
    with SqliteStore(tmp_path / "pas.db") as store:
        last = store.daily_metrics("lobby")[-1]
    assert (last.day, last.equity) == (later, equity)

    withdrawn = _pas(tmp_path, "portfolio", "fund", "lobby", "1", "--withdraw").output
    assert withdrawn.strip() == f"withdrew 1.00 for lobby; funded total {funded - 1:,.2f}"
    refused = runner.invoke(
        app, ["portfolio", "fund", "lobby", str(cash), "--withdraw"], env={"PAS_HOME": str(tmp_path)}
    )
    assert f"has only {cash - 1:,.2f} dollars of cash" in refused.output


def test_an_unpriced_holding_makes_equity_unknown_everywhere(tmp_path: Path) -> None:
    _prices(tmp_path, date(2020, 1, 2), AAA=10)
    _pas(tmp_path, "portfolio", "add", "lobby", "--capital", "1000")
    _pas(tmp_path, "portfolio", "add", "gov", "--capital", "1000")
    (tmp_path / "fills.csv").write_text(
        "portfolio,symbol,side,qty,price,time\n"
        "lobby,AAA,buy,10,10,2020-01-02T15:00:00\n"
        "gov,ZZZ,buy,5,20,2020-01-02T15:00:00\n"
    )
    _pas(tmp_path, "trades", "import", str(tmp_path / "fills.csv"))
    gov = _json(tmp_path, "positions", "gov")
    assert (Decimal(gov["cash"]), gov["market_value"], gov["equity"]) == (Decimal(900), None, None)
    books = {b["book"]: b for b in _json(tmp_path, "risk", "exposure")}
    assert Decimal(books["lobby"]["equity"]) == 1000
    assert books["gov"] == {"book": "gov", "unpriced": ["ZZZ"]}, "not measured: its equity is unknown"
    assert books["account"] == {"book": "account", "unpriced": ["ZZZ"]}
    shown = _pas(tmp_path, "risk", "exposure").output
    assert "no stored close for ZZZ: the equity of the books holding it is unknown" in shown


def test_positions_count_fills_imported_older_than_those_recorded(tmp_path: Path) -> None:
    # Issue 18: positions are kept as fills are written; an import of older fills folds the
    # ledger again in time order, so the average cost is that of the whole history.
    _prices(tmp_path, date(2020, 1, 3), AAA=30)
    _pas(tmp_path, "portfolio", "add", "lobby", "--capital", "1000")
    for n, rows in enumerate(
        [
            "lobby,AAA,buy,10,10,2020-01-02T15:00:00\nlobby,AAA,sell,5,20,2020-01-02T16:00:00\n",
            "lobby,AAA,buy,10,40,2020-01-02T14:00:00\n",
        ]
    ):
        (tmp_path / f"fills{n}.csv").write_text(f"portfolio,symbol,side,qty,price,time\n{rows}")
        _pas(tmp_path, "trades", "import", str(tmp_path / f"fills{n}.csv"))
    (position,) = _json(tmp_path, "positions", "lobby")["positions"]
    # 10 at 40 then 10 at 10: 20 at 25; selling 5 leaves 15 at 25, and realised 5 × (20 − 25).
    assert (Decimal(position["qty"]), Decimal(position["avg_cost"])) == (15, 25)
    assert Decimal(_json(tmp_path, "positions", "lobby")["realized_pnl"]) == -25
    with SqliteStore(tmp_path / "pas.db") as store:
        assert store.ledger_fold("lobby") == LedgerFold().add(store.ledger("lobby"))
