"""Issue 12 through the CLI: an unknown order's exit codes and messages, and `--force`."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from pas.cli import app
from pas.commands import _wiring
from tests.fakes.alpaca import KEY_ID, SECRET, FakeAlpaca

runner = CliRunner()


@pytest.fixture
def fake() -> Iterator[FakeAlpaca]:
    with FakeAlpaca(clock=lambda: datetime.now(UTC)) as fake:
        fake.set_price("AAA", "10")
        yield fake


@pytest.fixture
def pas(fake: FakeAlpaca, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(_wiring, "pause", lambda seconds: None)
    env = {
        "PAS_HOME": str(tmp_path),
        "ALPACA_API_KEY": KEY_ID,
        "ALPACA_API_SECRET": SECRET,
        "ALPACA_BASE_URL": fake.url,
        "ALPACA_DATA_URL": fake.url,
        "FILL_TIMEOUT_SEC": "2",
    }

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args), env=env)

    assert invoke("portfolio", "add", "lobby", "--capital", "10000").exit_code == 0
    assert invoke("portfolio", "set-weights", "lobby", "AAA=0.4").exit_code == 0
    return invoke


def test_an_unknown_order_fails_the_run_and_blocks_the_next_until_sync_finds_it(
    pas,  # type: ignore[no-untyped-def]
    fake: FakeAlpaca,
    tmp_path: Path,
) -> None:
    fake.inject("submit", status=504, message="gateway timeout", after_create=True, lookups_fail=99)
    first = pas("rebalance", "-p", "lobby")
    assert first.exit_code == 1
    assert "error: 1 order(s) have an unknown fate at the broker (AAA: " in first.output
    assert (
        "pas never sends them again and plans nothing new until they are found or proven absent"
        in first.output
    )
    assert _run_states(tmp_path) == ["submitted"]  # unfinished while its order is in doubt
    blocked = pas("rebalance", "-p", "lobby")
    assert blocked.exit_code == 3
    assert "have an unknown fate at the broker" in blocked.output and "run `pas sync` later" in blocked.output
    down = pas("sync")  # the order service is down: sync says so and records nothing
    assert down.exit_code == 1 and down.output.endswith("(5 attempts); try again later\n")
    fake.lookup_outage = 0
    found = pas("sync", "--json")
    assert json.loads(found.output)["unknown"] == 0 and json.loads(found.output)["fills_recorded"] == 1
    assert fake.count("POST", "/v2/orders") == 1
    assert pas("reconcile").exit_code == 0
    assert _run_states(tmp_path) == ["done"]


def _run_states(home: Path) -> list[str]:
    with sqlite3.connect(home / "pas.db") as db:
        return [row[0] for row in db.execute("SELECT status FROM trade_runs ORDER BY created_at")]


def test_sync_counts_an_order_it_cannot_find_yet(pas, fake: FakeAlpaca) -> None:  # type: ignore[no-untyped-def]
    fake.inject("submit", status=503, message="service unavailable")  # never created
    assert pas("rebalance", "-p", "lobby").exit_code == 1
    stuck = pas("sync")
    assert stuck.exit_code == 0
    assert stuck.output == (
        "checked 1 order(s): recorded 0 new fill(s), 0 still open, 1 with an unknown fate "
        "(never re-sent; the next sync looks them up again)\n"
    )
    assert fake.count("POST", "/v2/orders") == 1


def test_differences_refuse_with_exit_3_and_force_is_recorded(pas, fake: FakeAlpaca) -> None:  # type: ignore[no-untyped-def]
    assert pas("rebalance", "-p", "lobby").exit_code == 0
    fake.positions["AAA"] += Decimal(5)
    assert pas("portfolio", "set-weights", "lobby", "AAA=0.5").exit_code == 0
    refused = pas("rebalance", "-p", "lobby")
    assert (refused.exit_code, refused.output) == (
        3,
        "error: the ledgers differ from the broker's positions for AAA (ledgers 400, broker 405) "
        "even after a sync; see `pas reconcile`, fix the ledgers, or pass --force to trade anyway\n",
    )
    forced = pas("rebalance", "-p", "lobby", "--force", "--json")
    assert forced.exit_code == 0, forced.output
    assert json.loads(forced.output)["forced_differences"] == {"AAA": "5"}
    jobs = json.loads(pas("jobs", "--json").output)
    latest = next(j for j in jobs if j["command"] == "rebalance")
    assert latest["details"]["force"] is True and latest["details"]["forced_differences"] == {"AAA": "5"}
