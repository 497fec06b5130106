"""``pas rebalance``, ``pas sync`` and ``pas reconcile`` through the CLI against the fake Alpaca.

The fake serves on 127.0.0.1 and the settings point at it; ``pas.commands._wiring.pause``
is replaced by a recorder, so no test sleeps (fill polls and retry waits are recorded).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from pas.cli import app
from pas.commands import _wiring
from pas.portfolio.trading.sync import SYNC_OVERLAP
from pas.store.sqlite import SqliteStore
from tests.commands.test_json_conventions import check
from tests.fakes.alpaca import BUYING_POWER, DUPLICATE, KEY_ID, SECRET, FakeAlpaca, fake_alpaca

__all__ = ["fake_alpaca"]

runner = CliRunner()
Pas = Callable[..., Result]


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every pause a trading command takes (fill polls and retry waits), none slept."""
    slept: list[float] = []
    monkeypatch.setattr(_wiring, "pause", slept.append)
    return slept


def _env(fake: FakeAlpaca, home: Path) -> dict[str, str]:
    return {
        "PAS_HOME": str(home),
        "ALPACA_API_KEY": KEY_ID,
        "ALPACA_API_SECRET": SECRET,
        "ALPACA_BASE_URL": fake.url,
        "ALPACA_DATA_URL": fake.url,
        "FILL_TIMEOUT_SEC": "3",
    }


@pytest.fixture
def pas(fake_alpaca: FakeAlpaca, tmp_path: Path, waits: list[float]) -> Pas:
    """``pas ARGS`` against the fake, with lobby (AAA 40%, BBB 30% of 10,000) and gov
    (AAA 20% of 5,000) set up."""
    fake_alpaca.clock = lambda: datetime.now(UTC)  # fills are looked up from the run's start
    fake_alpaca.set_price("AAA", "10")
    fake_alpaca.set_price("BBB", "20")

    def invoke(*args: str, **extra: str) -> Result:
        return runner.invoke(app, list(args), env={**_env(fake_alpaca, tmp_path), **extra})

    for args in (
        ("portfolio", "add", "lobby", "--capital", "10000"),
        ("portfolio", "add", "gov", "--capital", "5000"),
        ("portfolio", "set-weights", "lobby", "AAA=0.4", "BBB=0.3"),
        ("portfolio", "set-weights", "gov", "AAA=0.2"),
    ):
        assert invoke(*args).exit_code == 0
    return invoke


def _holdings(home: Path, portfolio: str) -> dict[str, Decimal]:
    with SqliteStore(home / "pas.db") as store:
        return store.holdings(portfolio)


def _posted(fake: FakeAlpaca) -> list[str]:
    return [r.body["client_order_id"] for r in fake.logged("/v2/orders") if r.method == "POST"]


def _run_id(result: Result) -> str:
    return str(json.loads(result.output)["run_id"])


def test_two_portfolios_share_one_order_per_symbol_and_reconcile(
    pas: Pas, fake_alpaca: FakeAlpaca, tmp_path: Path
) -> None:
    result = pas("rebalance", "--all", "--json")
    assert result.exit_code == 0, result.output
    run = _run_id(result)
    # one netted order for AAA (both portfolios), one for lobby's BBB; ids are derived from the run
    assert _posted(fake_alpaca) == [f"pas-{run}-net-AAA", f"pas-{run}-lobby-BBB"]
    assert all(len(c) <= 48 for c in _posted(fake_alpaca))
    assert [r.body["qty"] for r in fake_alpaca.logged("/v2/orders") if r.method == "POST"] == ["500", "150"]
    assert _holdings(tmp_path, "lobby") == {"AAA": Decimal(400), "BBB": Decimal(150)}
    assert _holdings(tmp_path, "gov") == {"AAA": Decimal(100)}
    clean = pas("reconcile")
    assert (clean.exit_code, clean.output) == (0, "ledgers match the broker: 2 symbol(s)\n")

    # lobby now sells AAA while gov buys it: one order for the residual, no wash trade
    assert pas("portfolio", "set-weights", "lobby", "AAA=0.1", "BBB=0.3").exit_code == 0
    assert pas("portfolio", "set-weights", "gov", "AAA=0.45").exit_code == 0
    second = pas("rebalance", "--all", "--json")
    assert second.exit_code == 0, second.output
    (order,) = json.loads(second.output)["orders"]
    assert (order["symbol"], order["side"], order["qty"]) == ("AAA", "sell", "175")
    assert order["crosses"] == {"gov": "125", "lobby": "-125"}
    assert order["status"] == "settled"
    assert _posted(fake_alpaca)[2:] == [f"pas-{_run_id(second)}-net-AAA"]
    assert _holdings(tmp_path, "lobby") == {"AAA": Decimal(100), "BBB": Decimal(150)}
    assert _holdings(tmp_path, "gov") == {"AAA": Decimal(225)}
    assert pas("reconcile").exit_code == 0


