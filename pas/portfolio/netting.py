"""Netting the orders of several portfolios into one broker order per symbol, and
splitting the fills back.

Alpaca rejects an order opposite to an open order on the same symbol (a potential wash
trade), and one order per symbol is fewer requests, so a run sends one order per symbol.

The rule, per symbol of a run:

- **Internal cross.** What portfolios sell and what others buy is matched first:
  ``min(total bought, total sold)`` changes hands between them at the run's reference
  price (the price the plan used: the latest price when the run was planned), with no
  commission. Each side's crossed quantity is split over its portfolios in proportion to
  what each asked (largest remainder). A cross never touches the broker, so the sum of
  all ledgers still equals the account.
- **Broker order.** The rest (the larger side's residual) goes to the broker as one
  order. Each fill of it is split over the portfolios in proportion to what each *still
  lacks* of its residual ask, with the largest-remainder rule in nano units (whole
  shares for assets that are not fractionable). The split shares of a fill sum exactly to
  the fill, nobody ever gets more than it asked, and when the order fills completely each
  portfolio has exactly its ask. Commissions are split the same way, in nano dollars.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping, Sequence

from pas.domain.broker import MAX_CLIENT_ORDER_ID
from pas.models import UNITS_PER_ONE, Side, TradeOrder, TradeOrderStatus, to_units
from pas.portfolio.rebalance import PlannedOrder

NET_TAG = "net"


def client_order_id(run_id: str, tag: str, symbol: str) -> str:
    """A deterministic client order id of at most 48 characters.

    ``pas-<run>-<tag>-<symbol>`` when it fits (readable at the broker); otherwise the
    symbol and tag are replaced by a hash of them.
    """
    plain = f"pas-{run_id}-{tag}-{symbol}"
    if len(plain) <= MAX_CLIENT_ORDER_ID:
        return plain
    digest = hashlib.sha256(f"{tag}|{symbol}".encode()).hexdigest()
    head = f"pas-{run_id}-"
    return head + digest[: MAX_CLIENT_ORDER_ID - len(head)]


def split_units(total: int, asks: Mapping[str, int], lot: int = 1) -> dict[str, int]:
    """Splits ``total`` over ``asks`` in proportion, in multiples of ``lot``.

    Largest remainder (Hamilton): each gets the floor of its proportional share, then the
    lots left over go one each to the largest fractional parts (ties by key). The result
    sums to ``total`` exactly and no share exceeds its ask.

    Args:
        total: what to split; a multiple of ``lot``, at most the sum of the asks.
        asks: what each key asked; each a multiple of ``lot``, none negative.
        lot: the indivisible unit (1 nano unit, or a whole share = 10⁹).

    Raises:
        ValueError: the total is more than the asks or not a multiple of the lot.
    """
    asked = sum(asks.values())
    if total < 0 or total > asked or total % lot:
        raise ValueError(f"cannot split {total} over asks totalling {asked} in lots of {lot}")
    if total == 0:
        return dict.fromkeys(asks, 0)
    lots_total = total // lot
    lots_asked = {k: v // lot for k, v in asks.items()}
    denominator = asked // lot
    base = {k: lots_total * a // denominator for k, a in lots_asked.items()}
    remainder = {k: lots_total * a % denominator for k, a in lots_asked.items()}
    left = lots_total - sum(base.values())
    for k in sorted(asks, key=lambda k: (-remainder[k], k))[:left]:
        base[k] += 1
    return {k: v * lot for k, v in base.items()}


def net_orders(
    run_id: str,
    orders: Sequence[PlannedOrder],
    fractionable: Mapping[str, bool],
) -> list[TradeOrder]:
    """Nets planned orders of several portfolios into one :class:`TradeOrder` per symbol.

    Sells come first in the result (then buys, then fully crossed symbols), each group by
    symbol. The reference price of a symbol is the first planned order's price (every
    portfolio plans with the same price).
    """
    by_symbol: dict[str, list[PlannedOrder]] = defaultdict(list)
    for order in orders:
        by_symbol[order.symbol].append(order)
    netted: list[TradeOrder] = []
    for symbol, group in by_symbol.items():
        lot = 1 if fractionable.get(symbol, False) else UNITS_PER_ONE
        bought: dict[str, int] = defaultdict(int)
        sold: dict[str, int] = defaultdict(int)
        for o in group:
            (bought if o.side is Side.BUY else sold)[o.portfolio] += to_units(o.qty)
        crossed = min(sum(bought.values()), sum(sold.values()))
        buy_cross = split_units(crossed, bought, lot) if crossed else {}
        sell_cross = split_units(crossed, sold, lot) if crossed else {}
        crosses = tuple(
            sorted(
                [(p, u) for p, u in buy_cross.items() if u] + [(p, -u) for p, u in sell_cross.items() if u]
            )
        )
        side = Side.BUY if sum(bought.values()) > sum(sold.values()) else Side.SELL
        residual = bought if side is Side.BUY else sold
        cross = buy_cross if side is Side.BUY else sell_cross
        shares = tuple(sorted((p, u - cross.get(p, 0)) for p, u in residual.items() if u - cross.get(p, 0)))
        qty = sum(u for _, u in shares)
        portfolios = {o.portfolio for o in group}
        tag = next(iter(portfolios)) if len(portfolios) == 1 else NET_TAG
        netted.append(
            TradeOrder(
                run_id=run_id,
                client_order_id=client_order_id(run_id, tag, symbol),
                seq=0,
                symbol=symbol,
                side=side,
                qty=qty,
                ref_price=group[0].price,
                fractionable=lot == 1,
                shares=shares,
                crosses=crosses,
                status=TradeOrderStatus.PLANNED if qty else TradeOrderStatus.CROSSED,
            )
        )
    rank = {Side.SELL: 0, Side.BUY: 1}
    netted.sort(key=lambda o: (o.qty == 0, rank[o.side], o.symbol))
    return [_with_seq(o, i) for i, o in enumerate(netted)]


def _with_seq(order: TradeOrder, seq: int) -> TradeOrder:
    from dataclasses import replace

    return replace(order, seq=seq)
