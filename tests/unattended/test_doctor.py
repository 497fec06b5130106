"""`pas doctor`: each check on its own, and the command's table, JSON and exit code."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pas.cli import app
from pas.models import Run, RunStatus
from pas.runs import HOST_KEY, PID_KEY
from pas.store.base import Store
from pas.unattended import doctor
from tests.commands.test_json_conventions import check
from tests.fakes import quiver

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
        # A redirection after the line (older docs put one) or a trailing comment is still it.
        ("*/5 * * * * '/x/pas' --home '/h' tick >> /var/log/pas.log 2>&1\n", True, ""),
        ("MAILTO=me@example.com\n*/5 * * * * /x/pas tick  # pas\n", True, ""),
        ("0 9 * * * /usr/bin/tick\n", False, "pas cron | crontab -"),  # another program
        ("45 9 * * 1-5 /x/pas build --due\n", False, "pas cron | crontab -"),  # the old lines
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
    assert (
        checks["datasets the plan needs"]["detail"]
        == "none: no portfolio has a strategy that reads a dataset"
    )
    assert not [name for name in checks if name.startswith("newest") and name.endswith("record")]
    assert checks["settings file permissions"]["fix"] == f"chmod 600 '{env}'"
    assert not checks["schedule installed"]["ok"]


def test_doctor_reports_a_bad_setting_as_a_failed_check(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["doctor"], env={"PAS_HOME": str(tmp_path), "CASH_BUFFER": "lots"})
    assert result.exit_code == 1
    assert "settings" in result.output and "FAIL" in result.output


def test_closes_check_names_stale_held_symbols(store: Store) -> None:
    from decimal import Decimal

    from pas.models import Fill, Portfolio, Price, Schedule, Side

    assert doctor.check_closes(store, NOW, 5).detail == "no positions"
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
    check = doctor.check_closes(store, NOW, 5)
    assert (check.ok, check.detail, check.fix) == (
        False,
        "stale: BBB (2026-02-27), more than PRICE_MAX_STALE_DAYS=5 days before 2026-03-09",
        "pas prices fetch",
    )


def test_closes_check_follows_price_max_stale_days_counted_in_new_york(store: Store) -> None:
    """The doctor judged closes by its own 5 days, against the UTC date: at 21:00 in New York
    a close 5 days old was 6 days old to it, and a raised PRICE_MAX_STALE_DAYS was ignored."""
    from datetime import date
    from decimal import Decimal

    from pas.models import Fill, Portfolio, Price, Schedule, Side

    store.add_portfolio(Portfolio("p", "manual", Schedule.WEEKLY, NOW))
    store.append_fills([Fill("p", "AAA", Side.BUY, Decimal(1), Decimal(10), NOW, fill_id="f1")])
    store.upsert_prices([Price("AAA", date(2026, 3, 4), Decimal(10))])
    evening = datetime(2026, 3, 10, 1, tzinfo=UTC)  # 2026-03-09 21:00 in New York
    assert doctor.check_closes(store, evening, 5).ok  # 5 days before New York's today
    assert not doctor.check_closes(store, evening + timedelta(hours=4), 5).ok  # New York's 10th
    assert doctor.check_closes(store, evening + timedelta(days=5), 10).ok
    stale = doctor.check_closes(store, evening + timedelta(days=5), 5)
    assert stale.detail == "stale: AAA (2026-03-04), more than PRICE_MAX_STALE_DAYS=5 days before 2026-03-14"


@pytest.mark.parametrize(
    ("versions", "ok", "detail"),
    [
        (None, True, "MongoDB keeps no schema version: pas applies its indexes at every open"),
        ((None, 7), True, "no store yet: pas creates it at schema 7"),
        ((7, 7), True, "schema 7, current"),
        ((8, 7), False, "schema 8, newer than this pas's 7: a newer pas wrote it"),
    ],
)
def test_schema_check(versions: tuple[int | None, int] | None, ok: bool, detail: str) -> None:
    check = doctor.check_schema(versions)
    assert (check.ok, check.detail) == (ok, detail)


def _database_at_schema(path: Path, version: int, stamp: int | None = None) -> None:
    """A pas.db as a pas whose newest migration was ``version`` left it, stamped ``stamp``
    (default: ``version``)."""
    import sqlite3

    from pas.store.sqlite.store import MIGRATIONS

    db = sqlite3.connect(path)
    for script in MIGRATIONS[:version]:
        db.executescript(script)
    db.execute(f"PRAGMA user_version = {version if stamp is None else stamp}")
    db.commit()
    db.close()


def test_doctor_says_upgrade_for_a_store_a_newer_pas_wrote_and_opens_nothing(tmp_path: Path) -> None:
    from pas.store.sqlite.store import SCHEMA_VERSION

    _database_at_schema(tmp_path / "pas.db", SCHEMA_VERSION, stamp=SCHEMA_VERSION + 1)
    result = CliRunner().invoke(app, ["doctor", "--json"], env={"PAS_HOME": str(tmp_path)})
    assert result.exit_code == 1
    checks = {c["check"]: c for c in check("doctor", result.output)}
    assert list(checks) == ["settings", "store schema"]
    assert checks["store schema"]["detail"] == (
        f"schema {SCHEMA_VERSION + 1}, newer than this pas's {SCHEMA_VERSION}: a newer pas wrote it"
    )
    assert checks["store schema"]["fix"].startswith("upgrade pas")


def test_doctor_names_an_empty_database_file_instead_of_calling_it_an_old_schema(tmp_path: Path) -> None:
    """A zero-length pas.db read as schema 0 passed as "older than this pas's: pas migrates it
    in place" before the store check said what it is."""
    (tmp_path / "pas.db").write_bytes(b"")
    result = CliRunner().invoke(app, ["doctor", "--json"], env={"PAS_HOME": str(tmp_path)})
    assert result.exit_code == 1
    checks = {c["check"]: c for c in check("doctor", result.output)}
    assert list(checks) == ["settings", "store schema"]
    assert not checks["store schema"]["ok"]
    assert checks["store schema"]["detail"] == (
        f"the embedded database {tmp_path / 'pas.db'} is an empty file (0 bytes), not a pas store; "
        "restore it from a backup, or delete it to start an empty store"
    )
    assert (tmp_path / "pas.db").stat().st_size == 0  # nothing was written to it