def test_long_ids_still_give_short_deterministic_client_order_ids(pas: Pas, fake_alpaca: FakeAlpaca) -> None:
    long_id, long_symbol = "senate-banking-x", "WARRANTS.UNITS"  # 16 and 14: too long together
    fake_alpaca.set_price(long_symbol, "5")
    assert pas("portfolio", "add", long_id, "--capital", "1000").exit_code == 0
    assert pas("portfolio", "set-weights", long_id, f"{long_symbol}=0.5").exit_code == 0
    result = pas("rebalance", "-p", long_id, "--json")
    assert result.exit_code == 0, result.output
    run = _run_id(result)
    digest = hashlib.sha256(f"{long_id}|{long_symbol}".encode()).hexdigest()
    assert _posted(fake_alpaca) == [f"pas-{run}-{digest[:27]}"]
    assert len(_posted(fake_alpaca)[0]) == 48
    assert json.loads(result.output)["orders"][0]["client_order_id"] == _posted(fake_alpaca)[0]


def test_lost_responses_are_looked_up_and_never_sent_twice(
    pas: Pas, fake_alpaca: FakeAlpaca, tmp_path: Path
) -> None:
    # AAA: the order is created but the answer comes after the client gave up;
    # BBB: created, then a gateway 504 instead of the answer.
    fake_alpaca.inject("submit", delay=1.0, after_create=True)
    fake_alpaca.inject("submit", status=504, after_create=True, message="gateway timeout")
    result = pas("rebalance", "--all", "--json", ALPACA_TIMEOUT_SEC="0.3")
    assert result.exit_code == 0, result.output
    run = _run_id(result)
    assert _posted(fake_alpaca) == [f"pas-{run}-net-AAA", f"pas-{run}-lobby-BBB"]
    lookups = [r.query["client_order_id"] for r in fake_alpaca.logged("/v2/orders:by_client_order_id")]
    assert lookups == [f"pas-{run}-net-AAA", f"pas-{run}-lobby-BBB"]
    assert len(fake_alpaca.orders) == 2
    assert _holdings(tmp_path, "lobby") == {"AAA": Decimal(400), "BBB": Decimal(150)}
    assert pas("reconcile").exit_code == 0


def test_a_duplicate_client_order_id_is_answered_by_a_lookup(pas: Pas, fake_alpaca: FakeAlpaca) -> None:
    fake_alpaca.inject("submit", status=422, message=DUPLICATE, after_create=True)
    result = pas("rebalance", "-p", "gov", "--json")
    assert result.exit_code == 0, result.output
    assert fake_alpaca.count("POST", "/v2/orders") == 1
    assert fake_alpaca.count("GET", "/v2/orders:by_client_order_id") == 1
    assert json.loads(result.output)["orders"][0]["status"] == "settled"


