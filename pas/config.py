"""Settings: read once from the environment and a ``.env`` file, validated, passed down.

The library never reads ``os.environ``: the command line hands :func:`load_settings` a
mapping (the process environment) and the path of an optional ``.env`` file. Values in
the environment win over the ``.env`` file; command options win over both.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict
from urllib.parse import urlsplit, urlunsplit

from pas.errors import ConfigError, InputError
from pas.models import check_symbol

if TYPE_CHECKING:
    from pas.portfolio.trading import TradingLimits
    from pas.risk.breaker import BreakerLimits

PAPER_BASE_URL = "https://paper-api.alpaca.markets"
DEFAULT_DATA_URL = "https://data.alpaca.markets"
DEFAULT_FEED = "iex"
# Alpaca's stock data feeds: iex is free; sip needs a subscription for recent data.
ALPACA_FEEDS = ("iex", "sip", "delayed_sip", "boats", "overnight", "otc")
DEFAULT_BENCHMARK = "SPY"
DEFAULT_DB_NAME = "quant_fund"
DEFAULT_QUIVER_RATE_SEC = 1.1
QUIVER_BASE_URL = "https://api.quiverquant.com/beta"
DEFAULT_QUIVER_AUTH_SCHEME = "Token"
# Quiver refreshes its datasets a few times a day; a response younger than this is reused.
DEFAULT_QUIVER_CACHE_TTL_SEC = 6 * 3600.0
# Bulk endpoints take tens of seconds to answer; anything slower is treated as a timeout.
DEFAULT_QUIVER_TIMEOUT_SEC = 60.0
# Seconds pas waits for each Alpaca answer (connect and read); see broker/alpaca.py.
DEFAULT_ALPACA_TIMEOUT_SEC = 10.0
DEFAULT_MIN_ALLOCATION = Decimal(0)  # fractions of the book
DEFAULT_MAX_ALLOCATION = Decimal(1)
# Allocation (see pas/allocation.py): the method `pas allocate` uses, and the days of
# returns a portfolio needs before its statistics count (about a quarter).
ALLOCATION_METHODS = ("score", "inverse_vol", "risk_parity", "equal")
DEFAULT_ALLOCATION_METHOD = "score"
DEFAULT_ALLOCATION_MIN_HISTORY = 63
# A volatility target above this (500% a year) is a typo, not a risk budget.
MAX_TARGET_VOL = Decimal(5)
# A Mongo server that does not answer within this many seconds is reported as unreachable;
# pymongo's own default is 30 s, far too long for a cron job to hang.
DEFAULT_MONGO_TIMEOUT_SEC = 3.0
# Trading defaults (see the README's settings table). The cash buffer is a fraction of a
# portfolio's equity kept uninvested so slippage and commissions never overdraw it.
DEFAULT_CASH_BUFFER = Decimal("0.01")
DEFAULT_MIN_ORDER_NOTIONAL = Decimal(1)  # dollars: Alpaca's minimum for fractional orders
DEFAULT_REBALANCE_BAND = Decimal("0.005")  # weight: 0.5 percentage points
DEFAULT_MAX_ORDER_NOTIONAL = Decimal(100_000)  # dollars per broker order
DEFAULT_MAX_POSITION_WEIGHT = Decimal("0.5")  # of a portfolio's equity
DEFAULT_FILL_TIMEOUT_SEC = 60.0
DEFAULT_FILL_POLL_SEC = 1.0  # between polls of order states and fills while waiting
DEFAULT_SIM_SLIPPAGE_BPS = Decimal(0)
DEFAULT_SIM_COMMISSION = Decimal(0)  # dollars per fill
DEFAULT_SIM_CASH = Decimal(100_000)  # dollars
SIM_MARKETS = ("weekdays", "always", "closed")
DEFAULT_SIM_MARKET = "weekdays"
# `pas build` refuses when the newest record of a dataset it needs is older than this many
# days before the as-of time: every Quiver dataset gains rows every weekday, so ten days
# without one means the scrape is failing, and a build would run on old news.
DEFAULT_BUILD_MAX_STALE_DAYS = 10
# Circuit breaker limits (fractions of account equity; 0 or "off" disables a rule), see
# pas/risk/breaker.py: a drawdown from the high-water mark, and a loss in one market day.
DEFAULT_BREAKER_MAX_DRAWDOWN = Decimal("0.2")
DEFAULT_BREAKER_MAX_DAILY_LOSS = Decimal("0.05")

SECRET_NAMES = frozenset({"ALPACA_API_KEY", "ALPACA_API_SECRET", "QUIVER_API_KEY"})
_DB_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,63}$")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def mask_secret(value: str | None) -> str:
    """Shows the first 4 characters of a secret, then an ellipsis; empty stays empty."""
    if not value:
        return ""
    return value[:4] + "…"


def redact_uri(uri: str) -> str:
    """Replaces the password of a URI such as ``mongodb://user:pw@host`` with ``****``."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "<unparseable URI>"
    if parts.password is None:
        return uri
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:****@{netloc}"))


