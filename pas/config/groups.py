"""The settings groups: one frozen dataclass per component, each building what it configures.

Dollars, fractions and basis points are :class:`~decimal.Decimal`; durations are seconds
as floats; counts are ints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

from pas.config.defaults import (
    DEFAULT_ALLOCATION_METHOD,
    DEFAULT_ALLOCATION_MIN_HISTORY,
    DEFAULT_ALPACA_TIMEOUT_SEC,
    DEFAULT_BARS_FEED,
    DEFAULT_BENCHMARK,
    DEFAULT_BREAKER_MAX_DAILY_LOSS,
    DEFAULT_BREAKER_MAX_DRAWDOWN,
    DEFAULT_BROKER,
    DEFAULT_BUILD_MAX_STALE_DAYS,
    DEFAULT_CASH_BUFFER,
    DEFAULT_DATA_URL,
    DEFAULT_DB_NAME,
    DEFAULT_FEED,
    DEFAULT_FILL_POLL_SEC,
    DEFAULT_FILL_TIMEOUT_SEC,
    DEFAULT_LOG_FORMAT,
    DEFAULT_LOG_MAX_BYTES,
    DEFAULT_MAX_ALLOCATION,
    DEFAULT_MAX_ORDER_NOTIONAL,
    DEFAULT_MAX_POSITION_WEIGHT,
    DEFAULT_MIN_ALLOCATION,
    DEFAULT_MIN_ORDER_NOTIONAL,
    DEFAULT_MONGO_SOCKET_TIMEOUT_SEC,
    DEFAULT_MONGO_TIMEOUT_SEC,
    DEFAULT_ORDER_TYPE,
    DEFAULT_PRICE_COLLAR,
    DEFAULT_PRICE_MAX_STALE_DAYS,
    DEFAULT_QUIVER_AUTH_SCHEME,
    DEFAULT_QUIVER_CACHE_TTL_SEC,
    DEFAULT_QUIVER_MAX_WAIT_SEC,
    DEFAULT_QUIVER_RATE_SEC,
    DEFAULT_QUIVER_TIMEOUT_SEC,
    DEFAULT_REBALANCE_BAND,
    DEFAULT_SIM_CASH,
    DEFAULT_SIM_COMMISSION,
    DEFAULT_SIM_COMMISSION_PER_SHARE,
    DEFAULT_SIM_MARKET,
    DEFAULT_SIM_SLIPPAGE_BPS,
    DEFAULT_SIM_SPREAD_BPS,
    DEFAULT_WIKI_SOURCE,
    PAPER_BASE_URL,
    QUIVER_BASE_URL,
    WIKIMEDIA_BASE_URL,
)
from pas.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pas.portfolio.trading.limits import TradingLimits
    from pas.risk.breaker import BreakerLimits
    from pas.scrapers.limits import RateLimit


class QuiverClientConfig(TypedDict):
    """The settings a :class:`pas.scrapers.client.QuiverClient` takes (seconds as floats)."""

    api_key: str
    base_url: str
    auth_scheme: str
    rate_sec: float
    cache_ttl_sec: float
    timeout_sec: float
    rate_limits: Mapping[str, RateLimit]
    max_wait_sec: float


class SimCosts(TypedDict):
    """The simulated broker's cost model (:mod:`pas.portfolio.costs`): slippage and spread
    (basis points), commission (dollars per order and per share), shared by the live sim
    broker and the backtest."""

    slippage_bps: Decimal
    commission: Decimal
    commission_per_share: Decimal
    spread_bps: Decimal


class AllocationBounds(TypedDict):
    """The keyword arguments of :func:`pas.allocation.allocate`: fractions as floats, because
    the allocator's covariance maths is numpy's."""

    min_alloc: float
    max_alloc: float
    target_vol: float | None
    min_history: int


@dataclass(frozen=True)
class StoreSettings:
    """Where pas keeps its data: the embedded SQLite file under ``home``, or MongoDB."""

    home: Path
    mongo_uri: str | None = field(default=None, repr=False)  # may hold a password
    db_name: str = DEFAULT_DB_NAME
    mongo_timeout_sec: float = DEFAULT_MONGO_TIMEOUT_SEC
    mongo_socket_timeout_sec: float = DEFAULT_MONGO_SOCKET_TIMEOUT_SEC
    host_id: str | None = None  # this host in the locks it holds (default: its host name)

    @property
    def sqlite_path(self) -> Path:
        """The embedded database file."""
        return self.home / "pas.db"


@dataclass(frozen=True)
class AlpacaSettings:
    """The Alpaca account and its data feed (see ``alpaca_from_settings``)."""

    api_key: str | None = field(default=None, repr=False)
    api_secret: str | None = field(default=None, repr=False)
    base_url: str = PAPER_BASE_URL
    data_url: str = DEFAULT_DATA_URL
    feed: str = DEFAULT_FEED
    bars_feed: str = DEFAULT_BARS_FEED
    timeout_sec: float = DEFAULT_ALPACA_TIMEOUT_SEC
    allow_live: bool = False


@dataclass(frozen=True)
class QuiverSettings:
    """The QuiverQuant API client."""

    api_key: str | None = field(default=None, repr=False)
    rate_sec: float = DEFAULT_QUIVER_RATE_SEC
    base_url: str = QUIVER_BASE_URL
    auth_scheme: str = DEFAULT_QUIVER_AUTH_SCHEME
    cache_ttl_sec: float = DEFAULT_QUIVER_CACHE_TTL_SEC
    timeout_sec: float = DEFAULT_QUIVER_TIMEOUT_SEC
    rate_limits: str = ""
    max_wait_sec: float = DEFAULT_QUIVER_MAX_WAIT_SEC

    def client_config(self) -> QuiverClientConfig:
        """The client's configuration.

        Raises:
            ConfigError: ``QUIVER_API_KEY`` is not set or malformed, or ``QUIVER_RATE_LIMITS``
                is malformed.
        """
        from pas.scrapers.client import check_api_key
        from pas.scrapers.limits import parse_limits

        if not self.api_key:
            raise ConfigError(
                "QUIVER_API_KEY is not set; put your QuiverQuant API token in the environment or .env"
            )
        return QuiverClientConfig(
            rate_limits=parse_limits(self.rate_limits),
            max_wait_sec=self.max_wait_sec,
            api_key=check_api_key(self.api_key),
            base_url=self.base_url,
            auth_scheme=self.auth_scheme,
            rate_sec=self.rate_sec,
            cache_ttl_sec=self.cache_ttl_sec,
            timeout_sec=self.timeout_sec,
        )


@dataclass(frozen=True)
class WikiSettings:
    """Where the wiki dataset comes from (see pas/scrapers/wikimedia.py).

    Attributes:
        source: ``wikimedia`` (its Pageviews API) or ``quiver``.
        wikimedia_base_url: the Wikimedia REST API's base URL.
        articles: the user's ticker -> article CSV; None for the map bundled with pas.
        contact: the operator's email or URL, added to the User-Agent.
    """

    source: str = DEFAULT_WIKI_SOURCE
    wikimedia_base_url: str = WIKIMEDIA_BASE_URL
    articles: Path | None = None
    contact: str | None = None


@dataclass(frozen=True)
class TradingSettings:
    """The rebalance planner's rules, the pre-trade limits and the wait for fills.

    Attributes:
        cash_buffer: fraction of a portfolio's equity kept uninvested.
        min_order_notional: dollars; smaller orders are dropped.
        rebalance_band: weight tolerance (0.005 is half a percentage point).
        max_order_notional: dollars per broker order.
        max_position_weight: fraction of a portfolio's equity in one symbol.
        fill_timeout_sec: seconds a rebalance waits for fills.
        fill_poll_sec: seconds between polls while waiting.
        allow_margin: buys may borrow on margin (``ALLOW_MARGIN``; off by default).
        price_collar: fraction of the reference price (``PRICE_COLLAR``).
        order_type: ``limit`` (marketable limits at the collar) or ``market``.
        broker: the broker of ``rebalance``/``sync``/``reconcile``/``risk status --update``
            when ``--broker`` is not given (``alpaca`` or ``sim``).
    """

    cash_buffer: Decimal = DEFAULT_CASH_BUFFER
    min_order_notional: Decimal = DEFAULT_MIN_ORDER_NOTIONAL
    rebalance_band: Decimal = DEFAULT_REBALANCE_BAND
    max_order_notional: Decimal = DEFAULT_MAX_ORDER_NOTIONAL
    max_position_weight: Decimal = DEFAULT_MAX_POSITION_WEIGHT
    fill_timeout_sec: float = DEFAULT_FILL_TIMEOUT_SEC
    fill_poll_sec: float = DEFAULT_FILL_POLL_SEC
    allow_margin: bool = False
    price_collar: Decimal = DEFAULT_PRICE_COLLAR
    order_type: str = DEFAULT_ORDER_TYPE
    broker: str = DEFAULT_BROKER

    def limits(self) -> TradingLimits:
        """The planner's rules and the pre-trade risk limits."""
        from pas.portfolio.rebalance import PlanRules
        from pas.portfolio.trading.limits import TradingLimits

        return TradingLimits(
            rules=PlanRules(
                cash_buffer=self.cash_buffer,
                min_notional=self.min_order_notional,
                band=self.rebalance_band,
            ),
            max_order_notional=self.max_order_notional,
            max_position_weight=self.max_position_weight,
            allow_margin=self.allow_margin,
            price_collar=self.price_collar,
            limit_orders=self.order_type == "limit",
        )