def test_server_errors_and_rate_limits_on_reads_are_retried(
    pas: Pas, fake_alpaca: FakeAlpaca, waits: list[float]
) -> None:
    fake_alpaca.inject("account", status=500)
    fake_alpaca.inject("clock", status=502, message="bad gateway")
    fake_alpaca.inject("trades_latest", status=503, message="unavailable")
    fake_alpaca.inject("asset", status=429, message="too many requests", headers={"Retry-After": "3"})
    result = pas("rebalance", "-p", "gov")
    assert result.exit_code == 0, result.output
    assert fake_alpaca.count("GET", "/v2/account") == 2
    assert fake_alpaca.count("GET", "/v2/clock") == 2
    assert fake_alpaca.count("GET", "/v2/stocks/trades/latest") == 2
    assert fake_alpaca.count("GET", "/v2/assets/AAA") == 2
    assert 3.0 in waits  # Retry-After honoured (through the seam, not slept)
    reset = int(time.time()) + 2
    fake_alpaca.inject("positions", status=429, headers={"X-Ratelimit-Reset": str(reset)}, times=2)
    waits.clear()
    before = fake_alpaca.count("GET", "/v2/positions")  # the rebalance reconciled once
    assert pas("reconcile").exit_code == 0
    assert fake_alpaca.count("GET", "/v2/positions") == before + 3
    assert len(waits) == 2 and all(0 < w <= 2 for w in waits)


def test_partial_fills_are_recorded_and_sync_records_the_rest_once(
    pas: Pas, fake_alpaca: FakeAlpaca, tmp_path: Path, waits: list[float]
) -> None:
    fake_alpaca.fill_mode = "partial"
    result = pas("rebalance", "--all")
    assert result.exit_code == 0, result.output
    assert waits == [1.0, 1.0, 1.0]  # FILL_TIMEOUT_SEC 3 at FILL_POLL_SEC 1, none slept
    assert "Still open at the broker after 3 s (left open)" in result.output
    assert "│ AAA    │ buy  │      500 │ pas-" in result.output
    assert "partially_filled │" in result.output
    assert "2 order(s) still open; run `pas sync` later to record their fills" in result.output
    assert _holdings(tmp_path, "lobby") == {"AAA": Decimal(200), "BBB": Decimal(75)}
    assert _holdings(tmp_path, "gov") == {"AAA": Decimal(50)}

    blocked = pas("rebalance", "--all")
    assert blocked.exit_code == 3
    assert "error: 2 order(s) of run" in blocked.output and "are still open at the broker" in blocked.output

    fake_alpaca.fill_open()  # the rest arrives after rebalance has exited
    first = pas("sync")
    assert (first.exit_code, first.output) == (
        0,
        "checked 2 order(s): recorded 3 new fill(s), 0 still open\n",
    )
    again = pas("sync")
    assert again.output == "checked 0 order(s): recorded 0 new fill(s), 0 still open\n"
    assert _holdings(tmp_path, "lobby") == {"AAA": Decimal(400), "BBB": Decimal(150)}
    assert _holdings(tmp_path, "gov") == {"AAA": Decimal(100)}
    assert pas("reconcile").exit_code == 0


def test_rejected_and_expired_orders_are_reported(pas: Pas, fake_alpaca: FakeAlpaca) -> None:
    fake_alpaca.fill_modes.update({"AAA": "reject", "BBB": "expire"})
    result = pas("rebalance", "--all")
    assert result.exit_code == 1
    assert "│ rejected │" in result.output and "│ expired  │" in result.output
    assert result.output.endswith(
        "error: 2 order(s) ended at the broker before filling in full (AAA rejected, BBB expired); "
        "what filled is recorded; run `pas rebalance` again to trade the rest\n"
    )
    assert pas("reconcile").exit_code == 0


