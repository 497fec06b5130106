"""Netting the orders of several portfolios into one broker order per symbol, and
splitting the fills back.

Alpaca rejects an order opposite to an open order on the same symbol (a potential wash
trade), and one order per symbol is fewer requests, so a run sends one order per symbol.

The rule, per symbol of a run:

- **Internal cross.** What portfolios sell and what others buy is matched first:
  ``min(total bought, total sold)`` changes hands between them at the run's reference
  price (the price the plan used: the latest price when the run was planned), with no
  commission. Each side's crossed quantity is split over its portfolios in proportion to
  what each asked (largest remainder). For an asset that is not fractionable only whole
  shares cross: a fractional leftover (a holding from before the asset stopped trading in
  fractions, or an import) is sold at the broker when the sells are the larger side; when
  the buys are, it stays held until a run in which it does not cross (one order per
  symbol: a sell beside the buy would be refused as a potential wash trade). A cross never
  touches the broker, so the sum of all ledgers still equals the account.
- **Broker order.** The rest (the larger side's residual) goes to the broker as one
  order. Each fill of it is split over the portfolios in proportion to what each *still
  lacks* of its residual ask, with the largest-remainder rule in nano units (whole
  shares for assets that are not fractionable). The split shares of a fill sum exactly to
  the fill, nobody ever gets more than it asked, and when the order fills completely each
  portfolio has exactly its ask. A fill's commission is money, not shares: it is prorated
  in nano dollars over the portfolios' shares of that fill (:func:`prorate`), so a
  commission larger in dollars than the fill in shares splits too.
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


def prorate(total: int, weights: Mapping[str, int]) -> dict[str, int]:
    """Splits ``total`` over ``weights`` in proportion, largest remainder (Hamilton).

    Each key gets the floor of its proportional share; the units left over go one each to
    the largest fractional parts (ties by key). The result sums to ``total`` exactly.
    Weights and total may be in different units (a commission in nano dollars over fills
    in nano shares).

    Args:
        total: what to split, at least 0.
        weights: each key's weight, none negative, summing to more than 0.
    """
    denominator = sum(weights.values())
    base = {k: total * w // denominator for k, w in weights.items()}
    remainder = {k: total * w % denominator for k, w in weights.items()}
    left = total - sum(base.values())
    for k in sorted(weights, key=lambda k: (-remainder[k], k))[:left]:
        base[k] += 1
    return base


def split_units(total: int, asks: Mapping[str, int], lot: int = 1) -> dict[str, int]:
    """Splits ``total`` over ``asks`` in proportion, in multiples of ``lot``.

    Largest remainder (:func:`prorate`) over whole lots: the result sums to ``total``
    exactly and no share exceeds its ask.

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
    lots = prorate(total // lot, {k: v // lot for k, v in asks.items()})
    return {k: v * lot for k, v in lots.items()}


def _whole_lots(asks: Mapping[str, int], lot: int) -> dict[str, int]:
    """Each ask floored to whole lots: what of it can cross (a fractional leftover of a
    whole-share asset cannot be split in whole shares, so it goes to the broker)."""
    return {k: v - v % lot for k, v in asks.items()}


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
        crossable_buys, crossable_sells = _whole_lots(bought, lot), _whole_lots(sold, lot)
        crossed = min(sum(crossable_buys.values()), sum(crossable_sells.values()))
        buy_cross = split_units(crossed, crossable_buys, lot) if crossed else {}
        sell_cross = split_units(crossed, crossable_sells, lot) if crossed else {}
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