def default_home(environ: Mapping[str, str]) -> Path:
    """The XDG data directory for pas: ``$XDG_DATA_HOME/pas`` or ``~/.local/share/pas``."""
    xdg = environ.get("XDG_DATA_HOME")
    if xdg:
        return Path(xdg) / "pas"
    home = environ.get("HOME")
    base = Path(home) if home else Path.home()
    return base / ".local" / "share" / "pas"


class QuiverClientConfig(TypedDict):
    """The settings a :class:`pas.scrapers.client.QuiverClient` takes (seconds as floats)."""

    api_key: str
    base_url: str
    auth_scheme: str
    rate_sec: float
    cache_ttl_sec: float
    timeout_sec: float


class SimCosts(TypedDict):
    """The simulated broker's cost model: slippage (basis points) and commission (dollars
    per fill), shared by the live sim broker and the backtest."""

    slippage_bps: Decimal
    commission: Decimal


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

    def client_config(self) -> QuiverClientConfig:
        """The client's configuration.

        Raises:
            ConfigError: ``QUIVER_API_KEY`` is not set.
        """
        if not self.api_key:
            raise ConfigError(
                "QUIVER_API_KEY is not set; put your QuiverQuant API token in the environment or .env"
            )
        return QuiverClientConfig(
            api_key=self.api_key,
            base_url=self.base_url,
            auth_scheme=self.auth_scheme,
            rate_sec=self.rate_sec,
            cache_ttl_sec=self.cache_ttl_sec,
            timeout_sec=self.timeout_sec,
        )


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
    """

    cash_buffer: Decimal = DEFAULT_CASH_BUFFER
    min_order_notional: Decimal = DEFAULT_MIN_ORDER_NOTIONAL
    rebalance_band: Decimal = DEFAULT_REBALANCE_BAND
    max_order_notional: Decimal = DEFAULT_MAX_ORDER_NOTIONAL
    max_position_weight: Decimal = DEFAULT_MAX_POSITION_WEIGHT
    fill_timeout_sec: float = DEFAULT_FILL_TIMEOUT_SEC
    fill_poll_sec: float = DEFAULT_FILL_POLL_SEC

    def limits(self) -> TradingLimits:
        """The planner's rules and the pre-trade risk limits."""
        from pas.portfolio.rebalance import PlanRules
        from pas.portfolio.trading import TradingLimits

        return TradingLimits(
            rules=PlanRules(
                cash_buffer=self.cash_buffer,
                min_notional=self.min_order_notional,
                band=self.rebalance_band,
            ),
            max_order_notional=self.max_order_notional,
            max_position_weight=self.max_position_weight,
        )