@dataclass(frozen=True)
class SimSettings:
    """The embedded paper broker: costs (basis points, dollars), starting cash (dollars)
    and when its market is open."""

    slippage_bps: Decimal = DEFAULT_SIM_SLIPPAGE_BPS
    commission: Decimal = DEFAULT_SIM_COMMISSION
    commission_per_share: Decimal = DEFAULT_SIM_COMMISSION_PER_SHARE
    spread_bps: Decimal = DEFAULT_SIM_SPREAD_BPS
    cash: Decimal = DEFAULT_SIM_CASH
    market: str = DEFAULT_SIM_MARKET

    def costs(self) -> SimCosts:
        """The cost model of the sim broker and of the backtest."""
        return SimCosts(
            slippage_bps=self.slippage_bps,
            commission=self.commission,
            commission_per_share=self.commission_per_share,
            spread_bps=self.spread_bps,
        )


@dataclass(frozen=True)
class AllocationSettings:
    """How ``pas allocate`` and the backtest share capital between portfolios.

    Attributes:
        min_allocation, max_allocation: bounds of a portfolio's weight (fractions).
        target_vol: annualised volatility target (fraction), None for none.
        min_history: days of returns a portfolio needs before its statistics count.

    Raises:
        ConfigError: ``min_allocation`` is above ``max_allocation``.
    """

    method: str = DEFAULT_ALLOCATION_METHOD
    min_allocation: Decimal = DEFAULT_MIN_ALLOCATION
    max_allocation: Decimal = DEFAULT_MAX_ALLOCATION
    target_vol: Decimal | None = None
    min_history: int = DEFAULT_ALLOCATION_MIN_HISTORY

    def __post_init__(self) -> None:
        if self.min_allocation > self.max_allocation:
            raise ConfigError(
                f"MIN_ALLOCATION ({shown_number(self.min_allocation)}) is above MAX_ALLOCATION "
                f"({shown_number(self.max_allocation)}); lower MIN_ALLOCATION or raise MAX_ALLOCATION"
            )

    def bounds(self) -> AllocationBounds:
        """The allocator's bounds, volatility target and history requirement."""
        return AllocationBounds(
            min_alloc=float(self.min_allocation),
            max_alloc=float(self.max_allocation),
            target_vol=None if self.target_vol is None else float(self.target_vol),
            min_history=self.min_history,
        )


