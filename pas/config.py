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
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pas.errors import ConfigError, InputError
from pas.models import check_symbol

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
# Where the wiki dataset comes from: Quiver's wiki endpoints are gone from its schema, so
# Wikimedia's own Pageviews API is the default (see pas/scrapers/wikimedia.py).
WIKI_SOURCES = ("wikimedia", "quiver")
DEFAULT_WIKI_SOURCE = "wikimedia"
WIKIMEDIA_BASE_URL = "https://wikimedia.org/api/rest_v1"
# Seconds pas waits for each Alpaca answer (connect and read); see broker/alpaca.py.
DEFAULT_ALPACA_TIMEOUT_SEC = 10.0
DEFAULT_MIN_ALLOCATION = 0.0
DEFAULT_MAX_ALLOCATION = 1.0
# Allocation (see pas/allocation.py): the method `pas allocate` uses, and the days of
# returns a portfolio needs before its statistics count (about a quarter).
ALLOCATION_METHODS = ("score", "inverse_vol", "risk_parity", "equal")
DEFAULT_ALLOCATION_METHOD = "score"
DEFAULT_ALLOCATION_MIN_HISTORY = 63
# A volatility target above this (500% a year) is a typo, not a risk budget.
MAX_TARGET_VOL = 5.0
# A Mongo server that does not answer within this many seconds is reported as unreachable;
# pymongo's own default is 30 s, far too long for a cron job to hang.
DEFAULT_MONGO_TIMEOUT_SEC = 3.0
# Trading defaults (see the README's settings table). The cash buffer is a fraction of a
# portfolio's equity kept uninvested so slippage and commissions never overdraw it.
DEFAULT_CASH_BUFFER = 0.01
DEFAULT_MIN_ORDER_NOTIONAL = 1.0  # dollars: Alpaca's minimum for fractional orders
DEFAULT_REBALANCE_BAND = 0.005  # weight: 0.5 percentage points
DEFAULT_MAX_ORDER_NOTIONAL = 100_000.0  # dollars per broker order
DEFAULT_MAX_POSITION_WEIGHT = 0.5  # of a portfolio's equity
DEFAULT_FILL_TIMEOUT_SEC = 60.0
DEFAULT_FILL_POLL_SEC = 1.0  # between polls of order states and fills while waiting
DEFAULT_SIM_CASH = 100_000.0
SIM_MARKETS = ("weekdays", "always", "closed")
# `pas build` refuses when the newest record of a dataset it needs is older than this many
# days before the as-of time: every Quiver dataset gains rows every weekday, so ten days
# without one means the scrape is failing, and a build would run on old news.
DEFAULT_BUILD_MAX_STALE_DAYS = 10
# Circuit breaker limits (fractions of account equity; 0 or "off" disables a rule), see
# pas/risk/breaker.py: a drawdown from the high-water mark, and a loss in one market day.
DEFAULT_BREAKER_MAX_DRAWDOWN = 0.2
DEFAULT_BREAKER_MAX_DAILY_LOSS = 0.05

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


