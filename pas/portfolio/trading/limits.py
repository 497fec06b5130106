"""Pre-trade risk limits and the check that refuses a plan breaking them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from pas.errors import RefusedError
from pas.models import (
    Side,
    TradeOrder,
    from_units,
)
from pas.portfolio.rebalance import Plan, PlanRules


@dataclass(frozen=True)
class TradingLimits:
    """Plan rules plus the pre-trade risk limits (dollars, fractions of equity)."""

    rules: PlanRules = field(default_factory=PlanRules)
    max_order_notional: Decimal = Decimal(100_000)
    max_position_weight: Decimal = Decimal("0.5")


def shares(units: int) -> Decimal:
    """Nano units as shares without an exponent (``600``, not ``6E+2``), as the wire needs."""
    qty = from_units(units)
    return qty.quantize(Decimal(1)) if qty == qty.to_integral_value() else qty


def check_limits(
    plans: Sequence[Plan],
    orders: Sequence[TradeOrder],
    holdings: dict[str, dict[str, Decimal]],
    limits: TradingLimits,
) -> None:
    """Refuses a plan that breaks a pre-trade limit.

    Raises:
        RefusedError: a broker order above ``MAX_ORDER_NOTIONAL`` or a resulting position
            above ``MAX_POSITION_WEIGHT`` of its portfolio.
    """
    for o in orders:
        notional = shares(o.qty) * o.ref_price
        if notional > limits.max_order_notional:
            raise RefusedError(
                f"the order to {o.side.value} {shares(o.qty)} {o.symbol} (about ${notional:,.2f}) "
                f"is above MAX_ORDER_NOTIONAL (${limits.max_order_notional:,.2f}); "
                "raise it or rebalance in steps"
            )
    for plan in plans:
        held = holdings.get(plan.portfolio, {})
        for po in plan.orders:
            if po.side is not Side.BUY:
                continue
            weight = (held.get(po.symbol, Decimal(0)) + po.qty) * po.price / plan.equity
            if weight > limits.max_position_weight:
                raise RefusedError(
                    f"portfolio {plan.portfolio} would hold {weight * 100:.1f}% in {po.symbol}, above "
                    f"MAX_POSITION_WEIGHT ({limits.max_position_weight * 100:.1f}%); lower its target weight"
                )
