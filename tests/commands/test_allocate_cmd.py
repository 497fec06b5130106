"""``pas allocate`` end to end, and `pas rebalance --all` sizing capital from the applied allocation."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from pas.cli import app
from pas.models import AppliedAllocation, DailyMetric, Price, TrailingStats
from pas.store.sqlite import SqliteStore
from tests.commands.test_json_conventions import check

# Closes of fixed days long past, on the real clock (staleness: test_stale_data.py).
pytestmark = pytest.mark.usefixtures("closes_of_long_ago")

runner = CliRunner()
START = date(2025, 1, 1)
AS_OF = START + timedelta(days=99)


def pas(home: Path, *args: str, **extra: str):  # type: ignore[no-untyped-def]
    env = {"PAS_HOME": str(home), "PAS_BROKER": "sim", "SIM_MARKET": "always", **extra}
    return runner.invoke(app, list(args), env=env)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """Portfolio a (capital 10,000, AAA) and b (no capital, BBB), 100 days of returns each;
    a's statistics beat b's."""
    rng = np.random.default_rng(7)
    with SqliteStore(tmp_path / "pas.db") as store:
        store.upsert_prices(
            [Price("AAA", date(2020, 1, 2), Decimal(10)), Price("BBB", date(2020, 1, 2), Decimal(20))]
        )
        store.put_daily_metrics(
            [
                DailyMetric(p, START + timedelta(days=i), float(x))
                for p, vol in (("a", 0.01), ("b", 0.02))
                for i, x in enumerate(rng.normal(0, vol, 100))
            ]
        )
        store.put_trailing_stats(
            [
                # 100 days of returns: scored on the 63-day window, the longest they fill.
                TrailingStats(
                    "a", AS_OF, "63", {"sharpe_ratio": 2.0, "max_drawdown": -0.05, "annual_volatility": 0.16}
                ),
                TrailingStats(
                    "b", AS_OF, "63", {"sharpe_ratio": 0.5, "max_drawdown": -0.30, "annual_volatility": 0.32}
                ),
            ]
        )
    assert pas(tmp_path, "portfolio", "add", "a", "--capital", "10000").exit_code == 0
    assert pas(tmp_path, "portfolio", "add", "b").exit_code == 0
    assert pas(tmp_path, "portfolio", "set-weights", "a", "AAA=0.5").exit_code == 0
    assert pas(tmp_path, "portfolio", "set-weights", "b", "BBB=0.5").exit_code == 0
    return tmp_path


BOUNDS = {"MIN_ALLOCATION": "0.3", "MAX_ALLOCATION": "0.7"}


def test_allocate_shows_the_table_and_applies(home: Path) -> None:
    shown = pas(home, "allocate", "--as-of", AS_OF.isoformat(), **BOUNDS)
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[0] == f"Allocation as of {AS_OF} (score)"
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in lines if line.startswith("│")]
    assert (
        "┃ portfolio ┃ days ┃ window ┃ sharpe ┃ sortino ┃ max dd ┃ volatility ┃ weight ┃ allocation ┃"
        " current ┃" in lines[2]
    )
    assert rows == [
        ["a", "100", "63", "2.00", "", "-5.0%", "16.0%", "70.0%", "70.0%", "", "+70.0 pp"],
        ["b", "100", "63", "0.50", "", "-30.0%", "32.0%", "30.0%", "30.0%", "", "+30.0 pp"],
    ]
    assert shown.output.rstrip().endswith("not applied; run again with --apply to use it")
    assert pas(home, "allocate", "--history").output.strip() == (
        "no allocation applied yet; apply one with `pas allocate --apply`"
    )

    applied = pas(home, "allocate", "--as-of", AS_OF.isoformat(), "--apply", "--json", **BOUNDS)
    assert applied.exit_code == 0, applied.output
    data = check("allocate", applied.output)
    assert (data["method"], data["applied"], data["exposure"]) == ("score", True, 1.0)
    assert [(p["portfolio"], round(p["weight"], 12), p["current"]) for p in data["portfolios"]] == [
        ("a", 0.7, None),
        ("b", 0.3, None),
    ]
    again = json.loads(
        pas(home, "allocate", "--as-of", AS_OF.isoformat(), "--method", "equal", "--json").output
    )
    assert [(p["current"], round(p["change"], 12)) for p in again["portfolios"]] == [
        (pytest.approx(0.7), -0.2),
        (pytest.approx(0.3), 0.2),
    ]
    past = check("allocate-history", pas(home, "allocate", "--history", "--json").output)
    assert [(h["as_of"], h["method"]) for h in past] == [(AS_OF.isoformat(), "score")]
    assert "a 70.0%, b 30.0%" in pas(home, "allocate", "--history").output


def test_as_of_compares_with_the_allocation_applied_as_of_that_day(home: Path) -> None:
    # `--as-of D` compared with the allocation applied now, not with the one in effect on D
    with SqliteStore(home / "pas.db") as store:
        applied_at = datetime(2025, 6, 1, tzinfo=UTC)
        for day, weights in (
            (AS_OF - timedelta(days=10), {"a": 0.6, "b": 0.4}),
            (AS_OF, {"a": 0.9, "b": 0.1}),
        ):
            store.put_allocation(AppliedAllocation(day, applied_at, "equal", weights))

    def current(day: date) -> list[float | None]:
        shown = pas(home, "allocate", "--as-of", day.isoformat(), "--method", "equal", "--json")
        assert shown.exit_code == 0, shown.output
        return [p["current"] for p in check("allocate", shown.output)["portfolios"]]

    assert current(AS_OF - timedelta(days=5)) == [pytest.approx(0.6), pytest.approx(0.4)]
    assert current(AS_OF - timedelta(days=10)) == [pytest.approx(0.6), pytest.approx(0.4)]
    assert current(AS_OF) == [pytest.approx(0.9), pytest.approx(0.1)]
    assert current(AS_OF - timedelta(days=11)) == [None, None], "none was in effect yet"


def test_volatility_target_leaves_cash(home: Path) -> None:
    out = pas(
        home, "allocate", "--as-of", AS_OF.isoformat(), "--method", "equal", "--json", TARGET_VOL="0.05"
    )
    data = json.loads(out.output)
    assert data["exposure"] < 1 and data["ex_ante_vol"] == pytest.approx(0.05)
    assert data["portfolios"][0]["allocation"] == pytest.approx(0.5 * data["exposure"])


def test_bounds_that_cannot_be_met_exit_2(home: Path) -> None:
    result = pas(home, "allocate", MIN_ALLOCATION="0.6")
    assert result.exit_code == 2
    assert result.output.strip() == (
        "error: MIN_ALLOCATION 0.6 × 2 portfolios = 1.2 is more than 1; lower MIN_ALLOCATION to at most 0.5"
    )
    result = pas(home, "allocate", "--history", "--apply")
    assert (result.exit_code, result.output.strip()) == (
        2,
        "error: --history shows past allocations; drop --apply, --method and --as-of",
    )
    assert pas(home, "allocate", ALLOCATION_METHOD="best").exit_code == 2


def test_rebalance_sizes_capital_from_the_applied_allocation(home: Path) -> None:
    with SqliteStore(home / "pas.db") as store:
        store.put_allocation(
            AppliedAllocation(AS_OF, datetime(2026, 1, 5, tzinfo=UTC), "score", {"a": 0.7, "b": 0.3}, 1.0)
        )
    result = pas(home, "rebalance", "--all", "--json")
    assert result.exit_code == 0, result.output
    plans = {p["portfolio"]: p for p in json.loads(result.output)["plans"]}
    # SIM_CASH 100,000: a gets 70,000 (not its 10,000 of capital), b 30,000 (it has none).
    assert (Decimal(plans["a"]["equity"]), Decimal(plans["b"]["equity"])) == (70_000, 30_000)
    with SqliteStore(home / "pas.db") as store:
        assert store.holdings("a") == {"AAA": Decimal(3500)}
        assert store.holdings("b") == {"BBB": Decimal(750)}
        # The money the allocation moved is a cash flow, not a return: a's ledger equity
        # (10,000 of capital + flows) and b's (flows only) now equal what they were given.
        flows = {p: [(f.amount, f.note) for f in store.cash_flows(p)] for p in ("a", "b")}
        assert flows == {"a": [(Decimal(60_000), "allocation")], "b": [(Decimal(30_000), "allocation")]}
    again = pas(home, "rebalance", "--all", "--json")
    assert again.exit_code == 0, again.output
    with SqliteStore(home / "pas.db") as store:
        assert len(store.cash_flows("a")) == 1, "equity already matches: nothing more moves"


def test_a_portfolio_allocated_nothing_is_closed_and_gives_its_money_back(home: Path) -> None:
    assert pas(home, "rebalance", "-p", "a").exit_code == 0  # 10,000 of capital: 500 AAA
    with SqliteStore(home / "pas.db") as store:
        assert store.holdings("a") == {"AAA": Decimal(500)}
        store.put_allocation(AppliedAllocation(AS_OF, datetime(2026, 1, 5, tzinfo=UTC), "equal", {"a": 0.0}))
    result = pas(home, "rebalance", "-p", "a")
    assert result.exit_code == 0, result.output
    with SqliteStore(home / "pas.db") as store:
        assert store.holdings("a") == {}
        store.put_allocation(AppliedAllocation(AS_OF, datetime(2026, 1, 6, tzinfo=UTC), "equal", {"b": 1.0}))
    # Allocated nothing, a gave its 10,000 back as a cash flow; an allocation that no
    # longer names it leaves it with what it was last given: nothing to trade with.
    with SqliteStore(home / "pas.db") as store:
        assert sum(f.amount for f in store.cash_flows("a")) == Decimal(-10_000)
    result = pas(home, "rebalance", "-p", "a", "--json")
    assert (result.exit_code, result.output) == (
        2,
        "error: portfolio a has no equity to trade with; fund it with `pas portfolio fund a AMOUNT`\n",
    )
