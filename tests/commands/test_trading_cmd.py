"""``pas rebalance``, ``pas sync``, ``pas reconcile`` and ``pas portfolio fund`` end to end (Sim broker)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pas.cli import app
from pas.models import Price
from pas.store.sqlite import SqliteStore
from tests.commands.test_json_conventions import check
from tests.fakes import crash_after_submits
from tests.fakes.crash_after_submits import CRASH_EXIT_CODE

CRASH_ENTRY = Path(crash_after_submits.__file__)

# Closes of fixed days long past, on the real clock (staleness: test_stale_data.py).
pytestmark = pytest.mark.usefixtures("closes_of_long_ago")

runner = CliRunner()


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"PAS_HOME": str(tmp_path), "PAS_BROKER": "sim", "SIM_MARKET": "always", **extra}


def pas(tmp_path: Path, *args: str, **extra: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), env=_env(tmp_path, **extra))


@pytest.fixture
def home(tmp_path: Path) -> Path:
    with SqliteStore(tmp_path / "pas.db") as store:
        store.upsert_prices(
            [Price("AAA", date(2020, 1, 2), Decimal(10)), Price("BBB", date(2020, 1, 2), Decimal(20))]
        )
    assert pas(tmp_path, "portfolio", "add", "lobby", "--capital", "10000").exit_code == 0
    assert pas(tmp_path, "portfolio", "add", "gov").exit_code == 0
    assert pas(tmp_path, "portfolio", "fund", "gov", "5000").exit_code == 0
    assert pas(tmp_path, "portfolio", "set-weights", "lobby", "AAA=0.4", "BBB=0.3").exit_code == 0
    assert pas(tmp_path, "portfolio", "set-weights", "gov", "AAA=0.2").exit_code == 0
    return tmp_path


def test_fund_deposits_and_withdraws(home: Path) -> None:
    result = pas(home, "portfolio", "fund", "gov", "250.5", "--withdraw")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "withdrew 250.50 for gov; funded total 4,749.50"
    result = pas(home, "portfolio", "fund", "gov", "--", "-10000")
    assert result.exit_code == 2
    assert (
        "error: portfolio gov has only 4,749.50 dollars of cash; sell first or withdraw less" in result.output
    )


def test_dry_run_shows_the_plan_and_sends_nothing(home: Path) -> None:
    result = pas(home, "rebalance", "--all", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Plan (dry run: nothing sent)" in result.output
    assert "weight 0.0% -> target 40.0%" in result.output
    assert "│ lobby     │ AAA    │ buy  │      400 │ 4,000.00 │" in result.output
    synced = pas(home, "reconcile")
    assert synced.output.strip() == "ledgers match the broker: 0 symbol(s)"


def test_rebalance_nets_fills_and_reconciles(home: Path) -> None:
    result = pas(home, "rebalance", "--all", "--json")
    assert result.exit_code == 0, result.output
    out = check("rebalance", result.output)
    assert [(o["symbol"], o["status"], o["shares"]) for o in out["orders"]] == [
        ("AAA", "settled", {"gov": "100", "lobby": "400"}),
        ("BBB", "settled", {"lobby": "150"}),
    ]
    assert out["orders"][0]["client_order_id"].endswith("-net-AAA")
    positions = json.loads(pas(home, "positions", "gov", "--json").output)
    assert [(p["symbol"], Decimal(p["qty"])) for p in positions["positions"]] == [("AAA", 100)]
    assert pas(home, "reconcile").exit_code == 0
    assert pas(home, "sync").output.strip() == "checked 0 order(s): recorded 0 new fill(s), 0 still open"


def test_refusals_and_usage_errors_have_exit_codes(home: Path) -> None:
    closed = pas(home, "rebalance", "-p", "lobby", SIM_MARKET="closed")
    assert closed.exit_code == 3
    assert "error: the market is closed" in closed.output
    big = pas(home, "rebalance", "-p", "lobby", MAX_POSITION_WEIGHT="0.3")
    assert big.exit_code == 3
    assert "error: portfolio lobby would hold 40.0% in AAA, above MAX_POSITION_WEIGHT (30.0%)" in big.output
    neither = pas(home, "rebalance")
    assert neither.exit_code == 2
    assert (
        neither.output.strip() == "error: name the portfolios with --portfolio ID (repeatable) or pass --all"
    )
    alpaca = pas(home, "rebalance", "--all", "--broker", "alpaca")
    assert alpaca.exit_code == 2
    assert alpaca.output.strip() == (
        "error: Alpaca needs ALPACA_API_KEY and ALPACA_API_SECRET; set both in the environment or .env"
    )


def test_a_held_lock_exits_4(home: Path) -> None:
    with SqliteStore(home / "pas.db") as store:
        store.acquire_lock("trading", "otherhost:1", 600)
    result = pas(home, "rebalance", "--all")
    assert result.exit_code == 4
    assert re.fullmatch(
        r"error: another trading run \(otherhost:1\) holds the trading lock until "
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC; wait for it to finish and run again\n",
        result.output,
    ), result.output


def test_reconcile_reports_every_difference_and_exits_1(home: Path) -> None:
    assert pas(home, "rebalance", "--all").exit_code == 0
    from pas.models import Fill, Side

    with SqliteStore(home / "pas.db") as store:
        when = datetime(2026, 1, 5, tzinfo=UTC)
        store.append_fills([Fill("gov", "AAA", Side.SELL, Decimal(30), Decimal(10), when, "manual-1")])
    result = pas(home, "reconcile")
    assert result.exit_code == 1
    assert "│ AAA    │     470 │    500 │               30 │" in result.output
    assert "error: 1 symbol(s) differ between the ledgers and the broker" in result.output


@pytest.mark.slow
def test_a_killed_process_resumes_its_run_without_sending_twice(home: Path) -> None:
    env = {**os.environ, **_env(home)}
    crashing = [sys.executable, str(CRASH_ENTRY), "1", "rebalance", "--all"]
    crashed = subprocess.run(crashing, env=env, capture_output=True, text=True, timeout=60)
    assert crashed.returncode == CRASH_EXIT_CODE, crashed.stderr
    with SqliteStore(home / "pas.db") as store:
        assert len(store.sim_orders()) == 1
        (run,) = [store.unfinished_trade_run("sim")]
        assert run is not None
    cmd = [sys.executable, "-c", "from pas.cli import main; main()", "rebalance", "--all"]
    resumed = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resumed unfinished run {run.run_id}" in resumed.stdout
    with SqliteStore(home / "pas.db") as store:
        # the order in flight settled; the unsent BBB was dropped and planned afresh
        aaa, bbb = sorted((o.client_order_id for o in store.sim_orders()), key=lambda c: c[-3:])
        assert aaa == f"pas-{run.run_id}-net-AAA"
        assert bbb.endswith("-lobby-BBB") and not bbb.startswith(f"pas-{run.run_id}")
        assert store.holdings("lobby") == {"AAA": Decimal(400), "BBB": Decimal(150)}
        assert store.holdings("gov") == {"AAA": Decimal(100)}
    assert pas(home, "reconcile").exit_code == 0
