"""`pas tick`, `pas cron`, `pas schedule`, the run log and alerts through the command line."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from pas.cli import app
from pas.commands._app import AppState
from pas.models import Run, RunStatus
from pas.runs import HOST_KEY, PID_KEY
from pas.schedule import MARKET_TZ
from pas.store.sqlite import SqliteStore
from pas.unattended.jobs import Job
from tests.commands.test_json_conventions import check
from tests.conftest import FakeClock

KEY = "PKTESTKEY1234567890"
SECRET = "s3cr3tS3cr3tS3cr3tS3cr3t"


class Receiver:
    """A webhook receiver on 127.0.0.1 that keeps the JSON bodies posted to it."""

    def __init__(self, status: int = 200) -> None:
        self.bodies: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                outer.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/T000/B000/XXXXSECRETTOKEN"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


def tick(home: Path, clock: FakeClock, runner: Any, env: dict[str, str] | None = None, *root: str) -> Result:
    obj = AppState(environ=os.environ, clock=clock, job_runner=runner)
    return CliRunner().invoke(app, [*root, "tick"], obj=obj, env={"PAS_HOME": str(home), **(env or {})})


def ok_runner(job: Job) -> tuple[int, str]:
    return 0, "done\n"


def test_tick_is_quiet_when_every_job_succeeds(home: Path) -> None:
    clock = FakeClock(datetime(2026, 3, 9, 10, 30, tzinfo=MARKET_TZ))
    result = tick(home, clock, ok_runner)
    assert (result.exit_code, result.output) == (0, "")
    assert tick(home, clock, ok_runner).output == ""


def test_a_failed_job_is_printed_for_mailto_and_posted_without_secrets(
    home: Path, receiver: Receiver
) -> None:
    def runner(job: Job) -> tuple[int, str]:
        if job.name == "build":
            return 1, f"stored 3 weights\nerror: Alpaca refused key {KEY} with secret {SECRET}\n"
        return 0, ""

    clock = FakeClock(datetime(2026, 3, 9, 9, 50, tzinfo=MARKET_TZ))
    env = {
        "ALPACA_API_KEY": KEY,
        "ALPACA_API_SECRET": SECRET,
        "ALERT_WEBHOOK_URL": receiver.url,
        "PAS_HOST_ID": "host-a",  # which of the hosts sharing one store it is
    }
    result = tick(home, clock, runner, env)
    assert result.exit_code == 1
    assert "pas on host-a: build (build --due) of 2026-03-09 09:45 EDT failed, exit 1" in result.output
    assert [set(b) for b in receiver.bodies] == [{"text", "content"}]
    body = receiver.bodies[0]
    assert body["text"] == body["content"]
    assert "build (build --due) of 2026-03-09 09:45 EDT failed" in body["text"]
    for secret in (KEY, SECRET, "XXXXSECRETTOKEN"):
        assert secret not in result.output and secret not in json.dumps(body)
    assert tick(home, clock, runner, env).exit_code == 0  # the slot is not retried
    assert len(receiver.bodies) == 1


def test_a_first_lock_out_is_quiet_and_a_second_alerts(home: Path, receiver: Receiver) -> None:
    def runner(job: Job) -> tuple[int, str]:
        if job.name == "rebalance":
            return 4, "error: another trading run (h:1) holds the trading lock; wait for it\n"
        return 0, ""

    clock = FakeClock(datetime(2026, 3, 9, 10, 20, tzinfo=MARKET_TZ))
    env = {"ALERT_WEBHOOK_URL": receiver.url}
    first = tick(home, clock, runner, env)
    assert (first.exit_code, first.output, receiver.bodies) == (0, "", [])  # the next tick runs it again
    clock.advance(300)
    second = tick(home, clock, runner, env)
    assert second.exit_code == 4
    expected = (
        "rebalance (rebalance --all) of 2026-03-09 10:15 EDT locked at two ticks in a row "
        "(not run again in this slot: run `pas rebalance --all`), exit 4"
    )
    assert expected in second.output
    assert [expected in b["text"] for b in receiver.bodies] == [True]


def test_an_unreachable_webhook_is_one_more_printed_line(home: Path) -> None:
    clock = FakeClock(datetime(2026, 3, 9, 9, 50, tzinfo=MARKET_TZ))
    env = {"ALERT_WEBHOOK_URL": "http://127.0.0.1:9/hook"}
    result = tick(home, clock, lambda job: (3, "error: the circuit breaker is tripped"), env)
    assert result.exit_code == 3
    assert "refused, exit 3" in result.output
    assert (
        "error: alert not delivered: the webhook is unreachable (ConnectionError); check ALERT_WEBHOOK_URL"
        in result.output
    )


def test_each_run_logs_a_start_and_an_end_line(home: Path) -> None:
    clock = FakeClock(datetime(2026, 3, 9, 7, 31, tzinfo=MARKET_TZ))
    tick(home, clock, lambda job: (2, "error: QUIVER_API_KEY is not set"))
    lines = (home / "pas.log").read_text().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("2026-03-09T11:31:00Z NY 2026-03-09T07:31:00-04:00 start tick scrape run=")
    assert lines[1].endswith("exit=2 failed: error: QUIVER_API_KEY is not set")
    clock.now = datetime(2026, 3, 9, 9, 46, tzinfo=MARKET_TZ)
    tick(home, clock, ok_runner, None, "--log-format", "json")
    entries = [json.loads(line) for line in (home / "pas.log").read_text().splitlines()[2:]]
    assert [e["event"] for e in entries] == ["start", "end"]
    assert entries[1] | {"run_id": "x"} == {
        "utc": "2026-03-09T13:46:00Z",
        "new_york": "2026-03-09T09:46:00-04:00",
        "event": "end",
        "command": "tick build",
        "run_id": "x",
        "exit_code": 0,
        "status": "ok",
        "summary": "slot=2026-03-09T09:45:00-04:00 args=build --due summary=done",
    }


def test_the_log_rotates_at_its_size_bound(home: Path) -> None:
    clock = FakeClock(datetime(2026, 3, 9, 18, 0, tzinfo=MARKET_TZ))
    for day in range(9, 14):
        clock.now = clock.now.replace(day=day)
        tick(home, clock, ok_runner, {"LOG_MAX_BYTES": "2000"})
    sizes = [p.stat().st_size for p in sorted(home.glob("pas.log*"))]
    assert len(sizes) > 2 and max(sizes) <= 2000


def test_cron_quotes_a_home_with_a_space(tmp_path: Path) -> None:
    home = tmp_path / "my pas"
    result = CliRunner().invoke(app, ["cron"], env={"PAS_HOME": str(home)})
    assert result.exit_code == 0, result.output
    line = result.output.splitlines()[-1]
    assert line.startswith("*/5 * * * * ") and line.endswith(f" --home '{home}' tick")


def test_schedule_shows_new_york_and_local_times(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        obj = AppState(environ=os.environ, clock=FakeClock(datetime(2026, 3, 9, 9, 50, tzinfo=MARKET_TZ)))
        result = CliRunner().invoke(app, ["schedule", "--json"], obj=obj, env={"PAS_HOME": str(home)})
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    rows = {r["job"]: r for r in check("schedule", result.output)}
    assert rows["build"]["next_new_york"] == "2026-03-10T09:45:00-04:00"
    assert rows["build"]["next_local"] == "2026-03-10T22:45:00+09:00"
    assert rows["build"]["next_utc"] == "2026-03-10T13:45:00Z"  # the clock's zone is New York's here
    assert rows["rebalance"]["next_new_york"] == "2026-03-09T10:15:00-04:00"
    assert rows["allocate"]["days"] == "first trading day of the week"


def test_a_run_killed_with_kill_9_is_shown_abandoned(home: Path) -> None:
    # A real process records a run, then blocks on stdin until it is killed.
    script = (
        "import sys; from pathlib import Path\n"
        "from pas.store.sqlite import SqliteStore; from pas.runs import recorded_run\n"
        f"s = SqliteStore(Path({str(home / 'pas.db')!r}))\n"
        "with recorded_run(s, 'rebalance'):\n    print('started', flush=True); sys.stdin.read()\n"
    )
    home.mkdir(parents=True)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}  # this checkout's pas
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    )
    assert child.stdout is not None and child.stdout.readline() == "started\n"
    shown = CliRunner().invoke(app, ["jobs", "--json"], env={"PAS_HOME": str(home)})
    assert json.loads(shown.output)[0]["status"] == "running"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    shown = CliRunner().invoke(app, ["jobs", "--json"], env={"PAS_HOME": str(home)})
    run = json.loads(shown.output)[0]
    assert (run["command"], run["status"], run["details"]["pid"]) == ("rebalance", "abandoned", child.pid)


def test_runs_name_the_host_by_pas_host_id_so_another_host_of_one_name_never_calls_them_abandoned(
    home: Path,
) -> None:
    """Two containers of one image share a host name: host-b cannot probe host-a's pids, so
    host-a's run is running to it, never abandoned for a pid that happens to be free here."""
    a, b = ({"PAS_HOME": str(home), "PAS_HOST_ID": h} for h in ("host-a", "host-b"))
    assert CliRunner().invoke(app, ["portfolio", "add", "lobby", "--capital", "100"], env=a).exit_code == 0
    (recorded,) = json.loads(CliRunner().invoke(app, ["jobs", "--json"], env=a).output)
    assert recorded["details"]["host"] == "host-a", "the run names the host as PAS_HOST_ID does"
    with SqliteStore(home / "pas.db") as store:
        details = {PID_KEY: 999_999_999, HOST_KEY: "host-a"}
        store.start_run(Run("r-live", "rebalance", datetime.now(UTC), RunStatus.RUNNING, details=details))
    seen_by_b = json.loads(CliRunner().invoke(app, ["jobs", "--json"], env=b).output)[0]
    assert (seen_by_b["run_id"], seen_by_b["status"]) == ("r-live", "running")
    seen_by_a = json.loads(CliRunner().invoke(app, ["jobs", "--json"], env=a).output)[0]
    assert (seen_by_a["run_id"], seen_by_a["status"]) == ("r-live", "abandoned"), "its own pid is gone"


