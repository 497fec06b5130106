"""What a portfolio owns, written once for both backends' ``remove_portfolio``.

Removing a portfolio leaves nothing of it behind, so an id added again starts with no
history. Rows keyed by the portfolio are deleted outright (:data:`OWNED_BY_PORTFOLIO`).
Rows shared with other portfolios lose only the removed portfolio's part:

- an applied allocation drops its weight and keeps every other portfolio's dollars: the
  others' weights are scaled up and the exposure down by the same factor (capital =
  equity × exposure × weight is unchanged); the removed share becomes uninvested. An
  allocation that named only the removed portfolio is deleted.
- a trading run drops it from its portfolios, and each order of the run drops its share
  and crosses; an order left with neither, and a run left with no portfolio, are deleted.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pas.models import AppliedAllocation, TradeOrder, TradeRun

# (table or collection, the field naming the portfolio), deleted in this order. The
# portfolio's own row goes last, so a crash half-way (Mongo without transactions) leaves a
# portfolio that can be removed again, never rows of a portfolio that is gone.
OWNED_BY_PORTFOLIO: tuple[tuple[str, str], ...] = (
    ("fills", "portfolio"),
    ("ledger_folds", "portfolio"),
    ("cash_flows", "portfolio"),
    ("weights", "portfolio"),
    ("daily_metrics", "portfolio"),
    ("trailing_stats", "portfolio"),
)


def allocation_without(allocation: AppliedAllocation, portfolio_id: str) -> AppliedAllocation | None:
    """The allocation with ``portfolio_id`` dropped, the others' dollars unchanged.

    Returns:
        The allocation itself when it does not name the portfolio, None when it named
        only that portfolio (or only weights of zero besides it).
    """
    if portfolio_id not in allocation.weights:
        return allocation
    rest = {p: w for p, w in allocation.weights.items() if p != portfolio_id}
    kept = sum(rest.values())
    if not rest or kept <= 0:
        return None
    return replace(
        allocation,
        weights={p: w / kept for p, w in rest.items()},
        exposure=allocation.exposure * kept,
    )


def trade_run_without(run: TradeRun, portfolio_id: str) -> TradeRun | None:
    """The run with ``portfolio_id`` dropped from its portfolios; None when none is left."""
    rest = tuple(p for p in run.portfolios if p != portfolio_id)
    return replace(run, portfolios=rest) if rest else None


def trade_order_without(order: TradeOrder, portfolio_id: str) -> TradeOrder | None:
    """The order with the portfolio's share and crosses dropped; None when nothing is left."""
    shares = tuple(s for s in order.shares if s[0] != portfolio_id)
    crosses = tuple(c for c in order.crosses if c[0] != portfolio_id)
    if not shares and not crosses:
        return None
    return replace(order, shares=shares, crosses=crosses)