@dataclass(frozen=True)
class Settings:
    """The effective configuration of one pas invocation (see the README's settings table)."""

    home: Path
    mongo_uri: str | None = field(default=None, repr=False)  # may hold a password
    db_name: str = DEFAULT_DB_NAME
    min_allocation: float = DEFAULT_MIN_ALLOCATION
    max_allocation: float = DEFAULT_MAX_ALLOCATION
    target_vol: float | None = None
    allocation_method: str = DEFAULT_ALLOCATION_METHOD
    allocation_min_history: int = DEFAULT_ALLOCATION_MIN_HISTORY
    alpaca_api_key: str | None = field(default=None, repr=False)
    alpaca_api_secret: str | None = field(default=None, repr=False)
    alpaca_base_url: str = PAPER_BASE_URL
    alpaca_data_url: str = DEFAULT_DATA_URL
    alpaca_feed: str = DEFAULT_FEED
    alpaca_timeout_sec: float = DEFAULT_ALPACA_TIMEOUT_SEC
    allow_live: bool = False
    benchmark: str = DEFAULT_BENCHMARK
    quiver_api_key: str | None = field(default=None, repr=False)
    quiver_rate_sec: float = DEFAULT_QUIVER_RATE_SEC
    quiver_base_url: str = QUIVER_BASE_URL
    quiver_auth_scheme: str = DEFAULT_QUIVER_AUTH_SCHEME
    quiver_cache_ttl_sec: float = DEFAULT_QUIVER_CACHE_TTL_SEC
    quiver_timeout_sec: float = DEFAULT_QUIVER_TIMEOUT_SEC
    wiki_source: str = DEFAULT_WIKI_SOURCE
    wikimedia_base_url: str = WIKIMEDIA_BASE_URL
    wiki_articles: Path | None = None  # None: the map bundled with pas
    wikimedia_contact: str | None = None
    mongo_timeout_sec: float = DEFAULT_MONGO_TIMEOUT_SEC
    cash_buffer: float = DEFAULT_CASH_BUFFER
    min_order_notional: float = DEFAULT_MIN_ORDER_NOTIONAL
    rebalance_band: float = DEFAULT_REBALANCE_BAND
    max_order_notional: float = DEFAULT_MAX_ORDER_NOTIONAL
    max_position_weight: float = DEFAULT_MAX_POSITION_WEIGHT
    fill_timeout_sec: float = DEFAULT_FILL_TIMEOUT_SEC
    fill_poll_sec: float = DEFAULT_FILL_POLL_SEC
    sim_slippage_bps: float = 0.0
    sim_commission: float = 0.0
    sim_cash: float = DEFAULT_SIM_CASH
    sim_market: str = "weekdays"
    build_max_stale_days: int = DEFAULT_BUILD_MAX_STALE_DAYS
    breaker_max_drawdown: float = DEFAULT_BREAKER_MAX_DRAWDOWN
    breaker_max_daily_loss: float = DEFAULT_BREAKER_MAX_DAILY_LOSS
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def sqlite_path(self) -> Path:
        """The embedded database file."""
        return self.home / "pas.db"

    def describe(self) -> list[tuple[str, str, str]]:
        """(variable, display value, source) for every setting, secrets masked."""
        rows = []
        for spec in _SPECS:
            value = getattr(self, spec.attr)
            if value is None:
                shown = ""
            elif spec.name in SECRET_NAMES:
                shown = mask_secret(str(value))
            elif spec.name == "MONGO_URI":
                shown = redact_uri(str(value))
            else:
                shown = str(value)
            rows.append((spec.name, shown, self.sources.get(spec.name, "default")))
        return rows


def _text(name: str, raw: str) -> str:
    return raw


def _fraction(name: str, raw: str) -> float:
    value = _number(name, raw)
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"{name} must be a fraction between 0 and 1, got {raw!r}")
    return value


def _breaker_limit(name: str, raw: str) -> float:
    if raw.lower() == "off":
        return 0.0
    value = _number(name, raw)
    if not 0.0 <= value <= 1.0:
        raise ConfigError(
            f"{name} must be a fraction of equity in (0, 1] such as 0.2, "
            f"or 0 / off to disable it, got {raw!r}"
        )
    return value