def test_a_job_killed_by_a_signal_is_a_failure_naming_the_signal(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The OOM killer (or a kill -9) ends a job's process: the tick says so and exits 1, a
    documented code, instead of the negative return code (exit 247 from the shell)."""
    from pas.commands import schedule as schedule_cmd

    killer = tmp_path / "pas"
    killer.write_text("#!/bin/sh\nkill -9 $$\n")
    killer.chmod(0o755)
    monkeypatch.setattr(schedule_cmd, "pas_executable", lambda: str(killer))
    clock = FakeClock(datetime(2026, 3, 9, 7, 31, tzinfo=MARKET_TZ))
    obj = AppState(environ=os.environ, clock=clock)
    result = CliRunner().invoke(app, ["tick"], obj=obj, env={"PAS_HOME": str(home)})
    assert result.exit_code == 1, result.output
    assert "error: scrape all was killed by signal 9 (SIGKILL)" in result.output
    assert "scrape (scrape all) of 2026-03-09 07:30 EDT failed, exit 1" in result.output


def test_a_ledger_that_differs_from_the_broker_alerts_the_same_day(home: Path, receiver: Receiver) -> None:
    """Only a rebalance refusing over a difference used to tell: a fill booked to a portfolio
    that the broker never made stayed quiet until the next weekly rebalance."""
    from decimal import Decimal

    from pas.models import Fill, Portfolio, Schedule, Side

    clock = FakeClock(datetime(2026, 3, 10, 16, 45, tzinfo=MARKET_TZ))  # a Tuesday
    env = {"PAS_HOME": str(home), "PAS_BROKER": "sim", "ALERT_WEBHOOK_URL": receiver.url}
    home.mkdir()
    with SqliteStore(home / "pas.db", clock=clock) as store:
        store.add_portfolio(Portfolio("p", "manual", Schedule.WEEKLY, clock(), broker="sim"))
        store.append_fills([Fill("p", "AAA", Side.BUY, Decimal(3), Decimal(10), clock(), fill_id="f1")])

    def runner(job: Job) -> tuple[int, str]:
        if job.name not in ("sync", "reconcile"):
            return 0, ""  # the day's earlier slots, caught up by this first tick
        done = CliRunner().invoke(app, list(job.args), obj=AppState(environ=os.environ, clock=clock), env=env)
        return done.exit_code, done.output

    obj = AppState(environ=os.environ, clock=clock, job_runner=runner)
    result = CliRunner().invoke(app, ["tick"], obj=obj, env=env)
    assert result.exit_code == 1, result.output
    (alert,) = [b["text"] for b in receiver.bodies]
    assert "reconcile (reconcile) of 2026-03-10 16:45 EDT failed, exit 1" in alert
    assert alert.endswith(
        "error: 1 symbol(s) differ between the ledgers and the broker; run `pas sync`, then check "
        "the broker's activity for trades pas did not make"
    )


def test_a_long_alert_fits_discord_and_keeps_its_whole_text_for_slack() -> None:
    from pas.unattended.alerts import DISCORD_MAX_CHARS, body

    text = "error: " + "x" * 2500
    posted = body(text)
    assert posted["text"] == text  # Slack's text takes 40,000 characters
    assert posted["content"] == text[:DISCORD_MAX_CHARS] and DISCORD_MAX_CHARS == 2000


def test_a_secret_in_a_jobs_output_reaches_neither_the_run_records_nor_the_log(home: Path) -> None:
    """The alert and the printed output were redacted, but the tick kept the job's last line
    as it was in its run record (`pas jobs`) and in pas.log."""

    def runner(job: Job) -> tuple[int, str]:
        return (
            (1, f"error: Alpaca refused key {KEY} with secret {SECRET}\n") if job.name == "build" else (0, "")
        )

    clock = FakeClock(datetime(2026, 3, 9, 9, 50, tzinfo=MARKET_TZ))
    env = {"ALPACA_API_KEY": KEY, "ALPACA_API_SECRET": SECRET, "QUIVER_API_KEY": "quiverkey0123456789"}
    assert tick(home, clock, runner, env).exit_code == 1
    runs = CliRunner().invoke(app, ["jobs", "--json"], env={"PAS_HOME": str(home)}).output
    assert "error: Alpaca refused key *** with secret ***" in runs
    log = (home / "pas.log").read_text()
    assert "exit=1 failed: error: Alpaca refused key *** with secret ***" in log
    for secret in (KEY, SECRET):
        assert secret not in runs and secret not in log


def test_a_tick_that_cannot_open_its_store_alerts_too(home: Path, receiver: Receiver) -> None:
    """A store that cannot be opened (an emptied pas.db, a full disk, MongoDB down) stopped
    every tick with one printed line, for MAILTO only: with a webhook and no MAILTO,
    nothing ran for days and nobody was told."""
    home.mkdir()
    (home / "pas.db").write_bytes(b"")
    clock = FakeClock(datetime(2026, 3, 9, 9, 50, tzinfo=MARKET_TZ))
    result = tick(home, clock, ok_runner, {"ALERT_WEBHOOK_URL": receiver.url, "PAS_HOST_ID": "host-a"})
    assert result.exit_code == 1
    assert result.output.splitlines()[-1].startswith(
        f"error: the embedded database {home / 'pas.db'} is an empty"
    )
    (alert,) = [b["text"] for b in receiver.bodies]
    assert alert.startswith(
        "pas on host-a: the tick of 2026-03-09 09:50 EDT ran no job: error: the embedded database"
    )
    assert "XXXXSECRETTOKEN" not in json.dumps(receiver.bodies) + result.output


def _run_killed_with_kill_9(home: Path, command: str) -> int:
    """A real process records a run ``command`` and is killed with kill -9; its pid."""
    script = (
        "import sys; from pathlib import Path\n"
        "from pas.store.sqlite import SqliteStore; from pas.runs import recorded_run\n"
        f"s = SqliteStore(Path({str(home / 'pas.db')!r}))\n"
        f"with recorded_run(s, {command!r}):\n    print('started', flush=True); sys.stdin.read()\n"
    )
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}  # this checkout's pas
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    )
    assert child.stdout is not None and child.stdout.readline() == "started\n"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    return child.pid


def test_the_next_tick_alerts_once_for_a_run_killed_with_kill_9(home: Path, receiver: Receiver) -> None:
    """A reboot or the OOM killer ending a tick with its rebalance left both `running`:
    `pas jobs` showed them abandoned, but with nobody looking nobody was told, and the
    half-sent plan stayed half-sent until the next weekly rebalance."""
    pid = _run_killed_with_kill_9(home, "rebalance")
    clock = FakeClock(datetime(2026, 3, 9, 18, 0, tzinfo=MARKET_TZ))
    env = {"ALERT_WEBHOOK_URL": receiver.url}
    result = tick(home, clock, ok_runner, env)
    assert result.exit_code == 1, result.output
    (alert,) = [b["text"] for b in receiver.bodies]
    assert alert.startswith(f"pas on {socket.gethostname()}: 1 run found abandoned, its process gone")
    assert "rebalance (run " in alert and "pas sync" in alert
    assert result.output.strip().splitlines()[-1] == alert
    run = next(
        r
        for r in json.loads(CliRunner().invoke(app, ["jobs", "--json"], env={"PAS_HOME": str(home)}).output)
        if r["command"] == "rebalance"
    )
    assert run["status"] == "failed"
    assert run["error"].startswith(f"abandoned: its process ({pid} on {socket.gethostname()}) was gone")
    again = tick(home, clock, ok_runner, env)
    assert (again.exit_code, again.output, len(receiver.bodies)) == (0, "", 1)  # once
