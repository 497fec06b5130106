"""Value objects shared by the store, the ledger and the commands.

Money and quantities are :class:`~decimal.Decimal` in memory and integers of nano units
(10⁻⁹) in the store, so sums are exact however many fills there are. Times are
timezone-aware UTC datetimes in memory and fixed-width ISO-8601 text
(``2026-01-02T15:04:05.000000Z``) in the store, which sorts as time does.

The values of what pas did and decided (runs, trading runs and orders, weight sets,
metrics, trailing statistics, allocations, the breaker's state) are defined in
:mod:`pas.history` and imported from here as well; that module is loaded the first time
one of them is asked for, so a read command that needs none does not build them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any

from pas.errors import InputError

if TYPE_CHECKING:  # at run time from pas.history, when first asked for (__getattr__ below)
    from pas.history import (
        AppliedAllocation as AppliedAllocation,
    )
    from pas.history import (
        BreakerState as BreakerState,
    )
    from pas.history import (
        DailyMetric as DailyMetric,
    )
    from pas.history import (
        Run as Run,
    )
    from pas.history import (
        TradeOrder as TradeOrder,
    )
    from pas.history import (
        TradeRun as TradeRun,
    )
    from pas.history import (
        TrailingStats as TrailingStats,
    )
    from pas.history import (
        WeightSet as WeightSet,
    )

UNITS_PER_ONE = 10**9
"""Nano units: quantities and prices keep 9 decimal places (Alpaca's fractional limit)."""
_NANO = Decimal(1).scaleb(-9)
MAX_UNITS = 2**63 - 1
"""The largest count of nano units both stores keep exactly (SQLite INTEGER, BSON int64)."""
MAX_AMOUNT = MAX_UNITS // UNITS_PER_ONE
"""Whole dollars (or shares) below :data:`MAX_UNITS` nano units: 9,223,372,036."""

PORTFOLIO_ID_RE = re.compile(r"^[a-z0-9_-]{1,16}$")
# Exchange tickers plus the share-class separators brokers use (BRK.B, BRK/B, BF-B).
SYMBOL_RE = re.compile(r"^[A-Z][A-Z0-9.\-/]{0,14}$")
TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
# Weights are ratios, not money: float, but sums are checked with this slack so that
# 0.1 + 0.2 + 0.7 counts as 1.
WEIGHT_SUM_SLACK = 1e-9
BROKERS, DEFAULT_BROKER = ("alpaca", "sim"), "alpaca"  # a portfolio is bound to one (Broker.name)


class Side(StrEnum):
    """Order or fill side."""

    BUY = "buy"
    SELL = "sell"


class Schedule(StrEnum):
    """How often a portfolio's strategy is rebuilt."""

    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class RunStatus(StrEnum):
    """Outcome of a recorded run."""

    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"
    REFUSED = "refused"
    LOCKED = "locked"


def to_units(value: Decimal) -> int:
    """A decimal as an integer of nano units.

    Raises:
        InputError: more than 9 decimal places, or beyond what the store keeps exactly
            (:data:`MAX_UNITS` nano units, about 9.2 billion dollars or shares).
    """
    scaled = value.scaleb(9)
    if scaled != scaled.to_integral_value():
        raise InputError(f"{value} has more than 9 decimal places")
    if abs(scaled) > MAX_UNITS:
        raise InputError(
            f"{value} is beyond the largest amount pas stores exactly ({MAX_AMOUNT:,} with 9 "
            "decimals, a signed 64-bit count of nano units); use a smaller amount"
        )
    return int(scaled)


def from_units(units: int) -> Decimal:
    """The inverse of :func:`to_units`, without trailing zeros or exponent notation."""
    value = Decimal(units) * _NANO
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def parse_decimal(text: str | int | float | Decimal, what: str) -> Decimal:
    """Parses a finite decimal from user input; ``what`` names the field in the error."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise InputError(f"{what} must be a number, got {text!r}") from None
    if not value.is_finite():
        raise InputError(f"{what} must be a finite number, got {text!r}")
    return value


def parse_day(text: str, what: str = "date") -> date:
    """A ``YYYY-MM-DD`` day from user input; ``what`` names the field in the error."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{what} {text!r} is not a day; use YYYY-MM-DD such as 2026-01-05") from None


