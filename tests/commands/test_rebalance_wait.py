"""Feedback while `pas rebalance` waits (issue 15): a spinner with the orders sent, settled
and open on a terminal only, and one line saying where the run stands on Ctrl-C."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner, Result

from pas import workflows
from pas.cli import app
from pas.commands import _wiring
from pas.commands._waiting import wait_display
from pas.portfolio.trading.progress import RunProgress
from pas.store.sqlite import SqliteStore
from tests.fakes.alpaca import KEY_ID, SECRET, FakeAlpaca, fake_alpaca

__all__ = ["fake_alpaca"]

runner = CliRunner()
Pas = Callable[..., Result]


@pytest.fixture
def pas(fake_alpaca: FakeAlpaca, tmp_path: Path) -> Pas:
    """``pas ARGS`` against the fake Alpaca, with lobby holding AAA 40% and BBB 30% targets."""
    fake_alpaca.clock = lambda: datetime.now(UTC)
    fake_alpaca.set_price("AAA", "10")
    fake_alpaca.set_price("BBB", "20")
    env = {
        "PAS_HOME": str(tmp_path),
        "ALPACA_API_KEY": KEY_ID,
        "ALPACA_API_SECRET": SECRET,
        "ALPACA_BASE_URL": fake_alpaca.url,
        "ALPACA_DATA_URL": fake_alpaca.url,
        "FILL_TIMEOUT_SEC": "3",
    }

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args), env=env)

    assert invoke("portfolio", "add", "lobby", "--capital", "10000").exit_code == 0
    assert invoke("portfolio", "set-weights", "lobby", "AAA=0.4", "BBB=0.3").exit_code == 0
    return invoke


def _interrupt(*_: Any) -> None:
    raise KeyboardInterrupt


def test_ctrl_c_while_waiting_says_where_the_run_stands_and_sync_settles_it(
    pas: Pas, fake_alpaca: FakeAlpaca, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_alpaca.fill_mode = "partial"  # both orders stay open, so rebalance waits
    monkeypatch.setattr(_wiring, "pause", _interrupt)
    result = pas("rebalance", "--all")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: interrupted: trading run ")
    assert lines[0].endswith(
        " is unfinished: 2 order(s) sent (0 settled, 2 open at the broker), 0 not sent or not "
        "confirmed; `pas sync` records the fills of open orders and `pas rebalance` looks up what was "
        "in flight and plans the rest afresh (nothing is sent twice)"
    )
    with SqliteStore(tmp_path / "pas.db") as store:
        run = store.recent_runs(1)[0]
        assert (run.command, run.status.value) == ("rebalance", "failed")
    fake_alpaca.fill_open()
    monkeypatch.setattr(_wiring, "pause", lambda seconds: None)
    assert pas("sync").output == "checked 2 order(s): recorded 2 new fill(s), 0 still open\n"


def test_ctrl_c_while_sending_says_what_was_not_sent_and_rebalance_resumes(
    pas: Pas, fake_alpaca: FakeAlpaca, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Interrupted right after the broker accepted the first order, before pas stored the
    # answer: that order is not confirmed in the store, so it is counted as such.
    trade = workflows.trade
    monkeypatch.setattr(workflows, "trade", lambda *a, **k: trade(*a, **k, after_submit=_interrupt))
    result = pas("rebalance", "--all")
    assert result.exit_code == 1
    assert "0 order(s) sent (0 settled, 0 open at the broker), 2 not sent or not confirmed" in result.output
    monkeypatch.undo()
    monkeypatch.setattr(_wiring, "pause", lambda seconds: None)
    resumed = pas("rebalance", "--all")
    assert resumed.exit_code == 0, resumed.output
    assert "resumed unfinished run" in resumed.output
    posted = [r.body["client_order_id"] for r in fake_alpaca.logged("/v2/orders") if r.method == "POST"]
    assert len(posted) == len(set(posted)) == 2  # each order sent once


def test_ctrl_c_before_any_order_is_stored(pas: Pas, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted_plan(*_: Any, **__: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("pas.portfolio.trading.run.plan_portfolios", interrupted_plan)
    result = pas("rebalance", "--all")
    assert (result.exit_code, result.output) == (
        1,
        "error: interrupted before any order was stored: nothing was sent\n",
    )


def test_no_spinner_without_a_terminal(
    pas: Pas, fake_alpaca: FakeAlpaca, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_alpaca.fill_mode = "partial"
    monkeypatch.setattr(_wiring, "pause", lambda seconds: None)
    result = pas("rebalance", "--all")
    assert result.exit_code == 0, result.output
    assert "waiting for fills" not in result.output and "sending orders" not in result.output


def test_the_spinner_shows_sent_settled_and_open_on_a_terminal() -> None:
    out = io.StringIO()
    terminal = Console(file=out, force_terminal=True, width=100)
    with wait_display(False, terminal) as display:
        assert display.status is not None
        display.update(RunProgress("r1", unsent=0, sent=3, open=2, settled=1, failed=0))
        terminal.print("")  # the spinner renders on the next refresh
    assert "waiting for fills: 3 order(s) sent: 1 settled, 2 open" in out.getvalue()
    with wait_display(True, terminal) as quiet:  # --json
        assert quiet.status is None
    plain = Console(file=io.StringIO(), force_terminal=False)
    with wait_display(False, plain) as cron:
        assert cron.status is None


def test_each_poll_reports_the_runs_orders(
    pas: Pas, fake_alpaca: FakeAlpaca, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[RunProgress] = []
    monkeypatch.setattr("pas.commands._waiting.WaitDisplay.update", lambda self, p: seen.append(p))
    monkeypatch.setattr(_wiring, "pause", lambda seconds: fake_alpaca.fill_open() if len(seen) == 2 else None)
    fake_alpaca.fill_mode = "partial"
    assert pas("rebalance", "--all").exit_code == 0
    assert [(p.sent, p.settled, p.open, p.unsent) for p in seen] == [(2, 0, 2, 0), (2, 0, 2, 0), (2, 2, 0, 0)]
