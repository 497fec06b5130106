"""The price collar: the price a run plans with, checked against the market before any order.

A stale or wrong print must not size an order (issue 12: a $20 last trade of a $200 stock
sent 600 shares that filled for $120,000, above ``MAX_ORDER_NOTIONAL``). So:

- **The reference price** of a symbol is the midpoint of its current quote (bid and ask,
  Alpaca's latest quotes); the plan sizes orders, checks limits and prices internal
  crosses at it. The midpoint is what neither side of a cross gains on: each portfolio
  trades at the price it would get halfway across the spread. A symbol without a valid
  quote (no bid or ask, or a crossed one) is priced at its last trade, and may not be
  ordered.
- **The collar.** Before anything is sent, every ordered symbol's reference must be within
  ``PRICE_COLLAR`` (a fraction of the reference) of its last trade and of its last stored
  close (when one is stored); otherwise the run is refused (exit 3).
- **Marketable limit orders** (``ORDER_TYPE=limit``, the default): a buy is limited to the
  reference × (1 + collar), a sell to the reference × (1 − collar), on the tick Alpaca
  allows (a cent from $1, else 1/100 of a cent). Such an order fills at once in a normal
  market, but never at a price beyond the collar if the market moves between the check and
  the fill. Alpaca accepts fractional limit orders with ``time_in_force=day``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from pas.domain.broker import Quote
from pas.errors import RefusedError
from pas.models import Side, TradeOrder

_CENT = Decimal("0.01")
_SUB_PENNY = Decimal("0.0001")  # Alpaca's tick below $1


def reference_prices(trades: Mapping[str, Decimal], quotes: Mapping[str, Quote]) -> dict[str, Decimal]:
    """Each symbol's reference price in dollars: its quote midpoint, else its last trade.

    Args:
        trades: the last trade price per symbol.
        quotes: the current quote per symbol (missing or invalid ones fall back).
    """
    prices = dict(trades)
    for symbol, quote in quotes.items():
        if quote.valid:
            prices[symbol] = quote.midpoint
    return prices


def check_collar(
    symbols: Iterable[str],
    trades: Mapping[str, Decimal],
    quotes: Mapping[str, Quote],
    closes: Mapping[str, Decimal],
    collar: Decimal,
) -> None:
    """Refuses to order a symbol whose reference price the market does not confirm.

    Args:
        symbols: the symbols to be ordered.
        trades: last trade prices (dollars).
        quotes: current quotes.
        closes: last stored daily closes (dollars); a symbol without one is checked
            against its trade only.
        collar: the largest gap allowed, as a fraction of the reference (0.1 is 10%).

    Raises:
        RefusedError: a symbol has no valid quote, or its midpoint is further than the
            collar from its last trade or its last stored close.
    """
    for symbol in sorted(symbols):
        quote = quotes.get(symbol)
        if quote is None or not quote.valid:
            raise RefusedError(
                f"{symbol} has no current quote (bid and ask), so its price cannot be checked; "
                "run again while the market quotes it"
            )
        reference = quote.midpoint
        for what, price in (("last trade", trades.get(symbol)), ("last stored close", closes.get(symbol))):
            if price is not None and abs(price - reference) > collar * reference:
                raise RefusedError(
                    f"{symbol}: the quote midpoint ${reference:,.4f} is more than PRICE_COLLAR "
                    f"({(collar * 100).normalize():f}%) away from its {what} (${price:,.4f}); "
                    "check the price (`pas prices fetch` refreshes the closes), or raise PRICE_COLLAR"
                )


def limit_price(order: TradeOrder, collar: Decimal) -> Decimal:
    """The marketable limit of an order in dollars: its reference price moved by the collar
    against the trader (up for a buy, down for a sell), rounded inward to Alpaca's tick."""
    if order.side is Side.BUY:
        raw = order.ref_price * (1 + collar)
        return raw.quantize(_tick(raw), rounding=ROUND_FLOOR)
    raw = order.ref_price * (1 - collar)
    return raw.quantize(_tick(raw), rounding=ROUND_CEILING)


def cap_price(dollars: Decimal) -> Decimal:
    """A price no higher than ``dollars``, on Alpaca's tick (rounded down)."""
    return dollars.quantize(_tick(dollars), rounding=ROUND_FLOOR)


def _tick(price: Decimal) -> Decimal:
    return _CENT if price >= 1 else _SUB_PENNY