def test_doctor_says_an_older_store_is_migrated_when_opened(tmp_path: Path) -> None:
    import sqlite3

    from pas.store.sqlite.store import SCHEMA_VERSION

    _database_at_schema(tmp_path / "pas.db", SCHEMA_VERSION - 1)
    result = CliRunner().invoke(app, ["doctor", "--json"], env={"PAS_HOME": str(tmp_path)})
    checks = {c["check"]: c for c in check("doctor", result.output)}
    assert checks["store schema"]["ok"]
    assert checks["store schema"]["detail"].startswith(
        f"schema {SCHEMA_VERSION - 1}, older than this pas's {SCHEMA_VERSION}: pas migrates it in place"
    )
    assert checks["store"]["ok"]
    db = sqlite3.connect(tmp_path / "pas.db")
    assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    db.close()


@pytest.fixture
def fake_quiver() -> Iterator[quiver.FakeQuiver]:
    with quiver.serve() as fake:
        yield fake


def _plan_home(tmp_path: Path) -> Path:
    """A store whose portfolios read congress (c1, c2), lobbying (l1) and wiki (w1)."""
    from pas.models import Portfolio, Schedule
    from pas.store.sqlite import SqliteStore

    with SqliteStore(tmp_path / "pas.db") as store:
        for pid, strategy in [
            ("c1", "congress_buying"),
            ("c2", "congress_buying"),
            ("l1", "lobbying_growth"),
            ("w1", "wiki_attention"),
            ("hand", "manual"),
        ]:
            store.add_portfolio(Portfolio(pid, strategy, Schedule.DAILY, NOW))
    return tmp_path


def _doctor(
    home: Path, fake: quiver.FakeQuiver, key: str = quiver.API_KEY
) -> tuple[int, str, dict[str, Any]]:
    env = {
        "PAS_HOME": str(home),
        "QUIVER_BASE_URL": fake.url,
        "QUIVER_API_KEY": key,
        "QUIVER_RATE_SEC": "0",
        "QUIVER_RATE_LIMITS": quiver.UNLIMITED_RATES,
    }
    result = CliRunner().invoke(app, ["doctor", "--json"], env=env)
    return result.exit_code, result.output, {c["check"]: c for c in check("doctor", result.output)}