def _number(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(
            f"{name} must be a number, got {raw!r}; fix it in the environment or .env"
        ) from None
    if not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {raw!r}")
    return value


def _at_least_zero(unit: str, *, strict: bool) -> Callable[[str, str], float]:
    """A parser of numbers that must be zero or more (``strict``: more than zero)."""
    bound = "more than zero" if strict else "zero or more"

    def parse(name: str, raw: str) -> float:
        value = _number(name, raw)
        if value < 0 or (strict and value == 0):
            raise ConfigError(f"{name} must be {bound}{unit}, got {raw!r}")
        return value

    return parse


_non_negative = _at_least_zero(" (seconds)", strict=False)
_positive = _at_least_zero(" (seconds)", strict=True)
_dollars = _at_least_zero(" dollars", strict=False)
_positive_dollars = _at_least_zero(" dollars", strict=True)


def _bps(name: str, raw: str) -> float:
    value = _number(name, raw)
    if not 0 <= value <= 1000:
        raise ConfigError(f"{name} must be between 0 and 1000 basis points, got {raw!r}")
    return value


def _sim_market(name: str, raw: str) -> str:
    if raw not in SIM_MARKETS:
        raise ConfigError(f"{name} must be one of {', '.join(SIM_MARKETS)}, got {raw!r}")
    return raw


def _target_vol(name: str, raw: str) -> float:
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


def _wiki_source(name: str, raw: str) -> str:
    value = raw.lower()
    if value not in WIKI_SOURCES:
        raise ConfigError(f"{name} must be one of {', '.join(WIKI_SOURCES)}, got {raw!r}")
    return value


def _contact(name: str, raw: str) -> str:
    # It goes into a header: one printable line, short.
    if len(raw) > 200 or not raw.isprintable():
        raise ConfigError(
            f"{name} must be one line of at most 200 printable characters (an email or URL), got {raw!r}"
        )
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
    attr: str
    parse: Callable[[str, str], Any]


_SPECS: tuple[_Spec, ...] = (
    _Spec("PAS_HOME", "home", _path),
    _Spec("MONGO_URI", "mongo_uri", _mongo_uri),
    _Spec("DB_NAME", "db_name", _db_name),
    _Spec("MIN_ALLOCATION", "min_allocation", _fraction),
    _Spec("MAX_ALLOCATION", "max_allocation", _fraction),
    _Spec("TARGET_VOL", "target_vol", _target_vol),
    _Spec("ALLOCATION_METHOD", "allocation_method", _allocation_method),
    _Spec("ALLOCATION_MIN_HISTORY", "allocation_min_history", _positive_int),
    _Spec("ALPACA_API_KEY", "alpaca_api_key", _text),
    _Spec("ALPACA_API_SECRET", "alpaca_api_secret", _text),
    _Spec("ALPACA_BASE_URL", "alpaca_base_url", _url),
    _Spec("ALPACA_DATA_URL", "alpaca_data_url", _url),
    _Spec("ALPACA_FEED", "alpaca_feed", _feed),
    _Spec("ALPACA_TIMEOUT_SEC", "alpaca_timeout_sec", _positive),
    _Spec("PAS_ALLOW_LIVE", "allow_live", _bool),
    _Spec("BENCHMARK", "benchmark", _symbol),
    _Spec("QUIVER_API_KEY", "quiver_api_key", _text),
    _Spec("QUIVER_RATE_SEC", "quiver_rate_sec", _non_negative),
    _Spec("QUIVER_BASE_URL", "quiver_base_url", _url),
    _Spec("QUIVER_AUTH_SCHEME", "quiver_auth_scheme", _auth_scheme),
    _Spec("QUIVER_CACHE_TTL", "quiver_cache_ttl_sec", _non_negative),
    _Spec("QUIVER_TIMEOUT_SEC", "quiver_timeout_sec", _positive),
    _Spec("WIKI_SOURCE", "wiki_source", _wiki_source),
    _Spec("WIKIMEDIA_BASE_URL", "wikimedia_base_url", _url),
    _Spec("WIKI_ARTICLES", "wiki_articles", _path),
    _Spec("WIKIMEDIA_CONTACT", "wikimedia_contact", _contact),
    _Spec("PAS_MONGO_TIMEOUT_SEC", "mongo_timeout_sec", _positive),
    _Spec("CASH_BUFFER", "cash_buffer", _fraction),
    _Spec("MIN_ORDER_NOTIONAL", "min_order_notional", _dollars),
    _Spec("REBALANCE_BAND", "rebalance_band", _fraction),
    _Spec("MAX_ORDER_NOTIONAL", "max_order_notional", _positive_dollars),
    _Spec("MAX_POSITION_WEIGHT", "max_position_weight", _fraction),
    _Spec("FILL_TIMEOUT_SEC", "fill_timeout_sec", _non_negative),
    _Spec("FILL_POLL_SEC", "fill_poll_sec", _positive),
    _Spec("SIM_SLIPPAGE_BPS", "sim_slippage_bps", _bps),
    _Spec("SIM_COMMISSION", "sim_commission", _dollars),
    _Spec("SIM_CASH", "sim_cash", _positive_dollars),
    _Spec("SIM_MARKET", "sim_market", _sim_market),
    _Spec("BUILD_MAX_STALE_DAYS", "build_max_stale_days", _positive_int),
    _Spec("BREAKER_MAX_DRAWDOWN", "breaker_max_drawdown", _breaker_limit),
    _Spec("BREAKER_MAX_DAILY_LOSS", "breaker_max_daily_loss", _breaker_limit),
)
SETTING_NAMES = tuple(spec.name for spec in _SPECS)
assert {s.attr for s in _SPECS} <= {f.name for f in fields(Settings)}


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

    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for spec in _SPECS:
        for source, mapping in layers:
            raw = mapping.get(spec.name)
            if raw is None or raw.strip() == "":
                continue
            values[spec.attr] = spec.parse(spec.name, raw.strip())
            sources[spec.name] = source
    values.setdefault("home", default_home(environ))
    settings = Settings(**values, sources=sources)
    if settings.min_allocation > settings.max_allocation:
        raise ConfigError(
            f"MIN_ALLOCATION ({settings.min_allocation}) is above MAX_ALLOCATION "
            f"({settings.max_allocation}); lower MIN_ALLOCATION or raise MAX_ALLOCATION"
        )
    return settings
