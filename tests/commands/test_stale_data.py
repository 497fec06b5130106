"""Stale closes are visible and stop trading on them (issue 15): with closes only up to
an old day, `metrics update` refuses, `rebalance --broker sim` refuses before sending,
`risk` warns and `positions` marks them. The rule is pas.freshness's: a close more than
PRICE_MAX_STALE_DAYS calendar days before today in New York is stale."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

import pas.store as store_module
from pas.freshness import is_stale, stale_closes
from pas.models import Fill, Price, Side
from pas.store.sqlite import SqliteStore
from tests.commands.conftest import Invoke
from tests.conftest import FakeClock

# Tuesday 2026-12-01, 12:00 in New York.
NOW = datetime(2026, 12, 1, 17, tzinfo=UTC)
OLD = date(2025, 12, 31)


@pytest.fixture
def book(pas: Invoke, home: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """A portfolio holding AAA bought on OLD, targets AAA and SPY, closes only up to OLD;
    every store the command line opens runs on a clock fixed at NOW."""
    clock = FakeClock(NOW)
    monkeypatch.setattr(
        store_module, "open_store", lambda settings, c=None: SqliteStore(settings.sqlite_path, clock)
    )
    assert pas("portfolio", "add", "lobby", "--capital", "10000").exit_code == 0
    assert pas("portfolio", "set-weights", "lobby", "AAA=0.5").exit_code == 0
    with SqliteStore(home / "pas.db", clock) as store:
        store.upsert_prices(
            [Price(s, d, Decimal(10)) for s in ("AAA", "SPY") for d in (date(2025, 12, 30), OLD)]
        )
        bought = datetime(2025, 12, 30, 15, tzinfo=UTC)
        store.append_fills([Fill("lobby", "AAA", Side.BUY, Decimal(10), Decimal(10), bought, fill_id="f1")])
    return pas


def test_the_rule_counts_calendar_days_before_today() -> None:
    today = date(2026, 12, 1)
    assert not is_stale(date(2026, 11, 26), today, 5)  # 5 days: the limit itself is fresh
    assert is_stale(date(2026, 11, 25), today, 5)
    assert stale_closes({"B": date(2026, 1, 2), "A": date(2026, 1, 2), "C": today}, today, 5)[0].symbol == "A"


def test_metrics_update_refuses_instead_of_saying_up_to_date(book: Invoke, home: Path) -> None:
    result = book("metrics", "update", "--all")
    assert result.exit_code == 1
    assert (
        "lobby: refusing to compute returns at stale closes: AAA 2025-12-31, SPY 2025-12-31 (more than "
        "PRICE_MAX_STALE_DAYS=5 days before 2026-12-01); run `pas prices fetch`"
    ) in result.output
    assert "up to date" not in result.output
    with SqliteStore(home / "pas.db") as store:
        assert store.daily_metrics("lobby") == []
    assert book("metrics", "update", "lobby", env={"PRICE_MAX_STALE_DAYS": "400"}).exit_code == 0


def test_rebalance_on_the_sim_broker_refuses_to_fill_at_stale_closes(book: Invoke, home: Path) -> None:
    env = {"SIM_MARKET": "always"}
    result = book("rebalance", "--all", "--broker", "sim", env=env)
    assert result.exit_code == 1
    assert result.output.startswith(
        "error: refusing to trade on the sim broker at stale closes: AAA 2025-12-31 (more than "
        "PRICE_MAX_STALE_DAYS=5 days before 2026-12-01); run `pas prices fetch`"
    )
    with SqliteStore(home / "pas.db") as store:
        assert store.sim_orders() == []
        assert store.fills("lobby")[-1].fill_id == "f1"  # no new fill
    # the book's fills were imported by hand, so the sim broker holds none of them: the run
    # reconciles before planning and trades over that difference only with --force
    fresh = {**env, "PRICE_MAX_STALE_DAYS": "400"}
    differs = book("rebalance", "--all", "--broker", "sim", env=fresh)
    assert differs.exit_code == 3 and "pass --force to trade anyway" in differs.output
    traded = book("rebalance", "--all", "--broker", "sim", "--force", env=fresh)
    assert traded.exit_code == 0, traded.output


def test_risk_warns_when_it_values_at_stale_closes(book: Invoke) -> None:
    result = book("risk", "exposure", "--json")
    assert result.exit_code == 0, result.output
    assert (
        "warning: valued at stale closes: AAA 2025-12-31 (more than PRICE_MAX_STALE_DAYS=5 days "
        "before 2026-12-01); run `pas prices fetch`"
    ) in result.stderr
    json.loads(result.stdout)  # the warning stays out of the JSON


def test_positions_mark_stale_prices(book: Invoke) -> None:
    table = book("positions", "lobby")
    assert table.exit_code == 0, table.output
    assert "2025-12-31 stale" in table.stdout
    assert "warning: stale closes: AAA 2025-12-31" in table.stderr
    data = json.loads(book("positions", "lobby", "--json").stdout)
    assert data["positions"][0]["price_stale"] is True
    fresh = json.loads(book("positions", "lobby", "--json", env={"PRICE_MAX_STALE_DAYS": "400"}).stdout)
    assert fresh["positions"][0]["price_stale"] is False