def test_doctor_asks_quiver_for_each_dataset_the_plan_needs(
    tmp_path: Path, fake_quiver: quiver.FakeQuiver
) -> None:
    fake_quiver.not_entitled.add("historical/lobbying/AAPL")
    code, _, checks = _doctor(_plan_home(tmp_path), fake_quiver)
    assert code == 1
    assert checks["datasets the plan needs"]["detail"] == "congress (c1, c2); lobbying (l1); wiki (w1)"
    assert checks["Quiver key"] == {
        "check": "Quiver key", "ok": True, "detail": f"accepted by {fake_quiver.url}", "fix": ""
    }  # fmt: skip
    assert checks["Quiver dataset congress"]["detail"] == "answered (read by c1, c2)"
    lobbying = checks["Quiver dataset lobbying"]
    assert (lobbying["ok"], lobbying["detail"]) == (False, "not in your subscription plan (read by l1)")
    assert lobbying["fix"] == "upgrade the plan at quiverquant.com, or give l1 another strategy"
    assert "Quiver dataset wiki" not in checks  # from Wikimedia (WIKI_SOURCE), no Quiver key
    # one request each, past the cache: the check is live
    assert fake_quiver.paths() == ["historical/congresstrading/AAPL", "historical/lobbying/AAPL"]
    assert [n for n in checks if n.startswith("newest") and n.endswith("record")] == [
        "newest congress record",
        "newest lobbying record",
        "newest wiki record",
    ]
    _doctor(tmp_path, fake_quiver)
    assert len(fake_quiver.paths()) == 4


def test_a_refused_quiver_key_is_one_line_naming_the_fix_and_never_shown(
    tmp_path: Path, fake_quiver: quiver.FakeQuiver
) -> None:
    code, output, checks = _doctor(_plan_home(tmp_path), fake_quiver, key="wrong-key-0123456789")
    assert code == 1
    key = checks["Quiver key"]
    assert not key["ok"] and "\n" not in key["detail"]
    assert key["detail"].startswith(
        f"refused by {fake_quiver.url}: QuiverQuant refused the API key (HTTP 401)"
    )
    assert key["fix"] == "check QUIVER_API_KEY (and QUIVER_AUTH_SCHEME: Token or Bearer)"
    assert "wrong-key-0123456789" not in output
    assert fake_quiver.paths() == ["historical/congresstrading/AAPL"]  # the others would be refused alike


def test_quiver_down_is_asked_once_and_said(tmp_path: Path, fake_quiver: quiver.FakeQuiver) -> None:
    fake_quiver.fault("historical/congresstrading/AAPL", quiver.Fault(503, "Service Unavailable"))
    fake_quiver.fault("historical/lobbying/AAPL", quiver.Fault(503, "Service Unavailable"))
    code, _, checks = _doctor(_plan_home(tmp_path), fake_quiver)
    assert code == 1
    assert checks["Quiver key"]["detail"].startswith(
        f"could not be checked at {fake_quiver.url}: QuiverQuant kept"
    )
    assert checks["Quiver dataset congress"]["fix"] == "try again later; check QUIVER_BASE_URL"
    assert len(fake_quiver.paths()) == 2  # tried once each: no backoff in a check


def test_a_plan_of_manual_portfolios_still_checks_the_key(
    tmp_path: Path, fake_quiver: quiver.FakeQuiver
) -> None:
    _, _, checks = _doctor(tmp_path, fake_quiver)
    assert checks["Quiver key"]["ok"]
    assert not [n for n in checks if n.startswith("Quiver dataset")]


@pytest.fixture
def fake_alpaca() -> Iterator[Any]:
    from tests.fakes.alpaca import FakeAlpaca

    with FakeAlpaca() as fake:
        yield fake


