"""The trading cost model of the simulated broker, and the planner's bound on it.

A fill of ``qty`` shares at a reference price ``p`` (the stored close) costs:

- **spread**: half of ``spread_bps`` of ``p``, against the trader (a market order crosses
  half the quoted spread: buys pay the ask, sells get the bid);
- **slippage**: ``slippage_bps`` of ``p``, against the trader, on top of the spread;
- **commission**: ``commission`` dollars per broker order plus ``commission_per_share``
  dollars per share, charged on the fill (to the nano dollar).

The fill price is ``p × (1 ± (spread_bps / 2 + slippage_bps) / 10⁴)``, rounded half up to
1/100 of a cent (as US equities quote). The cost of a fill in dollars is its commission
plus ``qty × |fill price − p|``: exactly what it takes from the portfolio's equity valued
at ``p``. All figures are exact decimals.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from pas.errors import InputError
from pas.models import Side

BPS = Decimal(10_000)
PRICE_STEP = Decimal("0.0001")  # fill prices to 1/100 of a cent
NANO = Decimal("1e-9")  # commissions are kept to the nano dollar, as every amount in pas


@dataclass(frozen=True)
class CostModel:
    """What trading costs (see the module docstring).

    Attributes:
        slippage_bps: basis points of the price, against the trader.
        commission: dollars per broker order.
        commission_per_share: dollars per share filled.
        spread_bps: the quoted bid-ask spread in basis points of the price; half of it is
            paid on every fill.
    """

    slippage_bps: Decimal = Decimal(0)
    commission: Decimal = Decimal(0)
    commission_per_share: Decimal = Decimal(0)
    spread_bps: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        for name in ("slippage_bps", "commission", "commission_per_share", "spread_bps"):
            if getattr(self, name) < 0:
                raise InputError(f"the cost {name} must not be negative, got {getattr(self, name)}")

    @property
    def price_move(self) -> Decimal:
        """The fraction of the price a fill moves against the trader."""
        return (self.spread_bps / 2 + self.slippage_bps) / BPS

    def fill_price(self, price: Decimal, side: Side) -> Decimal:
        """The price a market order fills at, given the reference price (dollars)."""
        move = price * self.price_move
        moved = price + move if side is Side.BUY else price - move
        return moved.quantize(PRICE_STEP, rounding=ROUND_HALF_UP)

    def fill_commission(self, qty: Decimal) -> Decimal:
        """The commission of one fill of ``qty`` shares of one order (dollars, rounded half
        up to the nano dollar)."""
        return (self.commission + self.commission_per_share * qty).quantize(NANO, rounding=ROUND_HALF_UP)

    def bound(self, qty: Decimal, price: Decimal) -> Decimal:
        """An upper bound of what one order of ``qty`` shares at ``price`` costs (dollars):
        the planner reserves it so that costs never overdraw a portfolio's cash. Exact
        for a single fill (the price move after rounding, either side), plus a nano dollar
        for the rounding of a per-share commission."""
        if qty <= 0:
            return Decimal(0)
        move = max(abs(self.fill_price(price, side) - price) for side in Side)
        rounding = NANO if self.commission_per_share else Decimal(0)
        return self.commission + rounding + qty * (move + self.commission_per_share)

    def per_dollar(self, price: Decimal) -> Decimal:
        """The variable part of :meth:`bound` per dollar traded at ``price``."""
        move = max(abs(self.fill_price(price, side) - price) for side in Side)
        return (move + self.commission_per_share) / price


NO_COSTS = CostModel()
