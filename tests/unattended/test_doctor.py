"""`pas doctor`: each check on its own, and the command's table, JSON and exit code."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pas.cli import app
from pas.models import Run, RunStatus
from pas.runs import HOST_KEY, PID_KEY
from pas.store.base import Store
from pas.unattended import doctor
from tests.commands.test_json_conventions import check

NOW = datetime(2026, 3, 9, 18, tzinfo=UTC)


def test_settings_file_readable_by_others_fails_with_chmod(tmp_path: Path) -> None:
    env = tmp_path / "pas.env"
    env.write_text("ALPACA_API_KEY=x\n")
    env.chmod(0o644)
    check = doctor.check_env_file(env)
    assert (check.ok, check.fix) == (False, f"chmod 600 '{env}'")
    env.chmod(0o600)
    assert doctor.check_env_file(env).ok


@pytest.mark.parametrize(
    ("crontab", "ok", "fix"),
    [
        (None, False, "pas cron | crontab -"),
        ("# */5 * * * * /x/pas tick\n", False, "pas cron | crontab -"),
        ("*/5 * * * * '/x/pas' --home '/h' tick\n", True, ""),
        ("*/5 * * * * /x/pas tick\n*/5 * * * * /y/pas tick\n", False, "keep one: crontab -e"),
    ],
)
def test_crontab_check(crontab: str | None, ok: bool, fix: str) -> None:
    check = doctor.check_crontab(crontab)
    assert (check.ok, check.fix) == (ok, fix)


def test_disk_check() -> None:
    assert doctor.check_disk(10**10).ok
    assert doctor.check_disk(10**8).fix == "free at least 0.5 GB under PAS_HOME"


def test_datasets_check() -> None:
    checks = doctor.check_datasets(
        {"congress": None, "lobbying": datetime(2026, 2, 1, tzinfo=UTC), "insiders": NOW}, NOW, 10
    )
    assert [(c.name, c.ok, c.fix) for c in checks] == [
        ("newest congress record", False, "pas scrape congress"),
        ("newest lobbying record", False, "pas scrape lobbying"),
        ("newest insiders record", True, ""),
    ]


def test_jobs_check_shows_each_jobs_last_outcome(store: Store) -> None:
    store.start_run(Run("a", "tick scrape", NOW, RunStatus.RUNNING, details={PID_KEY: 1, HOST_KEY: "h"}))
    store.finish_run("a", RunStatus.FAILED, "error: Quiver answered 503")
    store.start_run(Run("b", "tick rebalance", NOW, RunStatus.RUNNING, details={PID_KEY: 7, HOST_KEY: "h"}))
    checks = {c.name: c for c in doctor.check_jobs(store, "h", alive=lambda pid: False)}
    assert checks["last scrape"].detail == "2026-03-09 18:00 UTC failed: error: Quiver answered 503"
    assert checks["last scrape"].fix == "see `pas jobs`; run `pas scrape all` by hand"
    assert (
        checks["last rebalance"].detail == "2026-03-09 18:00 UTC abandoned"
        and not checks["last rebalance"].ok
    )
    assert checks["last build"].ok and checks["last build"].detail == "not run yet"


def test_doctor_command_fails_on_a_fresh_installation_and_names_each_fix(tmp_path: Path) -> None:
    env = tmp_path / "pas.env"
    env.write_text(f"PAS_HOME={tmp_path / 'home'}\n")
    env.chmod(0o640)
    result = CliRunner().invoke(app, ["--env-file", str(env), "doctor", "--json"], env={"PATH": os.defpath})
    assert result.exit_code == 1
    checks = {c["check"]: c for c in check("doctor", result.stdout)}
    assert checks["settings"]["ok"] and checks["store"]["ok"] and checks["circuit breaker"]["ok"]
    assert checks["broker"]["ok"]  # no keys: the simulated broker
    assert checks["Quiver key"]["fix"] == "set QUIVER_API_KEY in the settings file"
    assert checks["newest congress record"]["fix"] == "pas scrape congress"
    assert checks["settings file permissions"]["fix"] == f"chmod 600 '{env}'"
    assert not checks["schedule installed"]["ok"]


def test_doctor_reports_a_bad_setting_as_a_failed_check(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["doctor"], env={"PAS_HOME": str(tmp_path), "CASH_BUFFER": "lots"})
    assert result.exit_code == 1
    assert "settings" in result.output and "FAIL" in result.output


def test_closes_check_names_stale_held_symbols(store: Store) -> None:
    from decimal import Decimal

    from pas.models import Fill, Portfolio, Price, Schedule, Side

    assert doctor.check_closes(store, NOW).detail == "no positions"
    store.add_portfolio(Portfolio("p", "manual", Schedule.WEEKLY, NOW))
    store.append_fills(
        [
            Fill("p", "AAA", Side.BUY, Decimal(1), Decimal(10), NOW, fill_id="f1"),
            Fill("p", "BBB", Side.BUY, Decimal(1), Decimal(10), NOW, fill_id="f2"),
        ]
    )
    store.upsert_prices(
        [Price("AAA", NOW.date(), Decimal(10)), Price("BBB", datetime(2026, 2, 27).date(), Decimal(9))]
    )
    check = doctor.check_closes(store, NOW)
    assert (check.ok, check.detail, check.fix) == (False, "stale: BBB (2026-02-27)", "pas prices fetch")