def test_a_closed_market_refuses_unless_queued(pas: Pas, fake_alpaca: FakeAlpaca, tmp_path: Path) -> None:
    fake_alpaca.market_open = False
    closed = pas("rebalance", "--all")
    assert closed.exit_code == 3
    assert "error: the market is closed (it opens " in closed.output
    assert "run again then, or pass --queue to send the orders now" in closed.output
    assert fake_alpaca.count("POST", "/v2/orders") == 0
    queued = pas("rebalance", "--all", "--queue", "--timeout", "0")
    assert queued.exit_code == 0, queued.output
    assert "2 order(s) still open; run `pas sync` later" in queued.output
    fake_alpaca.open_market()
    synced = pas("sync")
    assert synced.output == "checked 2 order(s): recorded 3 new fill(s), 0 still open\n"
    assert _holdings(tmp_path, "gov") == {"AAA": Decimal(100)}


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (
            lambda f: setattr(f, "trading_blocked", True),
            "error: the broker account is blocked from trading; resolve it with the broker first\n",
        ),
        (
            lambda f: f.set_asset("BBB", tradable=False),
            "error: BBB cannot be traded at the broker; remove them from the targets\n",
        ),
        (
            lambda f: setattr(f, "cash", Decimal("1000")),
            "error: the orders need about $8,000.00 of buying power but the account has $1,000.00; "
            "deposit at the broker or lower the portfolios' capital\n",
        ),
    ],
    ids=["blocked", "untradable", "buying-power"],
)
def test_pre_trade_refusals_exit_3_and_send_nothing(
    pas: Pas, fake_alpaca: FakeAlpaca, setup: Callable[[FakeAlpaca], Any], message: str
) -> None:
    setup(fake_alpaca)
    result = pas("rebalance", "--all")
    assert (result.exit_code, result.output) == (3, message)
    assert fake_alpaca.count("POST", "/v2/orders") == 0


def test_a_buying_power_refusal_at_submit_is_a_clear_error(pas: Pas, fake_alpaca: FakeAlpaca) -> None:
    fake_alpaca.inject("submit", status=403, message=BUYING_POWER)
    result = pas("rebalance", "-p", "gov")
    assert result.exit_code == 1
    assert result.output.endswith(
        "error: 1 order(s) failed (AAA: Alpaca rejected the order (HTTP 403: insufficient buying power)); "
        "fix the cause and run `pas rebalance` again\n"
    )
    assert fake_alpaca.count("POST", "/v2/orders") == 1


def test_reconcile_lists_differences_and_exits_1(pas: Pas, fake_alpaca: FakeAlpaca) -> None:
    assert pas("rebalance", "--all").exit_code == 0
    fake_alpaca.positions["AAA"] += 5
    fake_alpaca.positions["CCC"] = Decimal(2)
    fake_alpaca.set_price("CCC", "1")
    result = pas("reconcile")
    assert result.exit_code == 1
    assert "│ AAA    │     500 │    505 │                5 │" in result.output
    assert "│ CCC    │       0 │      2 │                2 │" in result.output
    assert result.output.endswith(
        "error: 2 symbol(s) differ between the ledgers and the broker; run `pas sync`, "
        "then check the broker's activity for trades pas did not make\n"
    )


