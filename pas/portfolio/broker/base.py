"""The broker protocol: what pas needs from a broker (value objects in :mod:`pas.domain.broker`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
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
)


class Broker(Protocol):
    """What pas needs from a broker. Implementations: Alpaca (REST) and Sim.

    Errors are :class:`~pas.errors.PasError` subclasses with one-line messages; secrets
    never appear in them.
    """

    name: str

    def account(self) -> Account:
        """Account equity, cash and whether trading is blocked."""
        ...

    def clock(self) -> MarketClock:
        """The market clock."""
        ...

    def asset(self, symbol: str) -> Asset:
        """Tradability of a symbol."""
        ...

    def submit_order(self, request: OrderRequest) -> Order:
        """Sends an order. Never retried blindly: after a timeout, a 5xx or a duplicate
        client order id the order is looked up by its client order id instead."""
        ...

    def get_order(self, order_id: str) -> Order:
        """An order by the broker's id."""
        ...

    def order_by_client_id(self, client_order_id: str) -> Order | None:
        """An order by client order id, or None when the broker has none."""
        ...

    def list_orders(self, status: str = "open", after: datetime | None = None) -> list[Order]:
        """Orders by status (``open``, ``closed`` or ``all``), newest first."""
        ...

    def cancel_order(self, order_id: str) -> None:
        """Cancels an open order."""
        ...

    def positions(self) -> list[BrokerPosition]:
        """The account's positions."""
        ...

    def fills(self, after: datetime | None = None) -> list[BrokerFill]:
        """FILL activities after a time, oldest first (all pages)."""
        ...

    def latest_prices(self, symbols: Sequence[str]) -> dict[str, Decimal]:
        """The latest trade price of each symbol."""
        ...

    def daily_bars(self, symbols: Iterable[str], start: date, end: date | None = None) -> list[Bar]:
        """Daily closes between two days (all pages)."""
        ...
