"""The rebalance planner: a pure function from holdings and targets to orders.

Rules, in order:

1. A portfolio's equity is its cash plus the market value of its holdings; targets are
   fractions of that equity (so positions are sized to current equity, not original capital).
2. A symbol held but no longer targeted is closed in full.
3. A symbol whose weight is within ``band`` of its target is left alone.
4. Sells come before buys; a sell never exceeds the holding (pas never sells short).
5. Buys never spend more than cash plus sell proceeds less the cash buffer
   (``cash_buffer`` × equity, which also absorbs slippage and commissions); when the buys
   need more, all of them are scaled down by one factor.
6. Quantities are floored to 9 decimals for fractionable assets, to whole shares otherwise.
7. No order below ``min_notional`` dollars (a dust position below it stays open).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

from pas.errors import InputError
from pas.models import Side

_NANO = Decimal("1e-9")
_ONE = Decimal(1)


@dataclass(frozen=True)
class PlanRules:
    """Limits the planner honours.

    Attributes:
        cash_buffer: fraction of equity kept as cash.
        min_notional: dollars; smaller orders are dropped.
        band: weight tolerance (0.005 is half a percentage point).
    """

    cash_buffer: Decimal = Decimal("0.01")
    min_notional: Decimal = Decimal(1)
    band: Decimal = Decimal("0.005")


@dataclass(frozen=True)
class PlannedOrder:
    """An order one portfolio wants, with why."""

    portfolio: str
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal
    reason: str

    @property
    def notional(self) -> Decimal:
        """Quantity times the planning price, in dollars."""
        return self.qty * self.price


@dataclass(frozen=True)
class Plan:
    """The orders of one portfolio and the figures they were sized from (dollars)."""

    portfolio: str
    equity: Decimal
    cash: Decimal
    orders: list[PlannedOrder] = field(default_factory=list)
    cash_limited: bool = False
    """True when the buys were scaled down to fit the cash available."""


def _floor(qty: Decimal, fractionable: bool) -> Decimal:
    step = _NANO if fractionable else _ONE
    return qty.quantize(step, rounding=ROUND_FLOOR) if qty > 0 else Decimal(0)


def _pct(w: Decimal) -> str:
    return f"{w * 100:.1f}%"


def plan_rebalance(
    portfolio: str,
    holdings: Mapping[str, Decimal],
    targets: Mapping[str, float],
    prices: Mapping[str, Decimal],
    cash: Decimal,
    fractionable: Mapping[str, bool],
    rules: PlanRules = PlanRules(),
) -> Plan:
    """Plans the orders that move a portfolio toward its target weights.

    Args:
        portfolio: the portfolio's id (copied onto each order).
        holdings: shares held per symbol (from the ledger).
        targets: weight per symbol, summing to at most 1; the rest is cash.
        prices: dollars per share for every held or targeted symbol.
        cash: dollars not invested (capital + cash flows − what the fills consumed).
        fractionable: per symbol, whether fractional shares can be traded (default False).
        rules: buffer, minimum notional and band.

    Returns:
        The plan: sells first (by symbol), then buys (by symbol).

    Raises:
        InputError: a price is missing or not positive, or a holding is negative.
    """
    symbols = sorted(set(holdings) | {s for s, w in targets.items() if w > 0})
    for s in symbols:
        price = prices.get(s)
        if price is None or price <= 0:
            raise InputError(f"no price for {s}; store one with `pas prices import` or `pas prices fetch`")
        if holdings.get(s, Decimal(0)) < 0:
            raise InputError(f"{portfolio} holds a negative quantity of {s}; pas never sells short")
    value = {s: holdings.get(s, Decimal(0)) * prices[s] for s in symbols}
    equity = cash + sum(value.values(), Decimal(0))
    if equity <= 0:
        raise InputError(
            f"portfolio {portfolio} has no equity to trade with; "
            f"fund it with `pas portfolio fund {portfolio} AMOUNT`"
        )

    sells: list[PlannedOrder] = []
    wanted: list[tuple[str, Decimal, str]] = []  # (symbol, dollars to buy, reason)
    for s in symbols:
        price, held = prices[s], holdings.get(s, Decimal(0))
        target = Decimal(repr(float(targets.get(s, 0.0))))
        weight = value[s] / equity
        if held > 0 and s not in targets:
            if value[s] >= rules.min_notional:
                sells.append(PlannedOrder(portfolio, s, Side.SELL, held, price, "close: no longer targeted"))
            continue
        if abs(weight - target) <= rules.band:
            continue
        reason = f"weight {_pct(weight)} -> target {_pct(target)}"
        delta = target * equity - value[s]
        if delta < 0:
            qty = held if target == 0 else min(held, _floor(-delta / price, fractionable.get(s, False)))
            if qty > 0 and qty * price >= rules.min_notional:
                sells.append(PlannedOrder(portfolio, s, Side.SELL, qty, price, reason))
        else:
            wanted.append((s, delta, reason))

    proceeds = sum((o.notional for o in sells), Decimal(0))
    available = cash + proceeds - rules.cash_buffer * equity
    needed = sum((d for _, d, _ in wanted), Decimal(0))
    scale = _ONE
    if needed > 0 and needed > available:
        scale = max(Decimal(0), available / needed)
    buys: list[PlannedOrder] = []
    for s, dollars, reason in wanted:
        qty = _floor(dollars * scale / prices[s], fractionable.get(s, False))
        if qty > 0 and qty * prices[s] >= rules.min_notional:
            note = reason if scale == _ONE else f"{reason} (scaled to the cash available)"
            buys.append(PlannedOrder(portfolio, s, Side.BUY, qty, prices[s], note))
    return Plan(portfolio, equity, cash, sells + buys, cash_limited=scale < _ONE)
