"""Dependency wiring shared by the commands: which broker, the Quiver client, how commands wait.

Every command that needs a broker or a Quiver client builds it here from the settings
(whose groups build the rest: ``settings.trading.limits()``, ``settings.breaker.limits()``),
so a choice is made in one place.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    import requests

    from pas.commands._app import AppState
    from pas.portfolio.broker.base import Broker
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
    BrokerName | None,
    typer.Option(
        "--broker",
        help="alpaca (REST, needs keys) or sim (embedded paper broker over stored prices). "
        "Default: PAS_BROKER, else alpaca.",
        show_default=False,
    ),
]


def chosen_broker(app_state: AppState, name: BrokerName | None) -> BrokerName:
    """``--broker`` when given, else the ``PAS_BROKER`` setting (environment or settings file)."""
    return BrokerName(app_state.settings.trading.broker) if name is None else name


def make_broker(app_state: AppState, name: BrokerName) -> Broker:
    """The chosen broker, built from settings."""
    settings = app_state.settings
    if name is BrokerName.SIM:
        from pas.portfolio.broker.sim import SimBroker

        return SimBroker(
            app_state.store,
            **settings.sim.costs(),
            cash=settings.sim.cash,
            market=settings.sim.market,
            max_stale_days=settings.data.price_max_stale_days,
        )
    from pas.portfolio.broker.alpaca import alpaca_from_settings

    broker: Broker = alpaca_from_settings(settings.alpaca, sleep=_pause)
    return broker


def quiver_client(
    app_state: AppState,
    *,
    refresh: bool,
    on_request: Callable[[str], None] | None = None,
    session: requests.Session | None = None,
) -> QuiverClient:
    """The QuiverQuant client of the settings, over the store's cache and rate slots.

    Raises:
        ConfigError: ``QUIVER_API_KEY`` is not set.
    """
    from pas.scrapers.client import QuiverClient, build_session

    config = app_state.settings.quiver.client_config()
    store = app_state.store
    return QuiverClient(
        session=build_session() if session is None else session,
        cache=store,
        limiter=store,
        **config,
        refresh=refresh,
        sleep=time.sleep,
        clock=store.clock,
        on_request=on_request,
    )
