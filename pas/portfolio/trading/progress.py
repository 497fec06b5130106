"""Where a trading run stands: what a waiting command shows, and what an interrupted one
says before it stops."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pas.models import TradeOrderStatus
from pas.store.base import Store


@dataclass(frozen=True)
class RunProgress:
    """The orders of one trading run by where they are.

    Attributes:
        run_id: the trading run.
        unsent: planned, or being sent with no answer yet (resuming looks these up by
            client order id before anything is sent again).
        sent: accepted by the broker (``open`` + ``settled``).
        open: sent and not settled: working at the broker, or filled without all fills
            recorded yet.
        settled: ended at the broker with every fill recorded (filled, or ended short).
        failed: refused by the broker, or proven absent.
        unknown: their fate at the broker is unknown (looked up, never re-sent).
    """

    run_id: str
    unsent: int
    sent: int
    open: int
    settled: int
    failed: int
    unknown: int = 0


Progress = Callable[[RunProgress], None]
"""Called by :func:`pas.portfolio.trading.run.run_rebalance` after each poll while it waits."""


def run_progress(store: Store, run_id: str) -> RunProgress:
    """The stored state of a trading run's orders (orders crossed in full inside pas never
    reach the broker and are not counted)."""
    counts = {status: 0 for status in TradeOrderStatus}
    for order in store.trade_orders(run_id):
        counts[order.status] += 1
    unsent = counts[TradeOrderStatus.PLANNED] + counts[TradeOrderStatus.SENDING]
    settled, open_ = counts[TradeOrderStatus.SETTLED], counts[TradeOrderStatus.SENT]
    failed, unknown = counts[TradeOrderStatus.FAILED], counts[TradeOrderStatus.UNKNOWN]
    return RunProgress(run_id, unsent, open_ + settled, open_, settled, failed, unknown)
