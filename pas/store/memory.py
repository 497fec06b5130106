"""The backtest's working store: SQLite in memory, its hot reads answered from Python values.

A backtest asks the store the same questions every simulated day — each portfolio's
fills, holdings and cash flows, the newest close of every symbol, the simulated broker's
open orders and totals, the daily metrics and trailing statistics so far. Over SQLite
each answer re-reads (and re-parses) the history, so a day costs more the longer the
backtest has run. This store keeps what those questions need as Python values, updated as
the backtest writes (positions per portfolio, cash flows, open orders, the broker's
running totals, the closes per symbol, metrics and statistics by day), and answers from
them in time that does not grow with the history.
Everything else is an ordinary SQLite store over ``:memory:``, so every workflow
function that takes a :class:`~pas.store.base.Store` runs on it unchanged.

It is made empty and written only through its own methods, so its values are the
whole truth; :meth:`MemoryStore.save_into` writes the results to the backtest's real
store once, at the end.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pas.clock import Clock, system_clock
from pas.domain.broker import BrokerFill, Order
from pas.models import (
    UNITS_PER_ONE,
    CashFlow,
    DailyMetric,
    Fill,
    Price,
    Side,
    TrailingStats,
    from_units,
    to_units,
)
from pas.store.base import Store
from pas.store.interfaces import LedgerEntry
from pas.store.rules import LedgerFold
from pas.store.sqlite import SqliteStore
from pas.store.sqlite._rows import _trade_run
from pas.store.sqlite.sim import _sim_order, _sim_order_row

_NO_TIME = datetime.min.replace(tzinfo=UTC)  # what SQLite reads back for an order without one


class MemoryStore(SqliteStore):
    """An empty store in memory for one backtest (see the module docstring)."""

    def __init__(self, clock: Clock = system_clock) -> None:
        super().__init__(Path(":memory:"), clock)
        self._fills: dict[str, list[Fill]] = {}
        self._ledgers: dict[str, list[LedgerEntry]] = {}
        self._held: dict[str, dict[str, int]] = {}
        self._folds: dict[str, LedgerFold] = {}  # each ledger folded so far (none: refold)
        self._fill_ids: set[str] = set()
        self._flows: dict[str, list[CashFlow]] = {}
        self._closes: dict[str, tuple[list[date], list[Price]]] = {}
        self._orders: dict[str, Order] = {}  # the Sim broker's orders, as stored
        self._open: dict[str, Order] = {}  # those of them still open
        self._by_client: dict[str, str] = {}  # order id by client order id
        self._order_seq: dict[str, int] = {}  # each order's place in the book, as SQLite's rowid
        self._sim_qty: dict[str, int] = {}
        self._sim_spent = 0  # 10⁻¹⁸ dollars
        self._metrics: dict[str, dict[date, DailyMetric]] = {}
        # (portfolio, window) -> as-of days, oldest first, and their statistics
        self._trailing: dict[tuple[str, str], tuple[list[date], list[TrailingStats]]] = {}

    def describe(self) -> str:
        return "a backtest's working store in memory"

    # -- the ledger ----------------------------------------------------------------------
    def append_fills(self, fills: Sequence[Fill]) -> int:
        written = super().append_fills(fills)  # validates the batch, skips recorded fill ids
        for f in fills:
            if f.fill_id in self._fill_ids:
                continue
            self._fill_ids.add(f.fill_id)
            own = self._fills.setdefault(f.portfolio, [])
            ledger = self._ledgers.setdefault(f.portfolio, [])
            qty = to_units(f.qty) if f.side is Side.BUY else -to_units(f.qty)
            entry = LedgerEntry(f.symbol, qty, to_units(f.price), to_units(f.commission))
            at = len(own)
            while at and own[at - 1].ts > f.ts:  # oldest first, as the SQL order (ts, id)
                at -= 1
            own.insert(at, f)
            ledger.insert(at, entry)
            fold = self._folds.get(f.portfolio)
            if fold is not None and at == len(ledger) - 1:
                fold.add([entry])
            else:  # an earlier fill changes what every later one folded into
                self._folds.pop(f.portfolio, None)
            held = self._held.setdefault(f.portfolio, {})
            held[f.symbol] = held.get(f.symbol, 0) + qty
        return written

    def fills(
        self,
        portfolio_id: str,
        since: datetime | None = None,
        symbol: str | None = None,
        limit: int | None = None,
    ) -> list[Fill]:
        found = self._fills.get(portfolio_id, [])
        if since is not None:
            found = found[bisect.bisect_left(found, since, key=lambda f: f.ts) :]
        if symbol is not None:
            found = [f for f in found if f.symbol == symbol]
        return list(found if limit is None else found[:limit])

    def ledger(self, portfolio_id: str) -> list[LedgerEntry]:
        return list(self._ledgers.get(portfolio_id, []))

    def ledger_fold(self, portfolio_id: str) -> LedgerFold:
        fold = self._folds.get(portfolio_id)
        if fold is None:
            fold = self._folds[portfolio_id] = LedgerFold().add(self._ledgers.get(portfolio_id, []))
        return fold

    def holdings(self, portfolio_id: str) -> dict[str, Any]:
        held = self._held.get(portfolio_id, {})
        return {s: from_units(q) for s, q in sorted(held.items()) if q != 0}

    def add_cash_flow(self, flow: CashFlow) -> bool:
        new = super().add_cash_flow(flow)
        if new:
            own = self._flows.setdefault(flow.portfolio, [])
            at = len(own)
            while at and own[at - 1].ts > flow.ts:
                at -= 1
            own.insert(at, flow)
        return new

    def cash_flows(self, portfolio_id: str) -> list[CashFlow]:
        return list(self._flows.get(portfolio_id, []))

    def remove_portfolio(self, portfolio_id: str) -> None:
        super().remove_portfolio(portfolio_id)
        # Its fills are deleted, so their ids may be recorded again (a re-added portfolio).
        self._fill_ids.difference_update(f.fill_id for f in self._fills.get(portfolio_id, []))
        for kept in (self._fills, self._ledgers, self._held, self._folds, self._flows, self._metrics):
            kept.pop(portfolio_id, None)
        for key in [k for k in self._trailing if k[0] == portfolio_id]:
            del self._trailing[key]

    # -- closes --------------------------------------------------------------------------
    def upsert_prices(self, prices: Iterable[Price]) -> int:
        # Kept as Python values only: this store answers every question about closes
        # itself, so SQL would only be written to and read back (a quarter of a 500-symbol
        # backtest). A close with more than 9 decimals is refused as SQLite refuses it
        # (to_units), so the close kept has the value SQLite would read back: the Price is
        # kept as given, not rebuilt from its units (a third of copying the closes in).
        new: dict[str, dict[date, Price]] = {}
        count = 0
        for p in prices:
            count += 1
            to_units(p.close)
            new.setdefault(p.symbol, {})[p.day] = p
        for symbol, closes in new.items():
            days, kept = self._closes.get(symbol, ([], []))
            merged = dict(zip(days, kept, strict=True)) | closes
            ordered = sorted(merged)
            self._closes[symbol] = (ordered, [merged[d] for d in ordered])
        return count

    def price_symbols(self) -> list[str]:
        return sorted(self._closes)

    def latest_prices(self, symbols: Iterable[str], on_or_before: date | None = None) -> dict[str, Price]:
        found: dict[str, Price] = {}
        for symbol in set(symbols):
            days, closes = self._closes.get(symbol, ([], []))
            at = len(days) if on_or_before is None else bisect.bisect_right(days, on_or_before)
            if at:
                found[symbol] = closes[at - 1]
        return found

    def price_history(
        self, symbols: Iterable[str], start: date | None = None, end: date | None = None
    ) -> dict[str, list[Price]]:
        found: dict[str, list[Price]] = {}
        for symbol in sorted(set(symbols)):
            days, closes = self._closes.get(symbol, ([], []))
            first = 0 if start is None else bisect.bisect_left(days, start)
            last = len(days) if end is None else bisect.bisect_right(days, end)
            if first < last:
                found[symbol] = closes[first:last]
        return found

    # -- the simulated broker's book -------------------------------------------------------
    def sim_add_order(self, order: Order) -> bool:
        added = super().sim_add_order(order)
        if added:
            self._order_seq[order.id] = len(self._order_seq)
            # As stored (nano units, times as SQLite reads them back: a missing submission
            # time is _NO_TIME), without reading the row back.
            self._keep_order(_sim_order(_sim_order_row(order)))
            self._by_client[order.client_order_id] = order.id
        return added

    def sim_save_order(self, order: Order) -> None:
        super().sim_save_order(order)
        stored = self._orders.get(order.id)
        if stored is not None:  # only the fill and the status change, as the SQL update
            saved = replace(
                stored,
                filled_qty=order.filled_qty,
                filled_avg_price=order.filled_avg_price,
                status=order.status,
            )
            self._keep_order(_sim_order(_sim_order_row(saved)))

    def _keep_order(self, order: Order) -> None:
        self._orders[order.id] = order
        self._open.pop(order.id, None)
        if not order.status.terminal:
            self._open[order.id] = order

    def sim_orders(
        self,
        *,
        open_only: bool = False,
        order_id: str | None = None,
        client_order_id: str | None = None,
        after: datetime | None = None,
    ) -> list[Order]:
        if after is not None:
            return super().sim_orders(
                open_only=open_only, order_id=order_id, client_order_id=client_order_id, after=after
            )
        found = self._open if open_only else self._orders
        ids = list(found) if order_id is None else [order_id]
        if client_order_id is not None:
            ids = [i for i in ids if i == self._by_client.get(client_order_id)]
        chosen = [found[i] for i in ids if i in found]
        # As the SQL order: newest submission first, then the later-added first.
        return sorted(
            chosen,
            key=lambda o: (o.submitted_at or _NO_TIME, self._order_seq[o.id]),
            reverse=True,
        )

    def sim_add_fill(self, fill: BrokerFill) -> None:
        super().sim_add_fill(fill)
        qty = to_units(fill.qty) if fill.side is Side.BUY else -to_units(fill.qty)
        self._sim_qty[fill.symbol] = self._sim_qty.get(fill.symbol, 0) + qty
        self._sim_spent += qty * to_units(fill.price) + to_units(fill.commission) * UNITS_PER_ONE

    def sim_totals(self) -> tuple[dict[str, Decimal], Decimal]:
        qty = {s: from_units(q) for s, q in self._sim_qty.items()}
        return qty, Decimal(self._sim_spent) / (Decimal(UNITS_PER_ONE) ** 2)

    # -- daily metrics ---------------------------------------------------------------------
    def put_daily_metrics(self, metrics: Sequence[DailyMetric]) -> int:
        written = super().put_daily_metrics(metrics)
        for m in metrics:
            self._metrics.setdefault(m.portfolio, {})[m.day] = m
        return written

    def daily_metrics(
        self, portfolio_id: str, start: date | None = None, end: date | None = None
    ) -> list[DailyMetric]:
        own = self._metrics.get(portfolio_id, {})
        first, last = start or date.min, end or date.max
        return [own[d] for d in sorted(own) if first <= d <= last]

    def metric_days(self, portfolio_id: str) -> set[date]:
        return set(self._metrics.get(portfolio_id, {}))

    def put_trailing_stats(self, stats: Sequence[TrailingStats]) -> int:
        for t in stats:
            days, rows = self._trailing.setdefault((t.portfolio, t.window), ([], []))
            at = bisect.bisect_left(days, t.as_of)
            row = TrailingStats(t.portfolio, t.as_of, t.window, dict(t.values))
            if at < len(days) and days[at] == t.as_of:
                rows[at] = row
            else:
                days.insert(at, t.as_of)
                rows.insert(at, row)
        return len(stats)

    def trailing_stats(
        self, portfolio_id: str, window: str, as_of: date | None = None
    ) -> TrailingStats | None:
        days, rows = self._trailing.get((portfolio_id, window), ([], []))
        at = len(days) if as_of is None else bisect.bisect_right(days, as_of)
        if not at:
            return None
        found = rows[at - 1]
        return TrailingStats(found.portfolio, found.as_of, found.window, dict(found.values))

    def delete_trailing_stats_from(self, portfolio_id: str, day: date) -> int:
        deleted = 0
        for (portfolio, _), (days, rows) in self._trailing.items():
            if portfolio == portfolio_id:
                at = bisect.bisect_left(days, day)
                deleted += len(days) - at
                del days[at:], rows[at:]
        return deleted

    # -- the results -------------------------------------------------------------------------
    def save_into(self, target: Store) -> None:
        """Writes what the backtest made — portfolios, targets, ledgers, cash flows, metrics,
        trailing statistics, allocations, trading runs, the simulated broker's book — to
        ``target`` (an empty backtest store of either backend), once (on SQLite, in one
        transaction)."""
        with target.bulk():
            self._save_into(target)

    def _save_into(self, target: Store) -> None:
        for p in self.list_portfolios():
            target.add_portfolio(p)
            for weights in reversed(self.weights_history(p.id)):
                target.put_weights(weights)
            target.append_fills(self.fills(p.id))
            for flow in self.cash_flows(p.id):
                target.add_cash_flow(flow)
            target.put_daily_metrics(self.daily_metrics(p.id))
        target.put_trailing_stats([t for _, (_, rows) in sorted(self._trailing.items()) for t in rows])
        for allocation in reversed(self.allocation_history()):
            target.put_allocation(allocation)
        runs = self._db.execute(
            "SELECT run_id, created_at, broker, portfolios, status FROM trade_runs"
            " ORDER BY created_at, run_id"
        ).fetchall()
        for row in runs:
            run = _trade_run(row)
            target.create_trade_run(run, self.trade_orders(run.run_id))
        for order in reversed(self.sim_orders()):
            target.sim_add_order(order)
        for fill in self.sim_fills():
            target.sim_add_fill(fill)
