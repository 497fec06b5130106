"""The value objects that cross the broker and that the store persists.

Facts of Alpaca's API that shape it (see DESIGN.md): ``client_order_id`` is at most 48
characters and unique forever; an order opposite to an open order on the same symbol is
rejected as a potential wash trade; fractional and notional orders must be market/day;
fills arrive asynchronously and can be partial; FILL activities carry ``order_id`` but
not ``client_order_id``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pas.errors import InputError
from pas.models import Side

MAX_CLIENT_ORDER_ID = 48


class OrderStatus(StrEnum):
    """Order states: every status Alpaca documents, plus :attr:`UNRECOGNISED`.

    Each one is open (more can happen), filled, or ended (canceled, expired, rejected,
    replaced: nothing more will fill). A status string pas does not know maps to
    :attr:`UNRECOGNISED`, which is open: pas keeps asking and warns, and never calls the
    order failed (see :func:`pas.portfolio.broker.alpaca_wire.order_status`).
    """

    NEW = "new"
    ACCEPTED = "accepted"
    PENDING_NEW = "pending_new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    DONE_FOR_DAY = "done_for_day"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REPLACED = "replaced"
    PENDING_CANCEL = "pending_cancel"
    PENDING_REPLACE = "pending_replace"
    PENDING_REVIEW = "pending_review"
    ACCEPTED_FOR_BIDDING = "accepted_for_bidding"
    STOPPED = "stopped"
    REJECTED = "rejected"
    SUSPENDED = "suspended"
    CALCULATED = "calculated"
    HELD = "held"
    UNRECOGNISED = "unrecognised"

    @property
    def terminal(self) -> bool:
        """True when no more fills can come."""
        return self in _TERMINAL


_TERMINAL = frozenset(
    {
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.EXPIRED,
        OrderStatus.REJECTED,
        OrderStatus.REPLACED,
    }
)


@dataclass(frozen=True)
class OrderRequest:
    """A market or limit order to send: validated before any HTTP call.

    Attributes:
        qty: shares, positive, at most 9 decimals (fractional only for fractionable assets).
        client_order_id: deterministic, at most 48 characters, unique forever at the broker.
    """

    symbol: str
    side: Side
    qty: Decimal
    client_order_id: str
    time_in_force: str = "day"
    limit_price: Decimal | None = None
    """Dollars per share of a limit order; None sends a market order."""

    def __post_init__(self) -> None:
        if self.limit_price is not None and self.limit_price <= 0:
            raise InputError(f"limit price must be more than zero dollars, got {self.limit_price}")
        if self.qty <= 0:
            raise InputError(f"order quantity must be more than zero, got {self.qty}")
        if self.qty != self.qty.quantize(Decimal("1e-9")):
            raise InputError(f"order quantity {self.qty} has more than 9 decimal places")
        if not self.client_order_id or len(self.client_order_id) > MAX_CLIENT_ORDER_ID:
            raise InputError(
                f"client order id must be 1-{MAX_CLIENT_ORDER_ID} characters: {self.client_order_id!r}"
            )


@dataclass(frozen=True)
class Order:
    """An order as the broker reports it.

    Attributes:
        status_text: the broker's own status string when pas does not recognise it
            (``status`` is then :attr:`OrderStatus.UNRECOGNISED`), else empty.
        time_in_force: ``day`` (expires at the end of its session) or ``gtc``, as sent.
    """

    id: str
    client_order_id: str
    symbol: str
    side: Side
    qty: Decimal
    filled_qty: Decimal
    filled_avg_price: Decimal | None
    status: OrderStatus
    submitted_at: datetime | None = None
    status_text: str = ""
    limit_price: Decimal | None = None
    """Dollars per share of a limit order (None: a market order)."""
    time_in_force: str = "day"

    @property
    def status_name(self) -> str:
        """The status as the broker wrote it (differs from ``status`` only when unrecognised)."""
        return self.status_text or self.status.value


@dataclass(frozen=True)
class BrokerFill:
    """One execution (an Alpaca FILL / partial_fill activity).

    ``id`` is unique at the broker; ``order_id`` links it to an :class:`Order` (the
    activity does not carry the client order id). ``commission`` is in dollars (zero at
    Alpaca, which charges none on equities; the Sim broker's per-order commission).
    """

    id: str
    order_id: str
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal
    ts: datetime
    commission: Decimal = Decimal(0)


@dataclass(frozen=True)
class Account:
    """Account figures in dollars.

    Attributes:
        buying_power: what the broker lets the account buy, margin included (Alpaca:
            up to 2× or 4× equity on a margin account).
        non_marginable_buying_power: what it can buy with its own cash, no margin
            (Alpaca's ``non_marginable_buying_power``); None when the broker does not say,
            and then :attr:`cash` is the limit.
        holds_limit_buys: the broker accepts a limit buy only if its quantity × its limit
            price fits the buying power left, and holds that much until it fills (Alpaca's
            "Buying Power" rule); the Sim broker checks no buying power.
    """

    equity: Decimal
    cash: Decimal
    buying_power: Decimal
    blocked: bool
    currency: str = "USD"
    non_marginable_buying_power: Decimal | None = None
    holds_limit_buys: bool = False

    def spendable(self, allow_margin: bool) -> Decimal:
        """Dollars the account can spend on buys: its buying power with margin allowed,
        else its own money (non-marginable buying power, or cash; never below zero)."""
        if allow_margin:
            return self.buying_power
        own = self.cash if self.non_marginable_buying_power is None else self.non_marginable_buying_power
        return max(own, Decimal(0))


@dataclass(frozen=True)
class Quote:
    """A symbol's current best bid and ask in dollars (0 when the market shows none)."""

    symbol: str
    bid: Decimal
    ask: Decimal

    @property
    def valid(self) -> bool:
        """True when both sides are quoted and the quote is not crossed."""
        return Decimal(0) < self.bid <= self.ask

    @property
    def midpoint(self) -> Decimal:
        """Halfway between bid and ask, in dollars."""
        return (self.bid + self.ask) / 2


@dataclass(frozen=True)
class MarketClock:
    """Whether the market is open now, and when it next opens and closes."""

    timestamp: datetime
    is_open: bool
    next_open: datetime
    next_close: datetime


@dataclass(frozen=True)
class Asset:
    """Tradability facts of a symbol."""

    symbol: str
    tradable: bool
    fractionable: bool


@dataclass(frozen=True)
class BrokerPosition:
    """A position of the whole account (all portfolios together)."""

    symbol: str
    qty: Decimal
    market_value: Decimal | None = None


@dataclass(frozen=True)
class Bar:
    """A daily bar's close."""

    symbol: str
    day: date
    close: Decimal
