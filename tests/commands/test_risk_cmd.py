"""``pas risk`` and the circuit breaker's refusal through ``pas rebalance --broker sim``."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pas.cli import app
from pas.models import DailyMetric, Price
from pas.store.sqlite import SqliteStore
from tests.commands.test_json_conventions import check

# Closes of fixed days long past, on the real clock (staleness: test_stale_data.py).
pytestmark = pytest.mark.usefixtures("closes_of_long_ago")

runner = CliRunner()


def pas(home: Path, *args: str, **extra: str):  # type: ignore[no-untyped-def]
    env = {"PAS_HOME": str(home), "PAS_BROKER": "sim", "SIM_MARKET": "always", **extra}
    return runner.invoke(app, list(args), env=env)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    with SqliteStore(tmp_path / "pas.db") as store:
        store.upsert_prices(
            [Price("AAA", date(2020, 1, 2), Decimal(10)), Price("BBB", date(2020, 1, 2), Decimal(20))]
        )
    assert pas(tmp_path, "portfolio", "add", "lobby", "--capital", "10000").exit_code == 0
    assert pas(tmp_path, "portfolio", "add", "gov", "--capital", "5000").exit_code == 0
    assert pas(tmp_path, "portfolio", "set-weights", "lobby", "AAA=0.4", "BBB=0.3").exit_code == 0
    assert pas(tmp_path, "portfolio", "set-weights", "gov", "AAA=0.2").exit_code == 0
    return tmp_path


REFUSAL = re.compile(
    r"error: circuit breaker tripped since \d{4}-\d\d-\d\d \d\d:\d\d UTC: account equity fell 30\.0% "
    r"below its high-water mark \$100,000\.00 \(BREAKER_MAX_DRAWDOWN 20%\); inspect with `pas risk "
    r"status`, clear with `pas risk reset --reason TEXT`"
)


def test_breaker_trips_refuses_with_exit_3_and_resets_with_a_reason(home: Path) -> None:
    assert pas(home, "rebalance", "--all").exit_code == 0  # observes $100,000: the high-water mark
    status = json.loads(pas(home, "risk", "status", "--json").output)
    assert (status["tripped"], Decimal(status["high_water_mark"])) == (False, 100_000)
    # Less cash at the (simulated) broker: the account equity falls to $70,000, 30% below.
    refused = pas(home, "rebalance", "--all", SIM_CASH="70000")
    assert refused.exit_code == 3
    assert REFUSAL.search(refused.output), refused.output
    dry = pas(home, "rebalance", "--all", "--dry-run", SIM_CASH="70000")
    assert dry.exit_code == 3
    assert REFUSAL.search(dry.output)
    with SqliteStore(home / "pas.db") as store:
        assert store.sim_orders() and len(store.sim_orders()) == 2  # only the first run's orders
    shown = pas(home, "risk", "status")
    assert shown.exit_code == 0
    assert "circuit breaker TRIPPED since" in shown.output
    assert "│ high-water mark        │ 100,000.00 │" in shown.output
    assert pas(home, "risk", "reset").exit_code == 2
    blank = pas(home, "risk", "reset", "--reason", "  ")
    assert (blank.exit_code, blank.output) == (
        2,
        "error: a reset needs a reason: pas risk reset --reason TEXT\n",
    )
    reset = pas(home, "risk", "reset", "--reason", "cash moved out on purpose", "--rebase-high-water-mark")
    assert reset.exit_code == 0, reset.output
    assert reset.output == (
        "cleared the tripped circuit breaker (reason: cash moved out on purpose)\n"
        "high-water mark rebased from 100,000.00 to 70,000.00\n"
    )
    assert pas(home, "rebalance", "--all", SIM_CASH="70000").exit_code == 0
    jobs = [
        j for j in json.loads(pas(home, "jobs", "--json").output) if not j["command"].startswith("portfolio")
    ]
    assert [(j["command"], j["status"]) for j in reversed(jobs)] == [
        ("rebalance", "ok"),
        ("rebalance", "refused"),
        ("risk trip", "refused"),  # recorded during the refused rebalance run
        ("rebalance", "refused"),
        ("risk reset", "ok"),
        ("rebalance", "ok"),
    ]
    assert jobs[1]["details"]["reason"] == "cash moved out on purpose"
    assert Decimal(jobs[1]["details"]["previous_high_water_mark"]) == 100_000


def test_reset_answers_in_json(home: Path) -> None:
    assert pas(home, "rebalance", "--all").exit_code == 0  # observes $100,000: the high-water mark
    assert pas(home, "rebalance", "--all", SIM_CASH="70000").exit_code == 3
    reset = pas(home, "risk", "reset", "--reason", "reviewed", "--rebase-high-water-mark", "--json")
    assert reset.exit_code == 0, reset.output
    shown = check("risk-reset", reset.stdout)
    assert (shown["was_tripped"], shown["rebased"]) == (True, True)
    assert shown["previous_high_water_mark"] == "100000"
    breaker = shown["breaker"]
    assert (breaker["tripped"], breaker["high_water_mark"]) == (False, "70000")
    assert breaker["reset_reason"] == "reviewed"
    (run,) = [j for j in json.loads(pas(home, "jobs", "--json").output) if j["command"] == "risk reset"]
    assert run["run_id"] == shown["run_id"]


def test_breaker_settings_are_validated_and_can_be_off(home: Path) -> None:
    bad = pas(home, "risk", "status", BREAKER_MAX_DRAWDOWN="1.5")
    assert bad.exit_code == 2
    assert bad.output == (
        "error: BREAKER_MAX_DRAWDOWN must be a fraction of equity in (0, 1] such as 0.2, "
        "or 0 / off to disable it, got '1.5'\n"
    )
    assert pas(home, "rebalance", "--all").exit_code == 0
    off = pas(home, "rebalance", "--all", SIM_CASH="70000", BREAKER_MAX_DRAWDOWN="off")
    assert off.exit_code == 0, off.output
    status = json.loads(pas(home, "risk", "status", "--json", BREAKER_MAX_DRAWDOWN="off").output)
    assert (status["tripped"], status["max_drawdown"], status["max_daily_loss"]) == (False, 0.0, 0.05)


def test_status_update_observes_the_brokers_equity(home: Path) -> None:
    result = pas(home, "risk", "status", "--update", "--json")
    assert result.exit_code == 0, result.output
    assert Decimal(json.loads(result.output)["last_equity"]) == 100_000


def test_exposure_per_portfolio_and_account(home: Path) -> None:
    assert pas(home, "rebalance", "--all").exit_code == 0
    out = json.loads(pas(home, "risk", "exposure", "lobby", "--json").output)
    (lobby,) = out
    assert (lobby["equity"], lobby["cash"]) == ("10000", "3000")
    assert (lobby["gross"], lobby["net"], lobby["long"], lobby["cash_fraction"]) == (0.7, 0.7, 0.7, 0.3)
    assert lobby["herfindahl"] == pytest.approx(25 / 49)  # (4/7)² + (3/7)²
    assert [h["symbol"] for h in lobby["largest"]] == ["AAA", "BBB"]
    table = pas(home, "risk", "exposure")
    assert table.exit_code == 0
    # Account: AAA 5,000 + BBB 3,000 of 15,000.
    assert (
        "│ account │ 15,000.00 │ 46.7% │ 53.3% │ 53.3% │ 53.3% │ 53.3% │ 0.531 │         2 │" in table.output
    )
    assert "Largest positions of account" in table.output
    missing = pas(home, "risk", "exposure", "nope")
    assert (missing.exit_code, missing.output) == (
        2,
        "error: no portfolio 'nope' (see `pas portfolio list`)\n",
    )


def test_var_realised_and_holdings_including_a_position_without_metrics(home: Path) -> None:
    assert pas(home, "rebalance", "--all").exit_code == 0
    today = date.today()
    with SqliteStore(home / "pas.db") as store:
        days = [today - timedelta(days=d) for d in range(30, 0, -1)]
        store.upsert_prices(Price("AAA", d, Decimal(10 + (i % 3))) for i, d in enumerate(days))
        store.upsert_prices([Price("BBB", d, Decimal(20)) for d in days])
        rets = [0.01, -0.02, 0.005, -0.04, 0.03, -0.01, 0.0, 0.02, -0.03, 0.015, -0.005]
        store.put_daily_metrics([DailyMetric("lobby", days[i], r) for i, r in enumerate(rets)])
    result = pas(home, "risk", "var", "--confidence", "0.95", "--json")
    assert result.exit_code == 0, result.output
    rows = {(r["book"], r["source"]): r for r in json.loads(result.output)}
    assert set(rows) == {
        ("lobby", "realised"),
        ("lobby", "holdings"),
        ("gov", "realised"),
        ("gov", "holdings"),
        ("account", "holdings"),
    }
    assert rows["lobby", "realised"]["var"] == pytest.approx(0.035)
    # Of today's equity: cash 3,000 + 400 AAA at the latest close 12 + 150 BBB at 20.
    # Dollars are decimal strings, as every money figure in --json (10⁻⁹ at most).
    assert rows["lobby", "realised"]["var_dollars"] == "378"
    # gov has no daily metrics yet, but its AAA position already carries risk from the closes.
    assert rows["gov", "realised"]["var"] is None and rows["gov", "realised"]["observations"] == 0
    assert rows["gov", "holdings"]["var_dollars"] == "200"  # 100 shares, worst move -2
    assert rows["account", "holdings"]["var_dollars"] == "1000"  # 500 AAA × -2
    ten = json.loads(pas(home, "risk", "var", "--confidence", "0.95", "--days", "10", "--json").output)
    assert ten[2]["book"] == "lobby" and ten[2]["var"] == pytest.approx(0.035 * 10**0.5)
    table = pas(home, "risk", "var", "gov")
    assert table.exit_code == 0
    assert "│ gov  │ holdings │ 99%        │        29 │ 3.8% │ 200.00 │ 3.8% │ 200.00 │" in table.output
    bad = pas(home, "risk", "var", "--confidence", "95")
    assert bad.exit_code == 2
    assert bad.output == "error: confidence must be between 0 and 1 (such as 0.95 or 0.99), got 95.0\n"
