"""Building the Alpaca broker from the settings, behind the live-trading guard."""

from __future__ import annotations

from urllib.parse import urlsplit

import requests

from pas.clock import Clock, system_clock
from pas.config import PAPER_BASE_URL, AlpacaSettings
from pas.errors import ConfigError
from pas.http import Sleep
from pas.portfolio.broker.alpaca import AlpacaBroker

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def alpaca_from_settings(
    settings: AlpacaSettings,
    session: requests.Session | None = None,
    sleep: Sleep | None = None,
    clock: Clock = system_clock,
) -> AlpacaBroker:
    """The Alpaca broker the settings describe.

    Raises:
        ConfigError: the key or secret is missing, or the base URL is a live (real money)
            one and ``PAS_ALLOW_LIVE`` is not set.
    """
    if not settings.api_key or not settings.api_secret:
        raise ConfigError(
            "Alpaca needs ALPACA_API_KEY and ALPACA_API_SECRET; set both in the environment or .env"
        )
    if is_live_url(settings.base_url) and not settings.allow_live:
        raise ConfigError(
            f"ALPACA_BASE_URL {settings.base_url} is not the paper API and would trade real "
            f"money; set PAS_ALLOW_LIVE=1 to allow live trading, or use {PAPER_BASE_URL}"
        )
    return AlpacaBroker(
        session if session is not None else requests.Session(),
        settings.base_url,
        settings.data_url,
        settings.api_key,
        settings.api_secret,
        feed=settings.feed,
        bars_feed=settings.bars_feed,
        timeout=settings.timeout_sec,
        sleep=sleep,
        clock=clock,
    )


def is_live_url(url: str) -> bool:
    """True unless the URL is Alpaca's paper API or a loopback address (a test fake).

    Anything else (api.alpaca.markets, a proxy) may reach real money, so it needs consent.
    """
    host = (urlsplit(url).hostname or "").lower()
    return host != urlsplit(PAPER_BASE_URL).hostname and host not in LOOPBACK_HOSTS