def utc(ts: datetime) -> datetime:
    """The same instant in UTC; a naive datetime is taken to be UTC already."""
    if ts.tzinfo is None:
        return ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC)


def format_ts(ts: datetime) -> str:
    """Fixed-width UTC text for storage (sorts like time).

    The year is written with four digits by hand: ``strftime("%Y")`` does not zero-pad
    years before 1000 on glibc, and ``999-...`` would sort after ``2026-...``.
    """
    t = utc(ts)
    return f"{t.year:04d}-" + t.strftime(TS_FORMAT.removeprefix("%Y-"))


def parse_ts(text: str) -> datetime:
    """Parses storage text, or any ISO-8601 date/time from user input, into UTC."""
    raw = text.strip()
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), datetime.min.time(), UTC)
        return utc(datetime.fromisoformat(raw.replace("Z", "+00:00")))
    except ValueError:
        raise InputError(
            f"{text!r} is not a date or time; use ISO-8601 such as 2026-01-02 or 2026-01-02T15:04:05Z"
        ) from None


def check_portfolio_id(portfolio_id: str) -> str:
    """Returns the id when it is 1-16 characters of ``[a-z0-9_-]`` (it goes into order ids)."""
    if not PORTFOLIO_ID_RE.match(portfolio_id):
        raise InputError(
            f"portfolio id {portfolio_id!r} must be 1-16 characters of lowercase letters, "
            "digits, '_' or '-' (it becomes part of broker order ids)"
        )
    return portfolio_id


def check_symbol(symbol: str) -> str:
    """Upper-cases a ticker and checks its form."""
    sym = symbol.strip().upper()
    if not SYMBOL_RE.match(sym):
        raise InputError(f"{symbol!r} is not a ticker symbol (letters, digits, '.', '-', '/')")
    return sym


def new_run_id(now: datetime, serial: int | None = None) -> str:
    """A run id: UTC time to the second plus 4 random hex digits (16 characters).

    Random, not a store sequence, because client order ids derived from it must stay
    unique at the broker forever, even if the user starts over with a fresh store. Two
    runs in one second draw the same id once in 65,536 pairs: the store refuses the second
    and a new one is drawn (:func:`pas.runs.start_new_run`).

    Args:
        serial: the 4 digits instead of random ones (0-65535), for a simulation that
            numbers its runs within each simulated second (a backtest).
    """
    if serial is not None:
        return utc(now).strftime("%y%m%d%H%M%S") + f"{serial:04x}"
    import secrets  # here, not at the top: read commands never make a run id

    return utc(now).strftime("%y%m%d%H%M%S") + secrets.token_hex(2)


@dataclass(frozen=True)
class Portfolio:
    """A sub-portfolio: a strategy trading a share of the account through ``broker``, bound
    when it is added (:data:`BROKERS`): its ledger holds that broker's fills only."""

    id: str
    strategy: str
    schedule: Schedule
    created_at: datetime
    capital: Decimal | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    broker: str = DEFAULT_BROKER

    def __post_init__(self) -> None:
        check_portfolio_id(self.id)
        if self.broker not in BROKERS:
            raise InputError(f"broker must be one of {', '.join(BROKERS)}, got {self.broker!r}")
        if self.capital is not None and self.capital <= 0:
            raise InputError(f"capital must be more than zero dollars, got {self.capital}")