def test_sync_reads_from_its_cursor_and_reports_fills_pas_did_not_place(
    pas: Pas, fake_alpaca: FakeAlpaca, tmp_path: Path
) -> None:
    assert pas("rebalance", "--all").exit_code == 0
    body = {"symbol": "BBB", "qty": "3", "side": "buy", "type": "market", "client_order_id": "by-hand-1"}
    with fake_alpaca.lock:
        fake_alpaca.handle("POST", "/v2/orders", {}, body)
    result = pas("sync", "--json")
    assert result.exit_code == 0, result.output
    out = check("sync", result.stdout)
    assert (out["checked"], out["fills_recorded"]) == (0, 0)
    assert [(f["client_order_id"], f["symbol"], f["qty"]) for f in out["foreign_fills"]] == [
        ("by-hand-1", "BBB", "3")
    ]
    first_after = fake_alpaca.logged("/v2/account/activities/FILL")[-1].query["after"]
    assert _holdings(tmp_path, "lobby") == {"AAA": Decimal(400), "BBB": Decimal(150)}
    with SqliteStore(tmp_path / "pas.db") as store:
        cursor = store.sync_cursor("alpaca")
    assert cursor is not None and cursor[1] == fake_alpaca.activities[-1]["id"]

    again = pas("sync")
    assert again.output == "checked 0 order(s): recorded 0 new fill(s), 0 still open\n"  # reported once
    second_after = fake_alpaca.logged("/v2/account/activities/FILL")[-1].query["after"]
    # the first sync had no cursor (it looked back SYNC_OVERLAP); the second reads from it
    assert second_after == (cursor[0] - SYNC_OVERLAP).isoformat().replace("+00:00", "Z")
    assert second_after != first_after
    differ = pas("reconcile")
    assert differ.exit_code == 1
    assert "│ BBB    │     150 │    153 │                3 │" in differ.output
    as_json = pas("reconcile", "--json")
    assert as_json.exit_code == 1
    found = check("reconcile", as_json.stdout)
    assert found["differences"] == [{"symbol": "BBB", "ledgers": "150", "broker": "153", "gap": "3"}]
    assert found["ledgers"] == {"AAA": "500", "BBB": "150"}


def test_sync_table_names_foreign_fills(pas: Pas, fake_alpaca: FakeAlpaca) -> None:
    body = {"symbol": "AAA", "qty": "2", "side": "buy", "type": "market", "client_order_id": "by-hand-2"}
    with fake_alpaca.lock:
        fake_alpaca.handle("POST", "/v2/orders", {}, body)
    result = pas("sync")
    assert result.exit_code == 0, result.output
    assert "Fills of orders pas did not place (recorded in no portfolio)" in result.output
    assert "│ AAA    │ buy  │        2 │ 10.00 │ by-hand-2       │" in result.output
    assert "1 fill(s) of orders placed outside pas; `pas reconcile` will show them" in result.output


@pytest.mark.slow
def test_a_killed_process_resumes_its_run_without_sending_twice(
    pas: Pas, fake_alpaca: FakeAlpaca, tmp_path: Path
) -> None:
    # The first order reaches Alpaca, whose answer is held back; the process is killed
    # (SIGKILL) while it waits, so its store says "sending" and nothing more.
    fake_alpaca.inject("submit", delay=30.0, after_create=True)
    env = {**os.environ, **_env(fake_alpaca, tmp_path)}
    cmd = [str(Path(sys.executable).parent / "pas"), "rebalance", "--all"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not fake_alpaca.orders:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the subprocess never sent an order"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    with SqliteStore(tmp_path / "pas.db") as store:
        run = store.unfinished_trade_run()
        assert run is not None
        assert [o.status.value for o in store.trade_orders(run.run_id)] == ["sending", "planned"]
    assert _holdings(tmp_path, "lobby") == {}

    resumed = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resumed unfinished run {run.run_id}" in resumed.stdout
    with SqliteStore(tmp_path / "pas.db") as store:
        (new_run,) = [r for r in {o.run_id for o in store.trade_orders()} if r != run.run_id]
    # the order in flight was found, not resent; the unsent BBB is planned afresh by the new run
    coids = [f"pas-{run.run_id}-net-AAA", f"pas-{new_run}-lobby-BBB"]
    assert _posted(fake_alpaca) == coids  # each client order id POSTed once
    lookups = [r.query["client_order_id"] for r in fake_alpaca.logged("/v2/orders:by_client_order_id")]
    assert lookups == [coids[0]]
    assert _holdings(tmp_path, "lobby") == {"AAA": Decimal(400), "BBB": Decimal(150)}
    assert _holdings(tmp_path, "gov") == {"AAA": Decimal(100)}
    assert pas("reconcile").exit_code == 0
