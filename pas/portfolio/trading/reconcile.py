"""Reconciliation: the sum of every portfolio's ledger against the broker's positions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal

from pas.portfolio.broker.base import Broker
from pas.store.base import Store

DEFAULT_RECONCILE_TOLERANCE = Decimal("0.000001")


@dataclass(frozen=True)
class Difference:
    """A symbol whose ledgers and broker position disagree (shares)."""

    symbol: str
    ledgers: Decimal
    broker: Decimal

    @property
    def gap(self) -> Decimal:
        """Broker minus ledgers."""
        return self.broker - self.ledgers


def reconcile_ledgers(
    store: Store,
    broker: Broker,
    tolerance: Decimal = DEFAULT_RECONCILE_TOLERANCE,
    symbols: Collection[str] | None = None,
) -> tuple[dict[str, Decimal], list[Difference]]:
    """Compares the sum of every portfolio's holdings with the broker's positions.

    Args:
        symbols: compare only these (default: every symbol held by either side).

    Returns:
        (the summed ledgers per symbol, the differences above ``tolerance`` shares).
    """
    total: dict[str, Decimal] = defaultdict(Decimal)
    for p in store.list_portfolios():
        for symbol, qty in store.holdings(p.id).items():
            total[symbol] += qty
    held = {pos.symbol: pos.qty for pos in broker.positions()}
    diffs = [
        Difference(s, total.get(s, Decimal(0)), held.get(s, Decimal(0)))
        for s in sorted(set(total) | set(held))
        if (symbols is None or s in symbols)
        and abs(held.get(s, Decimal(0)) - total.get(s, Decimal(0))) > tolerance
    ]
    return dict(total), diffs
