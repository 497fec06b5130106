"""Pre-trade risk limits and the check that refuses a plan breaking them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from pas.config.defaults import DEFAULT_PRICE_COLLAR
from pas.domain.broker import Account, OrderRequest
from pas.errors import RefusedError
from pas.models import (
    Side,
    TradeOrder,
    TradeOrderStatus,
    from_units,
)
from pas.portfolio.rebalance import Plan, PlanRules
from pas.portfolio.trading.collar import cap_price, limit_price


@dataclass(frozen=True)
class TradingLimits:
    """Plan rules plus the pre-trade risk limits (dollars, fractions of equity)."""

    rules: PlanRules = field(default_factory=PlanRules)
    max_order_notional: Decimal = Decimal(100_000)
    max_position_weight: Decimal = Decimal("0.5")
    allow_margin: bool = False
    """``ALLOW_MARGIN``: buys may use the broker's margin (its ``buying_power``), and the
    portfolios' capital may exceed the account's equity."""
    price_collar: Decimal = DEFAULT_PRICE_COLLAR
    """``PRICE_COLLAR``: see :mod:`pas.portfolio.trading.collar`."""
    limit_orders: bool = True
    """``ORDER_TYPE=limit``: orders are marketable limits at the collar, not market orders."""


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
        RefusedError: a broker order above ``MAX_ORDER_NOTIONAL`` (a limit buy at its limit,
            the most it can cost; any other order at its reference price) or a resulting
            position above ``MAX_POSITION_WEIGHT`` of its portfolio.
    """
    for o in orders:
        notional = shares(o.qty) * o.ref_price
        about = f"about ${notional:,.2f}"
        if limits.limit_orders and o.side is Side.BUY:  # it may fill up to its limit
            limit = limit_price(o, limits.price_collar)
            notional = shares(o.qty) * limit
            about = f"up to ${notional:,.2f} at its limit ${limit:,.2f}"
        if notional > limits.max_order_notional:
            raise RefusedError(
                f"the order to {o.side.value} {shares(o.qty)} {o.symbol} ({about}) "
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


def check_buying_power(
    account: Account,
    plans: Sequence[Plan],
    orders: Sequence[TradeOrder],
    limits: TradingLimits,
    others: Decimal = Decimal(0),
) -> None:
    """Refuses a plan that would borrow on margin, unless ``limits.allow_margin``.

    Without margin the buys less the sells (at the plan's prices) must fit the account's own
    money (:meth:`Account.spendable`: non-marginable buying power, or cash), and the
    equity the run's portfolios are sized from, plus ``others`` (the equity of the books on
    this broker the run does not trade), must not exceed the account's equity (else the
    books, at their targets, would add up to more than the account owns). With margin only
    the broker's ``buying_power`` limits the buys.

    Raises:
        RefusedError: either check fails; the message names ``ALLOW_MARGIN``.
    """
    signed = (shares(o.qty) * o.ref_price * (1 if o.side is Side.BUY else -1) for o in orders)
    need = sum(signed, Decimal(0))
    spendable = account.spendable(limits.allow_margin)
    margin_hint = "" if limits.allow_margin else " (without margin; ALLOW_MARGIN=1 allows borrowing)"
    if need > spendable:
        raise RefusedError(
            f"the orders need about ${need:,.2f} but the account can spend ${spendable:,.2f}{margin_hint}; "
            "deposit at the broker or lower the portfolios' capital"
        )
    sized = sum((p.equity for p in plans), others)
    if not limits.allow_margin and sized > account.equity:
        raise RefusedError(
            f"the portfolios' capital (${sized:,.2f}, every portfolio on this broker) exceeds the "
            f"account's equity (${account.equity:,.2f}); lower their capital or `pas allocate --apply`, "
            "or set ALLOW_MARGIN=1 to trade on margin"
        )


def buy_limit_caps(
    account: Account, orders: Sequence[TradeOrder], limits: TradingLimits
) -> dict[str, Decimal]:
    """The highest limit (dollars) each buy may have for the broker to accept it, where it
    needs one (client order id -> price).

    A broker that holds a limit buy's quantity × limit price of its buying power
    (:attr:`Account.holds_limit_buys`: Alpaca) refuses a buy whose hold does not fit what
    the orders sent before it have left. The orders go out in their plan order and, in a
    normal market, fill at once near their reference price; so a buy may hold at most the
    buying power less the earlier buys plus the earlier sells at their reference prices.
    A collar's limit above that is lowered to it, rounded down to the tick; at the
    collar's +10% a cash account's last buy would otherwise be refused by every run.
    :func:`check_buying_power` has made sure the buys fit at their reference prices, so
    the lowered limit is not below a buy's reference (but for the tick's rounding); where
    nothing is left (a broker's figures that disagree), the broker's refusal says so.
    """
    if not (limits.limit_orders and account.holds_limit_buys):
        return {}
    caps, used = {}, Decimal(0)
    for o in orders:
        if o.status is not TradeOrderStatus.PLANNED:  # crossed in full: nothing is sent
            continue
        qty, cost = shares(o.qty), shares(o.qty) * o.ref_price
        if o.side is Side.SELL:
            used -= cost
            continue
        cap = cap_price((account.buying_power - used) / qty)
        if 0 < cap < limit_price(o, limits.price_collar):
            caps[o.client_order_id] = cap
        used += cost
    return caps


def order_request(order: TradeOrder, limits: TradingLimits, cap: Decimal | None = None) -> OrderRequest:
    """The broker request of a planned order: a marketable limit at the collar
    (:func:`~pas.portfolio.trading.collar.limit_price`), lowered to ``cap`` (see
    :func:`buy_limit_caps`), or a market order."""
    limit = limit_price(order, limits.price_collar) if limits.limit_orders else None
    if limit is not None and cap is not None:
        limit = min(limit, cap)
    return OrderRequest(order.symbol, order.side, shares(order.qty), order.client_order_id, limit_price=limit)
