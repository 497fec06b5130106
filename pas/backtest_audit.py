"""Checks of a finished backtest's books, independent of how they were computed.

- **Negative cash**: for every portfolio and trading day, its ledger cash at that day's
  end (funded less what its fills consumed, by :mod:`pas.portfolio.account`'s rule)
  must not be below zero.
- **Combined book**: the return of the portfolios' summed equity net of the money that
  came from outside them, ``ΣE_d / (ΣE_{d−1} + F_d) − 1`` with ``F_d`` the net cash flow
  of every portfolio on day d (transfers between portfolios cancel), is recomputed from
  the stored equities and cash flows and compared with
  :func:`pas.backtest.combined_returns`. Days on which a portfolio has its first metric
  are skipped (its previous close is not stored).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from itertools import pairwise

from pas.schedule import market_day
from pas.store.base import Store


def _next_on_or_after(days: Sequence[date], day: date) -> date | None:
    return next((d for d in days if d >= day), None)


def negative_cash_days(target: Store, portfolio_ids: Sequence[str], days: Sequence[date]) -> int:
    """Counts (portfolio, trading day) pairs whose ledger cash ended the day below zero."""
    count = 0
    for pid in portfolio_ids:
        moves: dict[date, Decimal] = defaultdict(Decimal)
        for f in target.cash_flows(pid):
            moves[market_day(f.ts)] += f.amount
        for fill in target.fills(pid):
            sign = -1 if fill.side.value == "buy" else 1
            moves[market_day(fill.ts)] += sign * fill.qty * fill.price - fill.commission
        cash, pending = Decimal(0), sorted(moves.items())
        for day in days:
            while pending and pending[0][0] <= day:
                cash += pending.pop(0)[1]
            count += cash < 0
    return count


def combined_gap(
    target: Store, portfolio_ids: Sequence[str], combined: dict[date, float]
) -> tuple[float, int]:
    """The largest |combined − summed-equity return| over the days it can be measured."""
    metrics = {p: {m.day: m for m in target.daily_metrics(p)} for p in portfolio_ids}
    days = sorted({d for s in metrics.values() for d in s})
    flows: dict[tuple[str, date], Decimal] = defaultdict(Decimal)
    for pid in portfolio_ids:
        for f in target.cash_flows(pid):
            day = _next_on_or_after(days, market_day(f.ts))
            if day is not None:
                flows[pid, day] += f.amount
    worst, compared = 0.0, 0
    for before, day in pairwise(days):
        alive = [p for p, m in metrics.items() if day in m]
        if any(before not in metrics[p] for p in alive):
            continue  # a portfolio's first day: its previous close is not stored
        start = sum((metrics[p][before].equity or Decimal(0) for p in alive), Decimal(0))
        start += sum((flows[p, day] for p in alive), Decimal(0))
        end = sum((metrics[p][day].equity or Decimal(0) for p in alive), Decimal(0))
        if start <= 0 or day not in combined:
            continue
        worst = max(worst, abs(float(end / start - 1) - combined[day]))
        compared += 1
    return worst, compared
