"""Settings: defaults, precedence, validation, masking."""

from __future__ import annotations

from dataclasses import fields
from decimal import Decimal
from pathlib import Path
from typing import get_args, get_type_hints

import pytest

from pas.config import (
    PAPER_BASE_URL,
    SETTING_NAMES,
    AllocationSettings,
    Settings,
    SimCosts,
    StoreSettings,
    load_settings,
    mask_secret,
    redact_uri,
)
from pas.errors import ConfigError
from pas.portfolio.rebalance import PlanRules
from pas.portfolio.trading.limits import TradingLimits
from pas.risk.breaker import BreakerLimits


def test_defaults(tmp_path: Path) -> None:
    s = load_settings({"HOME": str(tmp_path)})
    assert s.store.home == tmp_path / ".local" / "share" / "pas"
    assert s.store.sqlite_path == s.store.home / "pas.db"
    assert s.store.mongo_uri is None
    assert s.store.db_name == "quant_fund"
    assert s.alpaca.base_url == PAPER_BASE_URL
    assert s.quiver.rate_sec == 1.1
    assert (s.allocation.min_allocation, s.allocation.max_allocation) == (0.0, 1.0)


def test_xdg_data_home_is_respected(tmp_path: Path) -> None:
    assert load_settings({"XDG_DATA_HOME": str(tmp_path)}).store.home == tmp_path / "pas"


