"""Value objects shared by the store, the ledger and the commands.

Money and quantities are :class:`~decimal.Decimal` in memory and integers of nano units
(10⁻⁹) in the store, so sums are exact however many fills there are. Times are
timezone-aware UTC datetimes in memory and fixed-width ISO-8601 text
(``2026-01-02T15:04:05.000000Z``) in the store, which sorts as time does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cached_property
from typing import Any

from pas.errors import InputError

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


def new_run_id(now: datetime) -> str:
    """A run id: UTC time to the second plus 4 random characters (16 characters).

    Random, not a store sequence, because client order ids derived from it must stay
    unique at the broker forever, even if the user starts over with a fresh store.
    """
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
class WeightSet:
    """Target weights of a portfolio set at one time; the rest of its equity is cash."""

    portfolio: str
    at: datetime
    weights: Mapping[str, float]
    source: str = "manual"

    @property
    def cash(self) -> float:
        """The untargeted fraction."""
        return max(0.0, 1.0 - sum(self.weights.values()))


@dataclass(frozen=True)
class Run:
    """A recorded invocation of a state-changing command."""

    run_id: str
    command: str
    started_at: datetime
    status: RunStatus
    ended_at: datetime | None = None
    error: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def seconds(self) -> float | None:
        """Wall time, when the run has ended."""
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


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


@dataclass(frozen=True)
class TradeOrder:
    """One broker order of a trading run, with the portfolios it trades for.

    Quantities are integers of nano units. ``shares`` are what each portfolio asked of the
    broker order (fills are split back by them); ``crosses`` are quantities matched
    between portfolios inside the run (signed: + bought, − sold), booked at ``ref_price``.

    Attributes:
        qty: the broker order's quantity (0 when fully crossed).
        ref_price: dollars per share the plan used (the cross price).
        fractionable: whether fills may be split into fractions of a share.
        sent_at: when the order's request last went out (None before it was sent).
    """

    run_id: str
    client_order_id: str
    seq: int
    symbol: str
    side: Side
    qty: int
    ref_price: Decimal
    fractionable: bool
    shares: tuple[tuple[str, int], ...]
    crosses: tuple[tuple[str, int], ...] = ()
    status: TradeOrderStatus = TradeOrderStatus.PLANNED
    broker_order_id: str = ""
    broker_status: str = ""
    error: str = ""
    sent_at: datetime | None = None


@dataclass(frozen=True)
class TradeRun:
    """A trading run: its id is stored before any order is sent, so a crash can resume it."""

    run_id: str
    created_at: datetime
    broker: str
    portfolios: tuple[str, ...]
    status: TradeRunStatus = TradeRunStatus.SUBMITTING


@dataclass(frozen=True)
class DailyMetric:
    """A portfolio's performance on one trading day.

    Attributes:
        ret: the day's return as a fraction (0.01 is +1%), net of cash flows.
        equity: dollars at the close, when known.
        benchmark_ret: the benchmark's return that day, when known.
        source: ``post`` (given by hand) or ``update`` (computed from the ledger and closes).
    """

    portfolio: str
    day: date
    ret: float
    equity: Decimal | None = None
    benchmark_ret: float | None = None
    source: str = "post"


@dataclass(frozen=True)
class TrailingStats:
    """Statistics of a portfolio over a trailing window, using only returns up to ``as_of``.

    ``window`` is a number of trading days as text ("63", "126", "252") or "inception".
    ``values`` maps statistic names to floats (NaN where too little data).
    """

    portfolio: str
    as_of: date
    window: str
    values: Mapping[str, float]


@dataclass(frozen=True)
class AppliedAllocation:
    """An allocation stored by ``pas allocate --apply``: how the account's equity is split.

    Attributes:
        as_of: the day whose data it was computed from.
        applied_at: when it was stored (UTC).
        method: the allocation method (``score``, ``inverse_vol``, ``risk_parity``, ``equal``).
        weights: relative weight per portfolio (sum 1).
        exposure: fraction of the account invested (≤ 1); a portfolio's capital is
            account equity × exposure × its weight.
        ex_ante_vol: annualised ex-ante volatility of the invested book, when estimated.
    """

    as_of: date
    applied_at: datetime
    method: str
    weights: Mapping[str, float]
    exposure: float = 1.0
    ex_ante_vol: float | None = None

    def capital(self, portfolio: str, account_equity: Decimal) -> Decimal | None:
        """Dollars of the account this allocation gives a portfolio; None when it names
        no such portfolio."""
        weight = self.weights.get(portfolio)
        if weight is None:
            return None
        return account_equity * Decimal(repr(self.exposure)) * Decimal(repr(weight))


@dataclass(frozen=True)
class BreakerState:
    """The persisted state of the account's circuit breaker (see :mod:`pas.risk.breaker`).

    Money in dollars, times UTC. A state that was never saved has ``version`` 0 and no
    high-water mark; every save increments ``version`` (the store's compare-and-swap).

    Attributes:
        tripped: whether trading is refused.
        reason: why it tripped (empty when not tripped).
        since: when it tripped.
        high_water_mark: the highest account equity observed; it only ever rises.
        hwm_at: when the high-water mark was observed.
        last_equity: the latest equity observed, and ``last_equity_at`` when.
        prev_equity: the last equity recorded on an earlier market day than
            ``last_equity_at``: the reference of the one-day loss.
        prev_equity_at: when ``prev_equity`` was observed.
        reset_at: when the breaker was last reset, with ``reset_reason``.
    """

    tripped: bool = False
    reason: str = ""
    since: datetime | None = None
    high_water_mark: Decimal | None = None
    hwm_at: datetime | None = None
    last_equity: Decimal | None = None
    last_equity_at: datetime | None = None
    prev_equity: Decimal | None = None
    prev_equity_at: datetime | None = None
    reset_at: datetime | None = None
    reset_reason: str = ""
    version: int = 0
