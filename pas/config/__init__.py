"""Settings: read once from the environment and a ``.env`` file, validated, passed down.

The library never reads ``os.environ``: the command line hands :func:`load_settings` a
mapping (the process environment) and the path of an optional ``.env`` file. Values in
the environment win over the ``.env`` file; command options win over both.

:class:`Settings` holds one frozen group per component (store, Alpaca, Quiver, wiki, trading,
sim broker, allocation, circuit breaker, data); a group builds the configuration object
of its component (``settings.trading.limits()``). Dollars, fractions and basis points
are exact :class:`~decimal.Decimal` values parsed from the text as written; durations are
seconds as floats; counts are ints.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pas.config.defaults import (
    ALLOCATION_METHODS,
    ALPACA_FEEDS,
    BROKERS,
    DEFAULT_ALLOCATION_METHOD,
    DEFAULT_ALLOCATION_MIN_HISTORY,
    DEFAULT_BREAKER_MAX_DAILY_LOSS,
    DEFAULT_BREAKER_MAX_DRAWDOWN,
    LOG_FORMATS,
    MAX_TARGET_VOL,
    ORDER_TYPES,
    PAPER_BASE_URL,
    SIM_MARKETS,
    WIKI_SOURCES,
)
from pas.config.envfile import read_env_file
from pas.config.groups import (
    AllocationBounds,
    AllocationSettings,
    AlpacaSettings,
    BreakerSettings,
    DataSettings,
    QuiverClientConfig,
    QuiverSettings,
    SimCosts,
    SimSettings,
    StoreSettings,
    TradingSettings,
    UnattendedSettings,
    WikiSettings,
    shown_number,
)
from pas.errors import ConfigError, InputError
from pas.models import check_symbol

# The names other modules import from pas.config; the defaults live in pas.config.defaults.
__all__ = [
    "ALLOCATION_METHODS",
    "ALPACA_FEEDS",
    "DEFAULT_ALLOCATION_METHOD",
    "DEFAULT_ALLOCATION_MIN_HISTORY",
    "DEFAULT_BREAKER_MAX_DAILY_LOSS",
    "DEFAULT_BREAKER_MAX_DRAWDOWN",
    "ENV_FILE_NAME",
    "MAX_TARGET_VOL",
    "PAPER_BASE_URL",
    "SECRET_NAMES",
    "SETTING_NAMES",
    "SIM_MARKETS",
    "AllocationBounds",
    "AllocationSettings",
    "AlpacaSettings",
    "BreakerSettings",
    "DataSettings",
    "QuiverClientConfig",
    "QuiverSettings",
    "Settings",
    "SimCosts",
    "SimSettings",
    "StoreSettings",
    "TradingSettings",
    "UnattendedSettings",
    "WikiSettings",
    "default_home",
    "load_settings",
    "mask_secret",
    "read_env_file",
    "redact_uri",
]

# The setting that names the settings file: it comes from an option or the environment,
# never from the file itself.
ENV_FILE_NAME = "PAS_ENV_FILE"
SECRET_NAMES = frozenset({"ALPACA_API_KEY", "ALPACA_API_SECRET", "QUIVER_API_KEY", "ALERT_WEBHOOK_URL"})
_DB_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,63}$")
_HOST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
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
    """The effective configuration of one pas invocation, one group per component (see the
    README's settings table)."""

    store: StoreSettings
    alpaca: AlpacaSettings = field(default_factory=AlpacaSettings)
    quiver: QuiverSettings = field(default_factory=QuiverSettings)
    wiki: WikiSettings = field(default_factory=WikiSettings)
    trading: TradingSettings = field(default_factory=TradingSettings)
    sim: SimSettings = field(default_factory=SimSettings)
    allocation: AllocationSettings = field(default_factory=AllocationSettings)
    breaker: BreakerSettings = field(default_factory=BreakerSettings)
    data: DataSettings = field(default_factory=DataSettings)
    unattended: UnattendedSettings = field(default_factory=UnattendedSettings)
    env_file: Path | None = None
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def describe(self) -> list[tuple[str, str, str]]:
        """(variable, display value, source) for every setting, secrets masked; the first
        row is the settings file itself (``PAS_ENV_FILE``)."""
        env_file = "" if self.env_file is None else str(self.env_file)
        rows = [(ENV_FILE_NAME, env_file, self.sources.get(ENV_FILE_NAME, "default"))]
        for spec in _SPECS:
            value = getattr(getattr(self, spec.group), spec.attr)
            if value is None:
                shown = ""
            elif spec.name in SECRET_NAMES:
                shown = mask_secret(str(value))
            elif spec.name == "MONGO_URI":
                shown = redact_uri(str(value))
            elif isinstance(value, Decimal):
                shown = shown_number(value)
            else:
                shown = str(value)
            rows.append((spec.name, shown, self.sources.get(spec.name, "default")))
        return rows


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


def _one_of(options: Sequence[str], fold_case: bool = False) -> Callable[[str, str], str]:
    """A parser that accepts one of ``options`` (compared in lower case when ``fold_case``)."""

    def parse(name: str, raw: str) -> str:
        value = raw.lower() if fold_case else raw
        if value not in options:
            raise ConfigError(f"{name} must be one of {', '.join(options)}, got {raw!r}")
        return value

    return parse


def _target_vol(name: str, raw: str) -> Decimal:
    value = _number(name, raw)
    if not 0 < value <= MAX_TARGET_VOL:
        raise ConfigError(
            f"{name} must be an annualised volatility as a fraction above 0 and at most "
            f"{MAX_TARGET_VOL:g} (0.1 is 10%), got {raw!r}"
        )
    return value


def _positive_int(name: str, raw: str) -> int:
    if not raw.isdigit() or int(raw) == 0:
        raise ConfigError(f"{name} must be a whole number of days, 1 or more, got {raw!r}")
    return int(raw)


def _url(name: str, raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{name} must be an http(s) URL such as https://host/path, got {raw!r}")
    return raw.rstrip("/")


def _webhook(name: str, raw: str) -> str:
    # The URL holds the webhook's token: the error must not echo it.
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{name} must be an http(s) URL such as https://hooks.slack.com/services/...")
    return raw


def _collar(name: str, raw: str) -> Decimal:
    value = _fraction(name, raw)
    if not Decimal(0) < value < Decimal(1):
        raise ConfigError(f"{name} must be a fraction above 0 and below 1 (0.1 is 10%), got {raw!r}")
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


def _host_id(name: str, raw: str) -> str:
    if not _HOST_ID_RE.match(raw):
        raise ConfigError(
            f"{name} must be 1-64 letters, digits, '.', '_' or '-' (it names this host in the "
            f"locks it holds), got {raw!r}; fix it or unset it to use the host name"
        )
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
    _Spec("ALLOCATION_METHOD", "allocation", "method", _one_of(ALLOCATION_METHODS)),
    _Spec("ALLOCATION_MIN_HISTORY", "allocation", "min_history", _positive_int),
    _Spec("ALPACA_API_KEY", "alpaca", "api_key", _text),
    _Spec("ALPACA_API_SECRET", "alpaca", "api_secret", _text),
    _Spec("ALPACA_BASE_URL", "alpaca", "base_url", _url),
    _Spec("ALPACA_DATA_URL", "alpaca", "data_url", _url),
    _Spec("ALPACA_FEED", "alpaca", "feed", _one_of(ALPACA_FEEDS, fold_case=True)),
    _Spec("ALPACA_BARS_FEED", "alpaca", "bars_feed", _one_of(ALPACA_FEEDS, fold_case=True)),
    _Spec("ALPACA_TIMEOUT_SEC", "alpaca", "timeout_sec", _positive),
    _Spec("PAS_ALLOW_LIVE", "alpaca", "allow_live", _bool),
    _Spec("BENCHMARK", "data", "benchmark", _symbol),
    _Spec("QUIVER_API_KEY", "quiver", "api_key", _text),
    _Spec("QUIVER_RATE_SEC", "quiver", "rate_sec", _non_negative),
    _Spec("QUIVER_BASE_URL", "quiver", "base_url", _url),
    _Spec("QUIVER_AUTH_SCHEME", "quiver", "auth_scheme", _auth_scheme),
    _Spec("QUIVER_CACHE_TTL", "quiver", "cache_ttl_sec", _non_negative),
    _Spec("QUIVER_TIMEOUT_SEC", "quiver", "timeout_sec", _positive),
    _Spec("QUIVER_RATE_LIMITS", "quiver", "rate_limits", _text),
    _Spec("QUIVER_MAX_WAIT_SEC", "quiver", "max_wait_sec", _non_negative),
    _Spec("WIKI_SOURCE", "wiki", "source", _one_of(WIKI_SOURCES, fold_case=True)),
    _Spec("WIKIMEDIA_BASE_URL", "wiki", "wikimedia_base_url", _url),
    _Spec("WIKI_ARTICLES", "wiki", "articles", _path),
    _Spec("WIKIMEDIA_CONTACT", "wiki", "contact", _contact),
    _Spec("PAS_MONGO_TIMEOUT_SEC", "store", "mongo_timeout_sec", _positive),
    _Spec("PAS_MONGO_SOCKET_TIMEOUT_SEC", "store", "mongo_socket_timeout_sec", _positive),
    _Spec("PAS_HOST_ID", "store", "host_id", _host_id),
    _Spec("CASH_BUFFER", "trading", "cash_buffer", _fraction),
    _Spec("MIN_ORDER_NOTIONAL", "trading", "min_order_notional", _dollars),
    _Spec("REBALANCE_BAND", "trading", "rebalance_band", _fraction),
    _Spec("MAX_ORDER_NOTIONAL", "trading", "max_order_notional", _positive_dollars),
    _Spec("MAX_POSITION_WEIGHT", "trading", "max_position_weight", _fraction),
    _Spec("FILL_TIMEOUT_SEC", "trading", "fill_timeout_sec", _non_negative),
    _Spec("FILL_POLL_SEC", "trading", "fill_poll_sec", _positive),
    _Spec("ALLOW_MARGIN", "trading", "allow_margin", _bool),
    _Spec("PRICE_COLLAR", "trading", "price_collar", _collar),
    _Spec("ORDER_TYPE", "trading", "order_type", _one_of(ORDER_TYPES, fold_case=True)),
    _Spec("SIM_SLIPPAGE_BPS", "sim", "slippage_bps", _bps),
    _Spec("SIM_COMMISSION", "sim", "commission", _dollars),
    _Spec("SIM_COMMISSION_PER_SHARE", "sim", "commission_per_share", _dollars),
    _Spec("SIM_SPREAD_BPS", "sim", "spread_bps", _bps),
    _Spec("SIM_CASH", "sim", "cash", _positive_dollars),
    _Spec("SIM_MARKET", "sim", "market", _one_of(SIM_MARKETS)),
    _Spec("BUILD_MAX_STALE_DAYS", "data", "build_max_stale_days", _positive_int),
    _Spec("PRICE_MAX_STALE_DAYS", "data", "price_max_stale_days", _positive_int),
    _Spec("PAS_BROKER", "trading", "broker", _one_of(BROKERS)),
    _Spec("BREAKER_MAX_DRAWDOWN", "breaker", "max_drawdown", _breaker_limit),
    _Spec("BREAKER_MAX_DAILY_LOSS", "breaker", "max_daily_loss", _breaker_limit),
    _Spec("ALERT_WEBHOOK_URL", "unattended", "alert_webhook_url", _webhook),
    _Spec("LOG_MAX_BYTES", "unattended", "log_max_bytes", _positive_int),
    _Spec("PAS_LOG_FORMAT", "unattended", "log_format", _one_of(LOG_FORMATS, fold_case=True)),
)
SETTING_NAMES = tuple(spec.name for spec in _SPECS)
# The class of each group, by its field name in Settings.
_GROUPS: Mapping[str, type] = {
    "store": StoreSettings,
    "alpaca": AlpacaSettings,
    "quiver": QuiverSettings,
    "wiki": WikiSettings,
    "trading": TradingSettings,
    "sim": SimSettings,
    "allocation": AllocationSettings,
    "breaker": BreakerSettings,
    "data": DataSettings,
    "unattended": UnattendedSettings,
}
assert set(_GROUPS) == {f.name for f in fields(Settings)} - {"sources", "env_file"}
assert all(s.attr in {f.name for f in fields(_GROUPS[s.group])} for s in _SPECS)


def load_settings(
    environ: Mapping[str, str],
    env_file: Path | None = None,
    overrides: Mapping[str, str] | None = None,
    *,
    env_file_source: str = "option",
) -> Settings:
    """Builds validated :class:`Settings`.

    Every setting is read the same way: from ``overrides``, else ``environ``, else the
    settings file, else its default.

    Args:
        environ: the process environment (or a test's mapping).
        env_file: a ``.env`` file to read; values in ``environ`` win over it.
        overrides: values from command options, by variable name; they win over both.
        env_file_source: where the name of ``env_file`` came from, for ``pas config``
            (``option``, ``environment`` or ``default``).

    Raises:
        ConfigError: a value is invalid, or a line of the settings file cannot be
            parsed; the message names the variable (or the file and line) and the fix.
    """
    layers: list[tuple[str, Mapping[str, str]]] = []
    if env_file is not None:
        layers.append((f".env ({env_file})", read_env_file(env_file)))
    layers.append(("environment", environ))
    layers.append(("option", overrides or {}))

    values: dict[str, dict[str, Any]] = {group: {} for group in _GROUPS}
    sources: dict[str, str] = {ENV_FILE_NAME: env_file_source} if env_file is not None else {}
    for spec in _SPECS:
        for source, mapping in layers:
            raw = mapping.get(spec.name)
            if raw is None or raw.strip() == "":
                continue
            values[spec.group][spec.attr] = spec.parse(spec.name, raw.strip())
            sources[spec.name] = source
    values["store"].setdefault("home", default_home(environ))
    groups = {group: _GROUPS[group](**kwargs) for group, kwargs in values.items()}
    return Settings(**groups, env_file=env_file, sources=sources)
