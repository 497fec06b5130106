"""Positions from a portfolio's own fills (average-cost accounting).

A sub-portfolio's holdings are the sum of its own fills, never the account's positions.
All arithmetic is on integers: quantities and prices in nano units (10⁻⁹), cost in
10⁻¹⁸ dollars, so nothing drifts however many fills there are. The only rounding is the
floor division that removes a sold fraction of the cost basis, worth under 10⁻¹⁸ dollars.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from pas.models import UNITS_PER_ONE, Price, from_units
from pas.store.interfaces import LedgerRow
from pas.store.rules import LedgerFold

_COST_SCALE = Decimal(UNITS_PER_ONE) ** 2


@dataclass(frozen=True)
class Position:
    """One symbol of a portfolio. Money in dollars, quantity in shares.

    ``last_price`` and the fields computed from it are None when no price is stored.
    """

    symbol: str
    qty: Decimal
    avg_cost: Decimal
    cost_basis: Decimal
    realized_pnl: Decimal
    last_price: Price | None = None

    @property
    def market_value(self) -> Decimal | None:
        """Quantity times the last price."""
        return None if self.last_price is None else self.qty * self.last_price.close

    @property
    def unrealized_pnl(self) -> Decimal | None:
        """Market value less cost basis."""
        value = self.market_value
        return None if value is None else value - self.cost_basis


@dataclass(frozen=True)
class Book:
    """The positions of a portfolio and its totals.

    Attributes:
        positions: open positions by symbol.
        realized_pnl: realised P&L of every symbol, closed ones included, before commissions.
        commissions: dollars paid in commissions.
        net_invested: cost of buys less proceeds of sells plus commissions: the cash the
            fills consumed.
    """

    positions: dict[str, Position]
    realized_pnl: Decimal
    commissions: Decimal
    net_invested: Decimal

    def priced(self, prices: Mapping[str, Price]) -> Book:
        """The same book with last prices attached where known."""
        positions = {s: replace(p, last_price=prices.get(s)) for s, p in self.positions.items()}
        return replace(self, positions=positions)


def build_book(entries: Iterable[LedgerRow] | LedgerFold) -> Book:
    """Folds fills, in time order, into positions (or reads a fold made already).

    A sell realises (price − average cost) × quantity and removes that fraction of the
    cost basis; a buy adds to both. A position that crosses zero (only possible with
    imported data; pas never sells short) restarts at the crossing fill's price
    (:class:`pas.store.rules.LedgerFold`).
    """
    fold = entries if isinstance(entries, LedgerFold) else LedgerFold().add(entries)
    positions = {}
    for symbol in sorted(fold.qty):
        q = fold.qty[symbol]
        if q == 0:
            continue
        cost_basis = Decimal(fold.cost[symbol]) / _COST_SCALE
        shares = from_units(q)
        positions[symbol] = Position(
            symbol=symbol,
            qty=shares,
            avg_cost=cost_basis / shares,
            cost_basis=cost_basis,
            realized_pnl=Decimal(fold.realized.get(symbol, 0)) / _COST_SCALE,
        )
    return Book(
        positions=positions,
        realized_pnl=Decimal(sum(fold.realized.values())) / _COST_SCALE,
        commissions=from_units(fold.commissions),
        net_invested=Decimal(fold.cash_out) / _COST_SCALE + from_units(fold.commissions),
    )
