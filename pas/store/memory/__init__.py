"""The backtest's working store: every hot aggregate kept as Python values, none in SQL.

A backtest asks the store the same questions every simulated day — each portfolio's
fills, holdings and cash flows, the newest close of every symbol, the simulated broker's
open orders and totals, the trading runs and their orders, the trading lock, the daily
metrics and trailing statistics so far — and writes to it as often. Over SQLite each
answer re-reads (and re-parses) the history and each write is a statement, so a day costs
more the longer the backtest has run, and most of it is SQL. This store keeps those
aggregates as Python values only (one module each: :mod:`~pas.store.memory.ledger`,
:mod:`~pas.store.memory.prices`, :mod:`~pas.store.memory.sim`,
:mod:`~pas.store.memory.trading`, :mod:`~pas.store.memory.performance`), refusing what
SQLite would refuse and answering as SQLite answers, in time that does not grow with the
history. Everything else (portfolios, target weights, allocations, the run log) is an
ordinary SQLite store over ``:memory:``, so every workflow function that takes a
:class:`~pas.store.base.Store` runs on it unchanged.

It is made empty and written only through its own methods, so its values are the
whole truth; :meth:`MemoryStore.save_into` writes the results to the backtest's real
store once, at the end.
"""

from __future__ import annotations

from pathlib import Path

from pas.clock import Clock, system_clock
from pas.store.base import Store
from pas.store.memory.ledger import MemoryLedger
from pas.store.memory.performance import MemoryPerformance
from pas.store.memory.prices import MemoryPrices
from pas.store.memory.sim import MemorySimBook
from pas.store.memory.trading import MemoryTrading


class MemoryStore(MemoryLedger, MemoryPrices, MemorySimBook, MemoryTrading, MemoryPerformance):
    """An empty store in memory for one backtest (see the module docstring)."""

    def __init__(self, clock: Clock = system_clock) -> None:
        super().__init__(Path(":memory:"), clock)

    def describe(self) -> str:
        return "a backtest's working store in memory"

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
        target.put_trailing_stats(self.all_trailing_stats())
        for allocation in reversed(self.allocation_history()):
            target.put_allocation(allocation)
        for run in self.trade_runs():
            target.create_trade_run(run, self.trade_orders(run.run_id))
        for order in reversed(self.sim_orders()):
            target.sim_add_order(order)
        for fill in self.sim_fills():
            target.sim_add_fill(fill)
