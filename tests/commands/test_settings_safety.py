"""No silent fallbacks: a bad settings file, a bad PAS_HOME or a bad store stops with one
line naming the real cause and the fix (issue 15, "No silent fallbacks in settings")."""

from __future__ import annotations

import os
import re
import sqlite3
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from pas.config import ENV_FILE_NAME, SETTING_NAMES, StoreSettings, load_settings
from pas.errors import ConfigError, StoreError
from pas.models import Price
from pas.store import open_store
from tests.commands.conftest import Invoke

README = Path(__file__).resolve().parents[2] / "README.md"
# A documented setting: an upper-case name in backticks in the first cell of a README table.
_FIRST_CELL = re.compile(r"^\|([^|]*)\|", re.MULTILINE)
_NAME = re.compile(r"`([A-Z][A-Z0-9_]+)`")


def documented_settings() -> set[str]:
    return {name for cell in _FIRST_CELL.findall(README.read_text()) for name in _NAME.findall(cell)}


def _error_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    return lines[0]


def test_a_malformed_settings_line_is_exit_2_naming_the_file_and_line(pas: Invoke, tmp_path: Path) -> None:
    env_file = tmp_path / "settings.env"
    env_file.write_text("DB_NAME=x\nBREAKER_MAX_DRAWDOWN='0.1\nSIM_CASH=5\n")
    result = pas("--env-file", str(env_file), "config")
    assert result.exit_code == 2
    line = _error_line(result.output)
    assert line.startswith(f"error: {env_file} line 2 (BREAKER_MAX_DRAWDOWN=…) cannot be parsed; fix it")
    assert "python-dotenv could not parse" not in result.output


