"""Allocation transfers: money an applied allocation moves between portfolios.

An applied allocation wants each portfolio it names to have ``account equity × exposure ×
weight`` dollars; the difference from its ledger equity is the transfer it *wants*. A
trading run moves only money that exists and is free, so that no portfolio's cash ever
goes below zero and the transfers always sum to zero, whatever is refused:

- a **giver** is planned at its allocated equity, so its plan sells first what it gives
  (sells go before buys, and its plan still leaves it the cash buffer); one allocated
  nothing sells everything and gives what the sales bring in, less the bound of their
  costs;
- the account's **pool** (cash that belongs to no portfolio: the broker's cash less every
  portfolio's ledger cash) gives what it holds above its target — the account less what
  the allocation gives the portfolios it names and less the equity of those it does not
  name — and takes what it lacks of it; it never gives cash it does not have;
- portfolios first settle with each other; the pool makes up the difference. The total
  given by givers and the total received by receivers are split in proportion to what
  each gave or asked, by the largest-remainder rule in cents, so every transfer is whole
  cents and ``Σ transfers = − (the pool's change)``: exactly zero when the pool neither
  gives nor takes (an exposure of 100% and no unallocated cash).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_FLOOR, Decimal

from pas.portfolio.netting import split_units

CENT = Decimal("0.01")


def _cents(dollars: Decimal) -> int:
    return int((dollars / CENT).to_integral_value(rounding=ROUND_FLOOR))


def balance_transfers(
    wanted: Mapping[str, Decimal],
    pool_surplus: Decimal = Decimal(0),
    pool_deficit: Decimal = Decimal(0),
) -> dict[str, Decimal]:
    """The transfers a run records (see the module docstring).

    Args:
        wanted: dollars each portfolio should receive (negative: give).
        pool_surplus: dollars the pool holds above its target (can give).
        pool_deficit: dollars the pool lacks of its target (takes).

    Returns:
        Dollars per portfolio, whole cents, none zero; nobody receives or gives more than
        it wants to.
    """
    gives = {p: _cents(-w) for p, w in wanted.items() if w < 0 and _cents(-w) > 0}
    asks = {p: _cents(w) for p, w in wanted.items() if w > 0 and _cents(w) > 0}
    surplus, deficit = max(_cents(pool_surplus), 0), max(_cents(pool_deficit), 0)
    given = min(sum(gives.values()), sum(asks.values()) + deficit)
    received = min(sum(asks.values()), given + surplus)
    out: dict[str, Decimal] = {}
    for p, c in split_units(given, gives).items() if gives else ():
        if c:
            out[p] = -c * CENT
    for p, c in split_units(received, asks).items() if asks else ():
        if c:
            out[p] = c * CENT
    return out