@dataclass(frozen=True)
class SimSettings:
    """The embedded paper broker: costs (basis points, dollars), starting cash (dollars)
    and when its market is open."""

    slippage_bps: Decimal = DEFAULT_SIM_SLIPPAGE_BPS
    commission: Decimal = DEFAULT_SIM_COMMISSION
    cash: Decimal = DEFAULT_SIM_CASH
    market: str = DEFAULT_SIM_MARKET

    def costs(self) -> SimCosts:
        """The cost model of the sim broker and of the backtest."""
        return SimCosts(slippage_bps=self.slippage_bps, commission=self.commission)


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
                f"MIN_ALLOCATION ({_shown_number(self.min_allocation)}) is above MAX_ALLOCATION "
                f"({_shown_number(self.max_allocation)}); lower MIN_ALLOCATION or raise MAX_ALLOCATION"
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
    """

    benchmark: str = DEFAULT_BENCHMARK
    build_max_stale_days: int = DEFAULT_BUILD_MAX_STALE_DAYS


@dataclass(frozen=True)
class Settings:
    """The effective configuration of one pas invocation, one group per component (see the
    README's settings table)."""

    store: StoreSettings
    alpaca: AlpacaSettings = field(default_factory=AlpacaSettings)
    quiver: QuiverSettings = field(default_factory=QuiverSettings)
    trading: TradingSettings = field(default_factory=TradingSettings)
    sim: SimSettings = field(default_factory=SimSettings)
    allocation: AllocationSettings = field(default_factory=AllocationSettings)
    breaker: BreakerSettings = field(default_factory=BreakerSettings)
    data: DataSettings = field(default_factory=DataSettings)
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def describe(self) -> list[tuple[str, str, str]]:
        """(variable, display value, source) for every setting, secrets masked."""
        rows = []
        for spec in _SPECS:
            value = getattr(getattr(self, spec.group), spec.attr)
            if value is None:
                shown = ""
            elif spec.name in SECRET_NAMES:
                shown = mask_secret(str(value))
            elif spec.name == "MONGO_URI":
                shown = redact_uri(str(value))
            elif isinstance(value, Decimal):
                shown = _shown_number(value)
            else:
                shown = str(value)
            rows.append((spec.name, shown, self.sources.get(spec.name, "default")))
        return rows


def _shown_number(value: Decimal) -> str:
    """A Decimal setting as ``pas config`` and its messages have always shown numbers
    (Python's shortest float text: ``5000`` reads ``5000.0``). For display only."""
    return str(float(value))


def _text(name: str, raw: str) -> str:
    return raw


def _fraction(name: str, raw: str) -> Decimal:
    value = _number(name, raw)
    if not 0 <= value <= 1:
        raise ConfigError(f"{name} must be a fraction between 0 and 1, got {raw!r}")
    return value


def _breaker_limit(name: str, raw: str) -> Decimal:
    if raw.lower() == "off":
        return Decimal(0)
    value = _number(name, raw)
    if not 0 <= value <= 1:
        raise ConfigError(
            f"{name} must be a fraction of equity in (0, 1] such as 0.2, "
            f"or 0 / off to disable it, got {raw!r}"
        )
    return value


def _number(name: str, raw: str) -> Decimal:
    """The exact decimal that ``raw`` spells (``0.1`` is one tenth, not the nearest float).

    What counts as a number, and as finite, is float's grammar and range, as it always
    has been: ``1e400`` is refused as not finite.
    """
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(
            f"{name} must be a number, got {raw!r}; fix it in the environment or .env"
        ) from None
    if not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {raw!r}")
    return Decimal(raw)


def _at_least_zero(unit: str, *, strict: bool) -> Callable[[str, str], Decimal]:
    """A parser of numbers that must be zero or more (``strict``: more than zero)."""
    bound = "more than zero" if strict else "zero or more"

    def parse(name: str, raw: str) -> Decimal:
        value = _number(name, raw)
        if value < 0 or (strict and value == 0):
            raise ConfigError(f"{name} must be {bound}{unit}, got {raw!r}")
        return value

    return parse


def _seconds(parse: Callable[[str, str], Decimal]) -> Callable[[str, str], float]:
    """Durations are floats: they go to ``time.sleep``, timeouts and timedeltas."""
    return lambda name, raw: float(parse(name, raw))


_non_negative = _seconds(_at_least_zero(" (seconds)", strict=False))
_positive = _seconds(_at_least_zero(" (seconds)", strict=True))
_dollars = _at_least_zero(" dollars", strict=False)
_positive_dollars = _at_least_zero(" dollars", strict=True)


def _bps(name: str, raw: str) -> Decimal:
    value = _number(name, raw)
    if not 0 <= value <= 1000:
        raise ConfigError(f"{name} must be between 0 and 1000 basis points, got {raw!r}")
    return value


def _sim_market(name: str, raw: str) -> str:
    if raw not in SIM_MARKETS:
        raise ConfigError(f"{name} must be one of {', '.join(SIM_MARKETS)}, got {raw!r}")
    return raw


def _target_vol(name: str, raw: str) -> Decimal:
    value = _number(name, raw)
    if not 0 < value <= MAX_TARGET_VOL:
        raise ConfigError(
            f"{name} must be an annualised volatility as a fraction above 0 and at most "
            f"{MAX_TARGET_VOL:g} (0.1 is 10%), got {raw!r}"
        )
    return value


def _allocation_method(name: str, raw: str) -> str:
    if raw not in ALLOCATION_METHODS:
        raise ConfigError(f"{name} must be one of {', '.join(ALLOCATION_METHODS)}, got {raw!r}")
    return raw


def _positive_int(name: str, raw: str) -> int:
    if not raw.isdigit() or int(raw) == 0:
        raise ConfigError(f"{name} must be a whole number of days, 1 or more, got {raw!r}")
    return int(raw)


def _url(name: str, raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{name} must be an http(s) URL such as https://host/path, got {raw!r}")
    return raw.rstrip("/")


def _feed(name: str, raw: str) -> str:
    value = raw.lower()
    if value not in ALPACA_FEEDS:
        raise ConfigError(f"{name} must be one of {', '.join(ALPACA_FEEDS)}, got {raw!r}")
    return value


def _bool(name: str, raw: str) -> bool:
    value = raw.lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be 1 or 0 (true/false, yes/no, on/off), got {raw!r}")


def _symbol(name: str, raw: str) -> str:
    try:
        return check_symbol(raw)
    except InputError:
        raise ConfigError(f"{name} must be a ticker symbol such as SPY, got {raw!r}") from None


def _auth_scheme(name: str, raw: str) -> str:
    if not re.fullmatch(r"[A-Za-z]{1,20}", raw):
        raise ConfigError(f"{name} must be one word such as Token or Bearer, got {raw!r}")
    return raw


def _mongo_uri(name: str, raw: str) -> str:
    if not raw.startswith(("mongodb://", "mongodb+srv://")):
        raise ConfigError(
            f"{name} must start with mongodb:// or mongodb+srv://, got {redact_uri(raw)!r}; "
            "unset it to use the embedded store"
        )
    return raw


def _db_name(name: str, raw: str) -> str:
    if not _DB_NAME_RE.match(raw):
        raise ConfigError(f"{name} must be 1-63 letters, digits, '_' or '-', got {raw!r}")
    return raw


def _path(name: str, raw: str) -> Path:
    return Path(raw).expanduser()


@dataclass(frozen=True)
class _Spec:
    name: str
    group: str  # the field of Settings holding the group
    attr: str  # the field of the group
    parse: Callable[[str, str], Any]


_SPECS: tuple[_Spec, ...] = (
    _Spec("PAS_HOME", "store", "home", _path),
    _Spec("MONGO_URI", "store", "mongo_uri", _mongo_uri),
    _Spec("DB_NAME", "store", "db_name", _db_name),
    _Spec("MIN_ALLOCATION", "allocation", "min_allocation", _fraction),
    _Spec("MAX_ALLOCATION", "allocation", "max_allocation", _fraction),
    _Spec("TARGET_VOL", "allocation", "target_vol", _target_vol),
    _Spec("ALLOCATION_METHOD", "allocation", "method", _allocation_method),
    _Spec("ALLOCATION_MIN_HISTORY", "allocation", "min_history", _positive_int),
    _Spec("ALPACA_API_KEY", "alpaca", "api_key", _text),
    _Spec("ALPACA_API_SECRET", "alpaca", "api_secret", _text),
    _Spec("ALPACA_BASE_URL", "alpaca", "base_url", _url),
    _Spec("ALPACA_DATA_URL", "alpaca", "data_url", _url),
    _Spec("ALPACA_FEED", "alpaca", "feed", _feed),
    _Spec("ALPACA_TIMEOUT_SEC", "alpaca", "timeout_sec", _positive),
    _Spec("PAS_ALLOW_LIVE", "alpaca", "allow_live", _bool),
    _Spec("BENCHMARK", "data", "benchmark", _symbol),
    _Spec("QUIVER_API_KEY", "quiver", "api_key", _text),
    _Spec("QUIVER_RATE_SEC", "quiver", "rate_sec", _non_negative),
    _Spec("QUIVER_BASE_URL", "quiver", "base_url", _url),
    _Spec("QUIVER_AUTH_SCHEME", "quiver", "auth_scheme", _auth_scheme),
    _Spec("QUIVER_CACHE_TTL", "quiver", "cache_ttl_sec", _non_negative),
    _Spec("QUIVER_TIMEOUT_SEC", "quiver", "timeout_sec", _positive),
    _Spec("PAS_MONGO_TIMEOUT_SEC", "store", "mongo_timeout_sec", _positive),
    _Spec("CASH_BUFFER", "trading", "cash_buffer", _fraction),
    _Spec("MIN_ORDER_NOTIONAL", "trading", "min_order_notional", _dollars),
    _Spec("REBALANCE_BAND", "trading", "rebalance_band", _fraction),
    _Spec("MAX_ORDER_NOTIONAL", "trading", "max_order_notional", _positive_dollars),
    _Spec("MAX_POSITION_WEIGHT", "trading", "max_position_weight", _fraction),
    _Spec("FILL_TIMEOUT_SEC", "trading", "fill_timeout_sec", _non_negative),
    _Spec("FILL_POLL_SEC", "trading", "fill_poll_sec", _positive),
    _Spec("SIM_SLIPPAGE_BPS", "sim", "slippage_bps", _bps),
    _Spec("SIM_COMMISSION", "sim", "commission", _dollars),
    _Spec("SIM_CASH", "sim", "cash", _positive_dollars),
    _Spec("SIM_MARKET", "sim", "market", _sim_market),
    _Spec("BUILD_MAX_STALE_DAYS", "data", "build_max_stale_days", _positive_int),
    _Spec("BREAKER_MAX_DRAWDOWN", "breaker", "max_drawdown", _breaker_limit),
    _Spec("BREAKER_MAX_DAILY_LOSS", "breaker", "max_daily_loss", _breaker_limit),
)
SETTING_NAMES = tuple(spec.name for spec in _SPECS)
# The class of each group, by its field name in Settings.
_GROUPS: Mapping[str, type] = {
    "store": StoreSettings,
    "alpaca": AlpacaSettings,
    "quiver": QuiverSettings,
    "trading": TradingSettings,
    "sim": SimSettings,
    "allocation": AllocationSettings,
    "breaker": BreakerSettings,
    "data": DataSettings,
}
assert set(_GROUPS) == {f.name for f in fields(Settings)} - {"sources"}
assert all(s.attr in {f.name for f in fields(_GROUPS[s.group])} for s in _SPECS)


def read_env_file(path: Path) -> dict[str, str]:
    """The key/value pairs of a ``.env`` file (python-dotenv syntax); missing file: empty."""
    from dotenv import dotenv_values

    if not path.is_file():
        return {}
    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def load_settings(
    environ: Mapping[str, str],
    env_file: Path | None = None,
    overrides: Mapping[str, str] | None = None,
) -> Settings:
    """Builds validated :class:`Settings`.

    Args:
        environ: the process environment (or a test's mapping).
        env_file: a ``.env`` file to read; values in ``environ`` win over it.
        overrides: values from command options, by variable name; they win over both.

    Raises:
        ConfigError: a value is invalid; the message names the variable and the fix.
    """
    layers: list[tuple[str, Mapping[str, str]]] = []
    if env_file is not None:
        layers.append((f".env ({env_file})", read_env_file(env_file)))
    layers.append(("environment", environ))
    layers.append(("option", overrides or {}))

    values: dict[str, dict[str, Any]] = {group: {} for group in _GROUPS}
    sources: dict[str, str] = {}
    for spec in _SPECS:
        for source, mapping in layers:
            raw = mapping.get(spec.name)
            if raw is None or raw.strip() == "":
                continue
            values[spec.group][spec.attr] = spec.parse(spec.name, raw.strip())
            sources[spec.name] = source
    values["store"].setdefault("home", default_home(environ))
    groups = {group: _GROUPS[group](**kwargs) for group, kwargs in values.items()}
    return Settings(**groups, sources=sources)