@dataclass(frozen=True)
class Fill:
    """One execution of (part of) an order, owned by one portfolio.

    Attributes:
        qty: shares, positive; ``side`` says which way.
        price: dollars per share.
        commission: dollars paid for this fill.
        fill_id: unique; recording the same fill twice is a no-op.
    """

    portfolio: str
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal
    ts: datetime
    fill_id: str
    broker_order_id: str = ""
    client_order_id: str = ""
    run_id: str = ""
    commission: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        check_portfolio_id(self.portfolio)
        if self.symbol != check_symbol(self.symbol):
            raise InputError(f"symbol {self.symbol!r} must be upper case")
        if self.qty <= 0:
            raise InputError(f"quantity must be more than zero, got {self.qty}")
        if self.price <= 0:
            raise InputError(f"price must be more than zero, got {self.price}")
        if self.commission < 0:
            raise InputError(f"commission must be zero or more, got {self.commission}")
        for name in ("qty", "price", "commission"):
            to_units(getattr(self, name))
        if not self.fill_id:
            raise InputError("a fill needs a fill id")
        object.__setattr__(self, "ts", utc(self.ts))

    @property
    def signed_qty(self) -> Decimal:
        """Quantity with the sign of its effect on the position."""
        return self.qty if self.side is Side.BUY else -self.qty

    @cached_property
    def nano(self) -> tuple[int, int, int]:
        """(signed quantity, price, commission) in nano units, converted once per fill:
        daily returns fold a portfolio's whole ledger again on every update."""
        return to_units(self.signed_qty), to_units(self.price), to_units(self.commission)

    @staticmethod
    def derive_id(
        portfolio: str,
        symbol: str,
        side: str,
        qty: Decimal,
        price: Decimal,
        ts: datetime,
        order_id: str,
    ) -> str:
        """A deterministic id for a fill that came without one (an imported row).

        The same row imported twice gets the same id, so the second import is a no-op.
        """
        key = "|".join(
            (portfolio, symbol, side, str(to_units(qty)), str(to_units(price)), format_ts(ts), order_id)
        )
        import hashlib  # here, not at the top: only imports derive fill ids

        return "imp-" + hashlib.sha256(key.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Price:
    """A daily close."""

    symbol: str
    day: date
    close: Decimal


@dataclass(frozen=True)
class CashFlow:
    """Money put into (positive) or taken out of (negative) a portfolio, in dollars.

    Cash flows change a portfolio's equity but are not return: metrics must take them out.
    """

    portfolio: str
    amount: Decimal
    ts: datetime
    flow_id: str
    note: str = ""

    def __post_init__(self) -> None:
        check_portfolio_id(self.portfolio)
        if self.amount == 0:
            raise InputError("a cash flow must not be zero dollars")
        to_units(self.amount)
        object.__setattr__(self, "ts", utc(self.ts))


class TradeRunStatus(StrEnum):
    """Where a trading run is: orders still being sent, all sent, or settled."""

    SUBMITTING = "submitting"
    SUBMITTED = "submitted"
    DONE = "done"


class TradeOrderStatus(StrEnum):
    """Our side of a planned broker order; broker states are kept in ``broker_status``."""

    PLANNED = "planned"
    SENDING = "sending"  # recorded before the request: after a crash, look it up first
    SENT = "sent"
    # The request may or may not have reached the broker (timeout, 5xx, lost answer, a
    # look-up that failed): never re-sent, resolved by looking the client order id up.
    UNKNOWN = "unknown"
    SETTLED = "settled"  # terminal at the broker and every fill recorded
    # The broker refused it, or it is proven absent (not found after the creation window,
    # confirmed by listing the orders since its run started).
    FAILED = "failed"
    CROSSED = "crossed"  # fully netted between portfolios: nothing to send
    DROPPED = "dropped"  # never sent: the unsent rest of a run that died, re-planned afresh


# Orders whose fate at the broker is not settled yet: they keep their run unfinished.
UNSETTLED_ORDER_STATUSES = (TradeOrderStatus.SENDING, TradeOrderStatus.SENT, TradeOrderStatus.UNKNOWN)


# Loaded at first use (PEP 562): see pas.history.
_HISTORY = frozenset(
    {
        "AppliedAllocation",
        "BreakerState",
        "DailyMetric",
        "Run",
        "TradeOrder",
        "TradeRun",
        "TrailingStats",
        "WeightSet",
    }
)


def __getattr__(name: str) -> object:
    if name in _HISTORY:
        from pas import history

        return getattr(history, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