@dataclass(frozen=True)
class BreakerSettings:
    """The circuit breaker's limits (fractions of account equity; 0 disables a rule)."""

    max_drawdown: Decimal = DEFAULT_BREAKER_MAX_DRAWDOWN
    max_daily_loss: Decimal = DEFAULT_BREAKER_MAX_DAILY_LOSS

    def limits(self) -> BreakerLimits:
        """The breaker's configuration."""
        from pas.risk.breaker import BreakerLimits

        return BreakerLimits(self.max_drawdown, self.max_daily_loss)


@dataclass(frozen=True)
class DataSettings:
    """What the data the strategies and the reports read is measured against.

    Attributes:
        benchmark: the symbol performance is compared with.
        build_max_stale_days: days without a new record after which ``pas build`` refuses.
        price_max_stale_days: calendar days a needed close may lag the last completed
            session before trading on it is refused and valuing with it warns.
    """

    benchmark: str = DEFAULT_BENCHMARK
    build_max_stale_days: int = DEFAULT_BUILD_MAX_STALE_DAYS
    price_max_stale_days: int = DEFAULT_PRICE_MAX_STALE_DAYS


@dataclass(frozen=True)
class UnattendedSettings:
    """Running from cron: where alerts go and how large the run log grows.

    Attributes:
        alert_webhook_url: a Slack- or Discord-compatible webhook; it holds a token, so it
            is treated as a secret. None: failures are only printed (cron mails them).
        log_max_bytes: bytes after which ``PAS_HOME/pas.log`` rotates (5 old files are kept).
        log_format: how the run log's lines are written, ``text`` or ``json``.
    """

    alert_webhook_url: str | None = field(default=None, repr=False)
    log_max_bytes: int = DEFAULT_LOG_MAX_BYTES
    log_format: str = DEFAULT_LOG_FORMAT


def shown_number(value: Decimal) -> str:
    """A Decimal setting as ``pas config`` and its messages have always shown numbers
    (Python's shortest float text: ``5000`` reads ``5000.0``). For display only."""
    return str(float(value))