def test_environment_wins_over_env_file_and_options_win_over_both(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("DB_NAME=from_file\nQUIVER_RATE_SEC=2\nPAS_HOME=/from/file\n")
    s = load_settings({"DB_NAME": "from_env"}, env_file, {"PAS_HOME": "/from/option"})
    assert s.store.db_name == "from_env"
    assert s.quiver.rate_sec == 2.0
    assert s.store.home == Path("/from/option")
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
        ({"PAS_MONGO_SOCKET_TIMEOUT_SEC": "-2"}, "PAS_MONGO_SOCKET_TIMEOUT_SEC must be more than zero"),
        ({"PAS_HOST_ID": "host one"}, "PAS_HOST_ID must be 1-64 letters, digits"),
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


def test_dollars_and_fractions_are_exact_decimals() -> None:
    s = load_settings(
        {
            "MAX_ORDER_NOTIONAL": "0.1",
            "MIN_ORDER_NOTIONAL": "2.35",
            "CASH_BUFFER": "0.015",
            "SIM_COMMISSION": "0.005",
            "SIM_SLIPPAGE_BPS": "2.5",
            "BREAKER_MAX_DRAWDOWN": "0.1",
            "TARGET_VOL": "0.3",
        }
    )
    # As typed, not as the nearest binary float (0.1000000000000000055511151231257827...).
    assert s.trading.max_order_notional == Decimal("0.1") != Decimal.from_float(0.1)
    assert s.trading.min_order_notional == Decimal("2.35")
    assert s.trading.cash_buffer == Decimal("0.015")
    assert s.sim.costs() == {
        "slippage_bps": Decimal("2.5"),
        "commission": Decimal("0.005"),
        "commission_per_share": Decimal(0),
        "spread_bps": Decimal(0),
    }
    assert s.breaker.max_drawdown == Decimal("0.1")
    assert s.allocation.target_vol == Decimal("0.3")


def _group_fields() -> list[tuple[str, str, object]]:
    """(group, field, type) of every field of every settings group."""
    groups = get_type_hints(Settings)
    rows = []
    for group in fields(Settings):
        if group.name not in ("sources", "env_file"):
            hints = get_type_hints(groups[group.name])
            rows += [(group.name, f.name, hints[f.name]) for f in fields(groups[group.name])]
    return rows


def test_no_float_money_remains() -> None:
    # Floats are for durations only (they go to sleep, timeouts and timedeltas); every
    # dollar amount, fraction and basis point is a Decimal.
    floats = [(g, name) for g, name, hint in _group_fields() if float in get_args(hint) or hint is float]
    assert floats, "the seconds settings are floats"
    assert all(name.endswith("_sec") for _, name in floats), floats
    decimals = {name for _, name, hint in _group_fields() if Decimal in get_args(hint) or hint is Decimal}
    assert decimals == {
        "cash_buffer",
        "min_order_notional",
        "rebalance_band",
        "max_order_notional",
        "max_position_weight",
        "slippage_bps",
        "commission",
        "commission_per_share",
        "spread_bps",
        "cash",
        "min_allocation",
        "max_allocation",
        "target_vol",
        "max_drawdown",
        "max_daily_loss",
        "price_collar",
    }


def test_default_values_have_their_declared_types(tmp_path: Path) -> None:
    s = load_settings({"HOME": str(tmp_path)})
    for group, name, hint in _group_fields():
        value = getattr(getattr(s, group), name)
        if hint is Decimal:
            assert type(value) is Decimal, (group, name)
        if hint is float:
            assert type(value) is float, (group, name)


def test_every_setting_belongs_to_one_group() -> None:
    attrs = {(g, name) for g, name, _ in _group_fields()}
    assert len(SETTING_NAMES) == len(attrs) == len(set(SETTING_NAMES))


def test_trading_group_builds_the_trading_limits() -> None:
    s = load_settings(
        {
            "CASH_BUFFER": "0.02",
            "MIN_ORDER_NOTIONAL": "5",
            "REBALANCE_BAND": "0.01",
            "MAX_ORDER_NOTIONAL": "2500.50",
            "MAX_POSITION_WEIGHT": "0.25",
        }
    )
    assert s.trading.limits() == TradingLimits(
        rules=PlanRules(cash_buffer=Decimal("0.02"), min_notional=Decimal(5), band=Decimal("0.01")),
        max_order_notional=Decimal("2500.50"),
        max_position_weight=Decimal("0.25"),
    )
    # The defaults of the settings are the defaults of the library.
    assert load_settings({}).trading.limits() == TradingLimits()


def test_breaker_group_builds_the_breaker_limits() -> None:
    s = load_settings({"BREAKER_MAX_DRAWDOWN": "0.15", "BREAKER_MAX_DAILY_LOSS": "off"})
    assert s.breaker.limits() == BreakerLimits(max_drawdown=Decimal("0.15"), max_daily_loss=Decimal(0))
    assert load_settings({}).breaker.limits() == BreakerLimits()


def test_sim_group_builds_the_cost_model() -> None:
    s = load_settings(
        {
            "SIM_SLIPPAGE_BPS": "5",
            "SIM_COMMISSION": "0.35",
            "SIM_COMMISSION_PER_SHARE": "0.005",
            "SIM_SPREAD_BPS": "4",
            "SIM_CASH": "2500",
        }
    )
    assert s.sim.costs() == SimCosts(
        slippage_bps=Decimal(5),
        commission=Decimal("0.35"),
        commission_per_share=Decimal("0.005"),
        spread_bps=Decimal(4),
    )
    assert (s.sim.cash, s.sim.market) == (Decimal(2500), "weekdays")
    zero = Decimal(0)
    assert load_settings({}).sim.costs() == SimCosts(
        slippage_bps=zero, commission=zero, commission_per_share=zero, spread_bps=zero
    )


def test_quiver_group_builds_the_client_config() -> None:
    from pas.scrapers.limits import ENDPOINT_LIMITS, RateLimit

    s = load_settings(
        {
            "QUIVER_API_KEY": "qk-12345678",
            "QUIVER_RATE_SEC": "2",
            "QUIVER_CACHE_TTL": "0",
            "QUIVER_RATE_LIMITS": "bulk/congresstrading=4/hour",
        }
    )
    assert s.quiver.client_config() == {
        "api_key": "qk-12345678",
        "base_url": "https://api.quiverquant.com/beta",
        "auth_scheme": "Token",
        "rate_sec": 2.0,
        "cache_ttl_sec": 0.0,
        "timeout_sec": 60.0,
        "rate_limits": {**ENDPOINT_LIMITS, "bulk/congresstrading": RateLimit(4, 3600.0)},
        "max_wait_sec": 900.0,
    }
    with pytest.raises(ConfigError, match="QUIVER_RATE_LIMITS entry 'bulk=5' is not path=N/period"):
        load_settings(
            {"QUIVER_API_KEY": "qk-12345678", "QUIVER_RATE_LIMITS": "bulk=5"}
        ).quiver.client_config()
    with pytest.raises(ConfigError) as err:
        load_settings({}).quiver.client_config()
    assert str(err.value) == (
        "QUIVER_API_KEY is not set; put your QuiverQuant API token in the environment or .env"
    )
    assert err.value.exit_code == 2


def test_allocation_group_builds_the_allocator_bounds() -> None:
    s = load_settings({"MIN_ALLOCATION": "0.1", "MAX_ALLOCATION": "0.6", "TARGET_VOL": "0.12"})
    assert s.allocation.bounds() == {
        "min_alloc": 0.1,
        "max_alloc": 0.6,
        "target_vol": 0.12,
        "min_history": 63,
    }
    assert load_settings({}).allocation.bounds()["target_vol"] is None


def test_allocation_bounds_are_checked_however_the_group_is_built() -> None:
    with pytest.raises(ConfigError, match=r"MIN_ALLOCATION \(0.5\) is above MAX_ALLOCATION \(0.2\)"):
        AllocationSettings(min_allocation=Decimal("0.5"), max_allocation=Decimal("0.2"))


def test_store_group_names_the_database(tmp_path: Path) -> None:
    env = {"PAS_HOME": str(tmp_path), "DB_NAME": "fund", "PAS_MONGO_TIMEOUT_SEC": "5"}
    env |= {"PAS_MONGO_SOCKET_TIMEOUT_SEC": "60", "PAS_HOST_ID": "cron-b.example"}
    s = load_settings(env)
    assert s.store == StoreSettings(
        home=tmp_path,
        db_name="fund",
        mongo_timeout_sec=5.0,
        mongo_socket_timeout_sec=60.0,
        host_id="cron-b.example",
    )
    assert load_settings({"PAS_HOME": str(tmp_path)}).store.mongo_socket_timeout_sec == 30.0
    assert s.store.sqlite_path == tmp_path / "pas.db"


def test_config_shows_numbers_as_it_always_has() -> None:
    s = load_settings(
        {
            "MAX_ORDER_NOTIONAL": "5000",
            "CASH_BUFFER": "0.10",
            "SIM_COMMISSION": "1e-3",
            "BREAKER_MAX_DRAWDOWN": "off",
        }
    )
    shown = {name: value for name, value, _ in s.describe()}
    assert (shown["MAX_ORDER_NOTIONAL"], shown["CASH_BUFFER"], shown["SIM_COMMISSION"]) == (
        "5000.0",
        "0.1",
        "0.001",
    )
    assert (shown["BREAKER_MAX_DRAWDOWN"], shown["SIM_CASH"], shown["MIN_ALLOCATION"]) == (
        "0.0",
        "100000.0",
        "0.0",
    )
    assert (shown["FILL_TIMEOUT_SEC"], shown["ALLOCATION_MIN_HISTORY"], shown["TARGET_VOL"]) == (
        "60.0",
        "63",
        "",
    )
