"""The rebalance planner: a pure function from holdings and targets to orders.

Rules, in order:

1. A portfolio's equity is its cash plus the market value of its holdings; targets are
   fractions of that equity (so positions are sized to current equity, not original capital).
2. A symbol held but no longer targeted is closed in full.
3. A symbol whose weight is within ``band`` of its target is left alone.
4. Sells come before buys; a sell never exceeds the holding (pas never sells short).
5. Buys never spend more than cash plus sell proceeds less the cash buffer
   (``cash_buffer`` × equity) less the bound of every order's costs
   (:meth:`pas.portfolio.costs.CostModel.bound`); when the buys need more, all of them are
   scaled down by one factor: a buy is sized to the cash the portfolio will have.
6. When the cash after the sells is still below the buffer (cash that was negative, or
   positions that drifted up inside the band), the positions furthest above their target
   weight are sold down until it is not: the cash a plan leaves is never below the buffer
   at the planning prices, so never below zero after its costs. Zero is the floor and the
   buffer a target: a sell that would raise cash only toward the buffer (cash already at
   or above zero) and is smaller than ``min_notional`` is not made, rather than rounded up
   to a sale far larger than the shortfall; one that keeps cash from going below zero is
   rounded up to ``min_notional``.
7. Quantities are floored to 9 decimals for fractionable assets, to whole shares otherwise
   (rule 6 rounds up instead).
8. No order below ``min_notional`` dollars (a dust position below it stays open).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from pas.errors import InputError
from pas.models import Side
from pas.portfolio.costs import NO_COSTS, CostModel

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


def _ceil(qty: Decimal, fractionable: bool) -> Decimal:
    step = _NANO if fractionable else _ONE
    return qty.quantize(step, rounding=ROUND_CEILING) if qty > 0 else Decimal(0)


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
    costs: CostModel = NO_COSTS,
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
        costs: the broker's cost model, whose bound every order reserves.

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

    reserve = rules.cash_buffer * equity
    net = cash + sum((o.notional - costs.bound(o.qty, o.price) for o in sells), Decimal(0))
    buys, scale = _buys(portfolio, wanted, net - reserve, prices, fractionable, rules, costs)
    left = net - sum((o.notional + costs.bound(o.qty, o.price) for o in buys), Decimal(0))
    if left < reserve:
        sells = _raise_cash(
            portfolio,
            sells,
            holdings,
            targets,
            prices,
            equity,
            fractionable,
            reserve - left,
            reserve,
            rules,
            costs,
        )
    return Plan(portfolio, equity, cash, sells + buys, cash_limited=scale < _ONE)


def _buys(
    portfolio: str,
    wanted: list[tuple[str, Decimal, str]],
    available: Decimal,
    prices: Mapping[str, Decimal],
    fractionable: Mapping[str, bool],
    rules: PlanRules,
    costs: CostModel,
) -> tuple[list[PlannedOrder], Decimal]:
    """The buys of ``wanted`` (dollars per symbol), scaled by one factor so that they and
    the bound of their costs spend at most ``available`` dollars; and that factor."""
    gross = sum((d * (1 + costs.per_dollar(prices[s])) for s, d, _ in wanted), Decimal(0))
    fixed = costs.commission * len(wanted)
    scale = _ONE
    if gross > 0 and gross + fixed > available:
        scale = max(Decimal(0), (available - fixed) / gross)
    buys: list[PlannedOrder] = []
    for s, dollars, reason in wanted:
        qty = _floor(dollars * scale / prices[s], fractionable.get(s, False))
        if qty > 0 and qty * prices[s] >= rules.min_notional:
            note = reason if scale == _ONE else f"{reason} (scaled to the cash available)"
            buys.append(PlannedOrder(portfolio, s, Side.BUY, qty, prices[s], note))
    return buys, scale


def _raise_cash(
    portfolio: str,
    sells: list[PlannedOrder],
    holdings: Mapping[str, Decimal],
    targets: Mapping[str, float],
    prices: Mapping[str, Decimal],
    equity: Decimal,
    fractionable: Mapping[str, bool],
    short: Decimal,
    reserve: Decimal,
    rules: PlanRules,
    costs: CostModel,
) -> list[PlannedOrder]:
    """``sells`` with more sold so that they bring in ``short`` more dollars net of the
    bound of their costs (or everything is sold): the positions furthest above their
    target weight are sold down first, each rounded up to a step.

    While the cash would stay below zero (``short`` above ``reserve``, the buffer) a sale
    is rounded up to ``min_notional``; once only the buffer is short, a sale that small is
    skipped (the buffer is a target; rounding a cent's shortfall up to the minimum order
    would sell far below the target weight).
    """
    sold = {o.symbol: o for o in sells}
    remaining = {s: q - (sold[s].qty if s in sold else Decimal(0)) for s, q in holdings.items()}
    order = sorted(
        (s for s, q in remaining.items() if q > 0),
        key=lambda s: (
            -(remaining[s] * prices[s] - Decimal(repr(float(targets.get(s, 0.0)))) * equity),
            s,
        ),
    )
    out = dict(sold)
    for s in order:
        if short <= 0:
            break
        price, frac = prices[s], fractionable.get(s, False)
        fee = costs.commission if s not in sold else Decimal(0)
        need = _ceil((short + fee) / (price * (1 - costs.per_dollar(price))), frac)
        before = sold[s].qty if s in sold else Decimal(0)
        if (before + need) * price < rules.min_notional:
            if short <= reserve:
                continue  # cash stays at or above zero; the buffer's few cents are not worth it
            need = _ceil(rules.min_notional / price - before, frac)
        qty = min(remaining[s], need)
        total = qty + before
        if total * price < rules.min_notional:
            continue
        out[s] = PlannedOrder(portfolio, s, Side.SELL, total, price, "raise cash to the buffer")
        short -= qty * price - (costs.bound(qty, price) - costs.commission) - fee
    return [out[s] for s in sorted(out)]
