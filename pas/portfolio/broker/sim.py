"""The simulated broker: an embedded paper broker over the store.

Orders fill in full at the stored close of their symbol for the current (or simulated)
day, with the costs of :mod:`pas.portfolio.costs`: half the spread and the slippage
against the trader, a commission per order and per share. A limit order fills only at or
better than its limit, as Alpaca's does: one the price does not meet stays open, and a
``day`` one expires unmet when its session is over (the sim's session is the day), while a
``gtc`` one waits. Its quote is that close less and plus half the spread, so the quote's
midpoint (the price a run plans with) is the close, and a marketable limit order (limit =
midpoint ± the price collar) fills unless half the spread plus the slippage is larger than
the collar. Orders submitted while the market is closed wait, and fill at the first broker
call made while it is open. Its orders and fills live in the store, so ``pas sync`` and
``pas reconcile`` in another process see them. It needs no credentials.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Protocol

from pas.domain.broker import (
    Account,
    Asset,
    Bar,
    BrokerFill,
    BrokerPosition,
    MarketClock,
    Order,
    OrderRequest,
    OrderStatus,
    Quote,
)
from pas.errors import InputError, PasError
from pas.freshness import require_fresh
from pas.models import Side
from pas.portfolio.costs import BPS, CostModel
from pas.schedule import market_day
from pas.store.interfaces import PriceStore, SimBook

MARKETS = ("weekdays", "always", "closed")
TIMES_IN_FORCE = ("day", "gtc")
"""What the Sim models: ``day`` (expires unmet at the end of its session) and ``gtc``."""
_SESSION_SEARCH_DAYS = 8
_SATURDAY = 5


class DuplicateClientOrderId(PasError):
    """The client order id was used before (the Sim broker's answer, as Alpaca's)."""


class SimBrokerStore(SimBook, PriceStore, Protocol):
    """What the Sim broker needs of the store: its own book, and the stored closes."""


class SimBroker:
    """The :class:`~pas.portfolio.broker.base.Broker` of the simulation.

    Args:
        store: where prices are read and the broker's own orders and fills are kept (any
            :class:`~pas.store.base.Store`).
        slippage_bps: basis points of the price added to buys and taken off sells.
        commission: dollars per order, charged on its fill.
        commission_per_share: dollars per share filled.
        spread_bps: the bid-ask spread in basis points; half of it is paid on each fill.
        cash: the account's starting cash in dollars.
        market: ``weekdays`` (open Monday to Friday, all day UTC), ``always`` or ``closed``.
        fractionable: whether assets trade in fractions of a share.
        max_stale_days: refuse to price or fill at a close more than this many calendar
            days before today in New York (``PRICE_MAX_STALE_DAYS``, see
            :mod:`pas.freshness`); None never refuses (the backtest, whose clock is the
            closes' own).
    """

    name = "sim"

    def __init__(
        self,
        store: SimBrokerStore,
        *,
        slippage_bps: Decimal = Decimal(0),
        commission: Decimal = Decimal(0),
        commission_per_share: Decimal = Decimal(0),
        spread_bps: Decimal = Decimal(0),
        cash: Decimal = Decimal(100_000),
        market: str = "weekdays",
        fractionable: bool = True,
        max_stale_days: int | None = None,
    ) -> None:
        if market not in MARKETS:
            raise InputError(f"sim market must be one of {', '.join(MARKETS)}, got {market!r}")
        self.store = store
        self.costs = CostModel(slippage_bps, commission, commission_per_share, spread_bps)
        self.starting_cash = cash
        self.market = market
        self.fractionable = fractionable
        self.max_stale_days = max_stale_days

    # -- clock and account -------------------------------------------------------------
    def _is_open(self, now: datetime) -> bool:
        if self.market == "always":
            return True
        if self.market == "closed":
            return False
        return now.weekday() < _SATURDAY

    def clock(self) -> MarketClock:
        now = self.store.clock()
        day = now.date()
        next_open = now
        while not self._is_open(next_open) and next_open - now < timedelta(days=8):
            day += timedelta(days=1)
            next_open = datetime.combine(day, time(), now.tzinfo)
        close_day = next_open.date() + timedelta(days=1)
        return MarketClock(
            timestamp=now,
            is_open=self._is_open(now),
            next_open=next_open,
            next_close=datetime.combine(close_day, time(), now.tzinfo),
        )

    def account(self) -> Account:
        self._fill_pending()
        _, spent = self.store.sim_totals()
        cash = self.starting_cash - spent
        value = sum((p.market_value or Decimal(0) for p in self.positions()), Decimal(0))
        return Account(equity=cash + value, cash=cash, buying_power=max(cash, Decimal(0)), blocked=False)

    def asset(self, symbol: str) -> Asset:
        return Asset(symbol=symbol, tradable=True, fractionable=self.fractionable)

    # -- orders ------------------------------------------------------------------------
    def submit_order(self, request: OrderRequest) -> Order:
        if request.time_in_force not in TIMES_IN_FORCE:
            known = " or ".join(TIMES_IN_FORCE)
            raise InputError(f"the sim broker takes time in force {known}, not {request.time_in_force!r}")
        if not self.fractionable and request.qty != request.qty.to_integral_value():
            raise InputError(f"{request.symbol} is not fractionable; order whole shares")
        order = Order(
            id=uuid.uuid4().hex,
            client_order_id=request.client_order_id,
            symbol=request.symbol,
            side=request.side,
            qty=request.qty,
            filled_qty=Decimal(0),
            filled_avg_price=None,
            status=OrderStatus.ACCEPTED,
            submitted_at=self.store.clock(),
            limit_price=request.limit_price,
            time_in_force=request.time_in_force,
        )
        if not self.store.sim_add_order(order):
            raise DuplicateClientOrderId("client_order_id must be unique")
        self._fill_pending()
        # As get_order answers, without filling again: at this moment nothing more would fill.
        (placed,) = self.store.sim_orders(order_id=order.id)
        return placed

    def get_order(self, order_id: str) -> Order:
        self._fill_pending()
        found = self.store.sim_orders(order_id=order_id)
        if not found:
            raise InputError(f"the sim broker has no order {order_id}")
        return found[0]

    def order_by_client_id(self, client_order_id: str) -> Order | None:
        self._fill_pending()
        found = self.store.sim_orders(client_order_id=client_order_id)
        return found[0] if found else None

    def list_orders(self, status: str = "open", after: datetime | None = None) -> list[Order]:
        self._fill_pending()
        orders = self.store.sim_orders(open_only=status == "open", after=after)
        if status == "closed":
            return [o for o in orders if o.status.terminal]
        return orders

    def cancel_order(self, order_id: str) -> None:
        order = self.get_order(order_id)
        if order.status.terminal:
            raise InputError(f"order {order_id} is {order.status.value} and cannot be canceled")
        self.store.sim_save_order(_replace_status(order, OrderStatus.CANCELED))

    def _fill_pending(self) -> None:
        """Expires the ``day`` limit orders whose session is over, then fills every open
        order whose limit the price meets, when the market is open."""
        now = self.store.clock()
        pending = self._expire(self.store.sim_orders(open_only=True), now)
        if not self._is_open(now) or not pending:
            return
        closes = self.latest_prices([o.symbol for o in pending])
        for order in reversed(pending):  # oldest first
            close = closes.get(order.symbol)
            if close is None:
                continue  # stays open until a price is stored, as an illiquid order would
            price = self.costs.fill_price(close, order.side)
            if not _meets_limit(order, price):
                continue  # stays open: a limit order fills only at or better than its limit
            fill = BrokerFill(
                id=f"{order.id}-1",
                order_id=order.id,
                symbol=order.symbol,
                side=order.side,
                qty=order.qty,
                price=price,
                ts=now,
                commission=self.costs.fill_commission(order.qty),
            )
            self.store.sim_add_fill(fill)
            self.store.sim_save_order(
                Order(
                    id=order.id,
                    client_order_id=order.client_order_id,
                    symbol=order.symbol,
                    side=order.side,
                    qty=order.qty,
                    filled_qty=order.qty,
                    filled_avg_price=price,
                    status=OrderStatus.FILLED,
                    submitted_at=order.submitted_at,
                )
            )

    def _expire(self, orders: Sequence[Order], now: datetime) -> list[Order]:
        """Marks ``expired`` each ``day`` limit order whose session ended unmet, as Alpaca
        does at the close; returns the orders still open. A market order waits for a
        stored close however long that takes (the sim's missing data, not the market)."""
        still_open = []
        for order in orders:
            session = self._session_day(order.submitted_at or now)
            if (
                order.limit_price is not None
                and order.time_in_force == "day"
                and session
                and now.date() > session
            ):
                self.store.sim_save_order(_replace_status(order, OrderStatus.EXPIRED))
            else:
                still_open.append(order)
        return still_open

    def _session_day(self, at: datetime) -> date | None:
        """The day of the session an order sent at ``at`` is for: that day while the market
        is open, else the next day it opens (None: the ``closed`` market never does)."""
        day = at.date()
        if self._is_open(at):
            return day
        for _ in range(_SESSION_SEARCH_DAYS):
            day += timedelta(days=1)
            if self._is_open(datetime.combine(day, time(), at.tzinfo)):
                return day
        return None

    # -- positions and activity --------------------------------------------------------
    def positions(self) -> list[BrokerPosition]:
        self._fill_pending()
        qty, _ = self.store.sim_totals()
        held = {s: q for s, q in qty.items() if q != 0}
        # Valuing holdings is not trading on them: stale closes are for the caller to judge.
        today = self.store.clock().date()
        closes = {s: p.close for s, p in self.store.latest_prices(list(held), on_or_before=today).items()}
        return [
            BrokerPosition(symbol=s, qty=q, market_value=None if s not in closes else q * closes[s])
            for s, q in sorted(held.items())
        ]

    def fills(self, after: datetime | None = None) -> list[BrokerFill]:
        self._fill_pending()
        return self.store.sim_fills(after)

    # -- market data -------------------------------------------------------------------
    def missing_price_hint(self, symbol: str) -> str:
        return (
            f"the sim broker has no stored close of {symbol}; "
            "store one with `pas prices import` or `pas prices fetch`"
        )

    def latest_prices(self, symbols: Sequence[str]) -> dict[str, Decimal]:
        """The newest stored close of each symbol, the price the sim fills at.

        Raises:
            StaleDataError: one is older than ``max_stale_days`` (nothing is filled).
        """
        now = self.store.clock()
        found = self.store.latest_prices(symbols, on_or_before=now.date())
        if self.max_stale_days is not None:
            newest = {s: p.day for s, p in found.items()}
            require_fresh(newest, market_day(now), self.max_stale_days, "trade on the sim broker")
        return {s: p.close for s, p in found.items()}

    def latest_quotes(self, symbols: Sequence[str]) -> dict[str, Quote]:
        """The stored close less and plus half the spread (``spread_bps``) as bid and ask:
        the midpoint is the close, the price the sim fills at before its costs."""
        quotes = {}
        for s, price in self.latest_prices(symbols).items():
            half = price * self.costs.spread_bps / 2 / BPS
            quotes[s] = Quote(s, price - half, price + half)
        return quotes

    def daily_bars(self, symbols: Iterable[str], start: date, end: date | None = None) -> list[Bar]:
        """Stored closes between two days; read one day at a time (the store keeps no range query)."""
        wanted = list(symbols)
        last = end or self.store.clock().date()
        bars: list[Bar] = []
        day = start
        while day <= last:
            for s, p in self.store.latest_prices(wanted, on_or_before=day).items():
                if p.day == day:
                    bars.append(Bar(s, day, p.close))
            day += timedelta(days=1)
        return sorted(bars, key=lambda b: (b.symbol, b.day))


def _meets_limit(order: Order, price: Decimal) -> bool:
    """Whether a fill at ``price`` (dollars per share) is at or better than the order's limit."""
    if order.limit_price is None:
        return True
    return price <= order.limit_price if order.side is Side.BUY else price >= order.limit_price


def _replace_status(order: Order, status: OrderStatus) -> Order:
    from dataclasses import replace

    return replace(order, status=status)
