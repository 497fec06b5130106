"""Dependency wiring shared by the commands: which broker, the trading limits, the Quiver client.

Every command that needs a broker, trading limits or a Quiver client builds it here from
the settings, so a choice (a setting's meaning, a default) is made in one place.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from pas.errors import ConfigError

if TYPE_CHECKING:
    from pas.commands._app import AppState
    from pas.config import Settings
    from pas.portfolio.broker.base import Broker
    from pas.portfolio.trading.limits import TradingLimits
    from pas.scrapers.client import QuiverClient


def pause(seconds: float) -> None:
    """How commands wait: between fill polls and between broker retries.

    The one seam tests replace (``monkeypatch.setattr(_wiring, "pause", ...)``) so that no
    command test sleeps for real.
    """
    time.sleep(seconds)


def _pause(seconds: float) -> None:
    pause(seconds)  # looked up at call time, so a patched ``pause`` takes effect


class BrokerName(StrEnum):
    """Which broker a command talks to."""

    ALPACA = "alpaca"
    SIM = "sim"


BrokerOption = Annotated[
    BrokerName,
    typer.Option(
        "--broker",
        envvar="PAS_BROKER",
        help="alpaca (REST, needs keys) or sim (embedded paper broker over stored prices).",
    ),
]


def make_broker(app_state: AppState, name: BrokerName) -> Broker:
    """The chosen broker, built from settings."""
    settings = app_state.settings
    if name is BrokerName.SIM:
        from pas.portfolio.broker.sim import SimBroker

        return SimBroker(
            app_state.store,
            slippage_bps=Decimal(str(settings.sim_slippage_bps)),
            commission=Decimal(str(settings.sim_commission)),
            cash=Decimal(str(settings.sim_cash)),
            market=settings.sim_market,
        )
    from pas.portfolio.broker.alpaca import alpaca_from_settings

    broker: Broker = alpaca_from_settings(settings, sleep=_pause)
    return broker


def trading_limits(settings: Settings) -> TradingLimits:
    """The plan rules and pre-trade limits the settings give (dollars, fractions)."""
    from pas.portfolio.rebalance import PlanRules
    from pas.portfolio.trading.limits import TradingLimits

    return TradingLimits(
        rules=PlanRules(
            cash_buffer=Decimal(str(settings.cash_buffer)),
            min_notional=Decimal(str(settings.min_order_notional)),
            band=Decimal(str(settings.rebalance_band)),
        ),
        max_order_notional=Decimal(str(settings.max_order_notional)),
        max_position_weight=Decimal(str(settings.max_position_weight)),
    )


def quiver_client(
    app_state: AppState, *, refresh: bool, on_request: Callable[[str], None] | None = None
) -> QuiverClient:
    """The QuiverQuant client of the settings, over the store's cache and rate slots.

    Raises:
        ConfigError: ``QUIVER_API_KEY`` is not set.
    """
    from pas.scrapers.client import QuiverClient, build_session

    settings = app_state.settings
    if not settings.quiver_api_key:
        raise ConfigError(
            "QUIVER_API_KEY is not set; put your QuiverQuant API token in the environment or .env"
        )
    store = app_state.store
    return QuiverClient(
        session=build_session(),
        store=store,
        api_key=settings.quiver_api_key,
        base_url=settings.quiver_base_url,
        auth_scheme=settings.quiver_auth_scheme,
        rate_sec=settings.quiver_rate_sec,
        cache_ttl_sec=settings.quiver_cache_ttl_sec,
        timeout_sec=settings.quiver_timeout_sec,
        refresh=refresh,
        sleep=time.sleep,
        clock=store.clock,
        on_request=on_request,
    )