def test_a_malformed_line_never_shows_its_value(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("ALPACA_API_SECRET='s3cr3tvalue\n")
    with pytest.raises(ConfigError) as err:
        load_settings({}, env_file)
    assert "s3cr3t" not in str(err.value)
    assert "line 1 (ALPACA_API_SECRET=…)" in str(err.value)


def test_pas_broker_is_read_from_the_settings_file_like_any_setting(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("PAS_BROKER=sim\n")
    assert load_settings({}, env_file).trading.broker == "sim"
    assert load_settings({"PAS_BROKER": "alpaca"}, env_file).trading.broker == "alpaca"
    with pytest.raises(ConfigError, match="PAS_BROKER must be one of alpaca, sim, got 'ib'"):
        load_settings({"PAS_BROKER": "ib"})


def test_pas_broker_in_the_settings_file_picks_the_sim_broker(pas: Invoke, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PAS_BROKER=sim\n")  # ./.env: the tests run in tmp_path
    result = pas("reconcile")
    assert result.exit_code == 0, result.output
    assert "ledgers match the broker" in result.output


def test_pas_log_format_is_read_from_the_settings_file_like_any_setting(
    pas: Invoke, home: Path, tmp_path: Path
) -> None:
    """PAS_LOG_FORMAT worked only as an environment variable: in the settings file it was
    ignored and the log stayed text, and `pas config` did not list it."""
    import json

    env_file = tmp_path / "pas.env"
    env_file.write_text("PAS_LOG_FORMAT=json\n")
    assert pas("--env-file", str(env_file), "portfolio", "add", "a", "--capital", "5").exit_code == 0
    assert [json.loads(line)["command"] for line in (home / "pas.log").read_text().splitlines()] == [
        "portfolio add",
        "portfolio add",
    ]
    shown = pas("--env-file", str(env_file), "config", "--json")
    assert '"PAS_LOG_FORMAT": {\n      "value": "json",\n      "source": ".env (' in shown.output
    # The root option wins over the file, as options do.
    assert pas("--env-file", str(env_file), "--log-format", "text", "portfolio", "add", "b").exit_code == 0
    assert (home / "pas.log").read_text().splitlines()[-1].endswith("exit=0 ok: portfolio=b")
    bad = pas("portfolio", "list", env={"PAS_LOG_FORMAT": "xml"})
    assert (bad.exit_code, _error_line(bad.output)) == (
        2,
        "error: PAS_LOG_FORMAT must be one of text, json, got 'xml'",
    )


def test_pas_config_lists_every_setting_the_readme_documents(pas: Invoke) -> None:
    documented = documented_settings()
    assert {"PAS_BROKER", "PRICE_MAX_STALE_DAYS", ENV_FILE_NAME} <= documented
    listed = {row.split()[1] for row in pas("config").output.splitlines() if row.startswith("│")}
    assert documented == {*SETTING_NAMES, ENV_FILE_NAME}
    assert documented <= listed


def test_pas_config_shows_the_settings_file_and_where_its_name_came_from(pas: Invoke, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("DB_NAME=x\n")
    result = pas("config", "--json")
    assert '"PAS_ENV_FILE": {\n      "value": ".env",\n      "source": "default"' in result.output
    named = tmp_path / "other.env"
    named.write_text("")
    result = pas("config", "--json", env={"PAS_ENV_FILE": str(named)})
    assert f'"value": "{named}",\n      "source": "environment"' in result.output


def test_env_file_naming_a_directory_says_so(pas: Invoke, tmp_path: Path) -> None:
    result = pas("--env-file", str(tmp_path), "config")
    assert result.exit_code == 2
    assert f"{tmp_path} is a directory; name the settings file itself" in result.output
    assert "does not exist" not in result.output


def test_pas_home_naming_a_file_is_exit_2_naming_pas_home(pas: Invoke, tmp_path: Path) -> None:
    home = tmp_path / "afile"
    home.write_text("")
    result = pas("portfolio", "list", env={"PAS_HOME": str(home)})
    assert result.exit_code == 2
    assert _error_line(result.output) == (
        f"error: PAS_HOME {home} is a file, not a directory; point PAS_HOME (or --home) at a "
        "directory, which pas creates when it does not exist"
    )


def test_a_corrupt_database_is_named_as_damaged(pas: Invoke, home: Path) -> None:
    home.mkdir()
    (home / "pas.db").write_bytes(b"this is not sqlite" * 100)
    result = pas("portfolio", "list")
    assert result.exit_code == 1
    line = _error_line(result.output)
    assert "is damaged or not a pas database (file is not a database)" in line
    assert "restore it from a backup, or move it aside" in line
    assert "PAS_HOME" not in line  # the directory is fine: the file in it is not


def test_a_zero_length_database_is_not_taken_for_a_fresh_store(pas: Invoke, home: Path) -> None:
    home.mkdir()
    (home / "pas.db").write_bytes(b"")
    result = pas("portfolio", "list")
    assert result.exit_code == 1
    assert "is an empty file (0 bytes), not a pas store; restore it from a backup" in _error_line(
        result.output
    )
    assert (home / "pas.db").stat().st_size == 0  # left as it was


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_an_unwritable_home_names_pas_home(pas: Invoke, tmp_path: Path) -> None:
    home = tmp_path / "ro"
    home.mkdir()
    home.chmod(0o500)
    try:
        result = pas("portfolio", "list", env={"PAS_HOME": str(home)})
    finally:
        home.chmod(0o700)
    assert result.exit_code == 1
    assert "check that PAS_HOME points to a writable directory" in result.output


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        ("mongodb://bob:hunter2@host:notaport", "mongodb://bob:****@host:notaport"),  # pymongo: ValueError
        ("mongodb://", "mongodb://"),  # pymongo: InvalidURI
    ],
)
def test_a_malformed_mongo_uri_names_mongo_uri_and_hides_the_password(
    pas: Invoke, uri: str, shown: str
) -> None:
    result = pas("portfolio", "list", env={"MONGO_URI": uri})
    assert result.exit_code == 2
    line = _error_line(result.output)
    assert line.startswith(f"error: MONGO_URI {shown} is malformed (")
    assert "unset it to use the embedded store" in line
    assert "hunter2" not in result.output


def test_a_full_disk_is_reported_as_a_full_disk(tmp_path: Path) -> None:
    store = open_store(StoreSettings(home=tmp_path))
    try:
        # SQLite's own size limit gives the same SQLITE_FULL a full disk does.
        (pages,) = store._db.execute("PRAGMA page_count").fetchone()  # type: ignore[attr-defined]
        store._db.execute(f"PRAGMA max_page_count = {pages}")  # type: ignore[attr-defined]
        start = date(2020, 1, 1)
        prices = [
            Price(f"S{i % 500:03d}", start + timedelta(days=i // 500), Decimal(1)) for i in range(20_000)
        ]
        with pytest.raises(StoreError) as err:
            store.upsert_prices(prices)
    finally:
        store.close()
    message = str(err.value)
    assert "is full (database or disk is full)" in message
    assert "free some space there, then run the command again" in message
    assert "cannot rollback" not in message


def test_the_full_disk_report_names_the_file(tmp_path: Path) -> None:
    from pas.store.sqlite.errors import open_error

    message = open_error(tmp_path / "pas.db", sqlite3.OperationalError("database or disk is full"))
    assert message.startswith(f"the disk holding the embedded database {tmp_path / 'pas.db'} is full")