def _broker_check(fake: Any, tmp_path: Path, **env: str) -> dict[str, Any]:
    from tests.fakes.alpaca import KEY_ID, SECRET

    alpaca = {"ALPACA_API_KEY": KEY_ID, "ALPACA_API_SECRET": SECRET, "ALPACA_BASE_URL": fake.url}
    result = CliRunner().invoke(app, ["doctor", "--json"], env={"PAS_HOME": str(tmp_path), **alpaca, **env})
    check_ = {c["check"]: c for c in check("doctor", result.output)}["broker"]
    assert SECRET not in result.output and KEY_ID not in result.output
    return check_


def test_broker_check_asks_alpaca_for_the_account_and_says_paper_or_live(
    fake_alpaca: Any, tmp_path: Path
) -> None:
    broker = _broker_check(fake_alpaca, tmp_path)
    assert broker["ok"] and broker["detail"] == "Alpaca (paper): account active, equity 100,000.00"
    fake_alpaca.trading_blocked = True
    blocked = _broker_check(fake_alpaca, tmp_path)
    assert (blocked["ok"], blocked["detail"]) == (False, "Alpaca (paper): the account is blocked")


def test_broker_check_names_refused_keys_without_showing_them(fake_alpaca: Any, tmp_path: Path) -> None:
    broker = _broker_check(fake_alpaca, tmp_path, ALPACA_API_SECRET="wrong-secret-0123456789")
    assert not broker["ok"] and broker["detail"].startswith("Alpaca (paper): ")
    assert broker["fix"] == "check ALPACA_API_KEY, ALPACA_API_SECRET, ALPACA_BASE_URL"
    assert "wrong-secret" not in broker["detail"]


def test_broker_check_calls_live_what_the_live_guard_calls_live(tmp_path: Path) -> None:
    """The doctor called a URL paper when it contained "paper", the guard when its host is
    Alpaca's paper API: a proxy named paper-… in front of the live API read "paper"."""
    env = {"ALPACA_API_KEY": "k" * 16, "ALPACA_API_SECRET": "s" * 32, "PAS_HOME": str(tmp_path)}
    env["ALPACA_BASE_URL"] = "https://paper-proxy.example.com"
    result = CliRunner().invoke(app, ["doctor", "--json"], env=env)
    broker = {c["check"]: c for c in check("doctor", result.output)}["broker"]
    assert not broker["ok"]
    assert broker["detail"].startswith(
        "Alpaca (LIVE): ALPACA_BASE_URL https://paper-proxy.example.com is not"
    )


def test_doctor_exits_0_when_every_check_passes(
    tmp_path: Path, fake_quiver: quiver.FakeQuiver, fake_alpaca: Any
) -> None:
    from tests.fakes.alpaca import KEY_ID, SECRET

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "crontab").write_text("#!/bin/sh\necho \"*/5 * * * * '/x/pas' --home '/h' tick\"\n")
    (bin_dir / "crontab").chmod(0o755)
    settings = tmp_path / "pas.env"
    settings.write_text(f"ALPACA_API_KEY={KEY_ID}\nALPACA_API_SECRET={SECRET}\n")
    settings.chmod(0o600)
    env = {
        "PATH": f"{bin_dir}:{os.defpath}",
        "PAS_HOME": str(tmp_path / "home"),
        "ALPACA_BASE_URL": fake_alpaca.url,
        "QUIVER_BASE_URL": fake_quiver.url,
        "QUIVER_API_KEY": quiver.API_KEY,
        "QUIVER_RATE_SEC": "0",
        "QUIVER_RATE_LIMITS": quiver.UNLIMITED_RATES,
    }
    result = CliRunner().invoke(app, ["--env-file", str(settings), "doctor", "--json"], env=env)
    failing = [c for c in check("doctor", result.output) if not c["ok"]]
    assert (result.exit_code, failing) == (0, [])


def test_breaker_check_fails_when_tripped_naming_the_reset(store: Store) -> None:
    from decimal import Decimal

    from pas.risk.breaker import BreakerLimits, observe_equity

    limits = BreakerLimits(Decimal("0.2"), Decimal("0.05"))
    assert doctor.check_breaker(store).ok
    observe_equity(store, Decimal(100_000), NOW, limits)
    observe_equity(store, Decimal(70_000), NOW + timedelta(days=1), limits)
    tripped = doctor.check_breaker(store)
    assert (tripped.ok, tripped.fix) == (False, "pas risk reset (once the cause is understood)")
    assert tripped.detail.startswith("tripped: ")
