"""Settings: defaults, precedence, validation, masking."""

from __future__ import annotations

from pathlib import Path

import pytest

from pas.config import PAPER_BASE_URL, load_settings, mask_secret, redact_uri
from pas.errors import ConfigError


def test_defaults(tmp_path: Path) -> None:
    s = load_settings({"HOME": str(tmp_path)})
    assert s.home == tmp_path / ".local" / "share" / "pas"
    assert s.sqlite_path == s.home / "pas.db"
    assert s.mongo_uri is None
    assert s.db_name == "quant_fund"
    assert s.alpaca_base_url == PAPER_BASE_URL
    assert s.quiver_rate_sec == 1.1
    assert (s.min_allocation, s.max_allocation) == (0.0, 1.0)


def test_xdg_data_home_is_respected(tmp_path: Path) -> None:
    assert load_settings({"XDG_DATA_HOME": str(tmp_path)}).home == tmp_path / "pas"


def test_environment_wins_over_env_file_and_options_win_over_both(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("DB_NAME=from_file\nQUIVER_RATE_SEC=2\nPAS_HOME=/from/file\n")
    s = load_settings({"DB_NAME": "from_env"}, env_file, {"PAS_HOME": "/from/option"})
    assert s.db_name == "from_env"
    assert s.quiver_rate_sec == 2.0
    assert s.home == Path("/from/option")
    assert s.sources["DB_NAME"] == "environment"
    assert s.sources["QUIVER_RATE_SEC"].startswith(".env")
    assert s.sources["PAS_HOME"] == "option"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MIN_ALLOCATION": "abc"}, "MIN_ALLOCATION must be a number, got 'abc'"),
        ({"MAX_ALLOCATION": "1.5"}, "MAX_ALLOCATION must be a fraction between 0 and 1, got '1.5'"),
        (
            {"MIN_ALLOCATION": "0.6", "MAX_ALLOCATION": "0.4"},
            "MIN_ALLOCATION (0.6) is above MAX_ALLOCATION (0.4); "
            "lower MIN_ALLOCATION or raise MAX_ALLOCATION",
        ),
        ({"QUIVER_RATE_SEC": "-1"}, "QUIVER_RATE_SEC must be zero or more (seconds), got '-1'"),
        ({"PAS_MONGO_TIMEOUT_SEC": "0"}, "PAS_MONGO_TIMEOUT_SEC must be more than zero (seconds), got '0'"),
        ({"MIN_ORDER_NOTIONAL": "-1"}, "MIN_ORDER_NOTIONAL must be zero or more dollars, got '-1'"),
        ({"SIM_CASH": "0"}, "SIM_CASH must be more than zero dollars, got '0'"),
        ({"QUIVER_RATE_SEC": "nan"}, "QUIVER_RATE_SEC must be a finite number, got 'nan'"),
        ({"ALPACA_BASE_URL": "paper-api"}, "ALPACA_BASE_URL must be an http(s) URL"),
        ({"MONGO_URI": "localhost:27017"}, "MONGO_URI must start with mongodb:// or mongodb+srv://"),
        ({"DB_NAME": "a b"}, "DB_NAME must be 1-63 letters"),
    ],
)
def test_invalid_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(env)
    assert str(err.value).startswith(message)
    assert err.value.exit_code == 2


def test_secrets_are_masked_in_describe() -> None:
    s = load_settings(
        {
            "ALPACA_API_KEY": "PKABCDEF123456",
            "ALPACA_API_SECRET": "supersecretvalue",
            "QUIVER_API_KEY": "qk-0123456789",
            "MONGO_URI": "mongodb://bob:hunter2@db.example:27017/x",
        }
    )
    shown = {name: value for name, value, _ in s.describe()}
    assert shown["ALPACA_API_KEY"] == "PKAB…"
    assert shown["ALPACA_API_SECRET"] == "supe…"
    assert shown["QUIVER_API_KEY"] == "qk-0…"
    assert shown["MONGO_URI"] == "mongodb://bob:****@db.example:27017/x"
    assert "hunter2" not in repr(s) and "supersecretvalue" not in repr(s)


def test_mask_and_redact_helpers() -> None:
    assert mask_secret("") == ""
    assert mask_secret("abc") == "abc…"
    assert redact_uri("mongodb://localhost:27017") == "mongodb://localhost:27017"
