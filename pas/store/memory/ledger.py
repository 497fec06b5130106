"""The working store's ledgers and cash flows, as Python values only."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from pas.clock import Clock
from pas.models import CashFlow, Fill, Side, from_units, to_units
from pas.store.interfaces import LedgerEntry
from pas.store.rules import LedgerFold
from pas.store.sqlite import SqliteStore


class MemoryLedger(SqliteStore):
    """Each portfolio's fills (with their ledger entries, positions and fold) and cash flows.

    Nothing is written to SQL: what SQLite would refuse is refused before anything is
    kept (a fill's value checks are its own; a price or quantity of more than 9 decimals
    fails its conversion to units), and the answers are SQLite's, in its order (time, then
    the order of writing).
    """

    def __init__(self, path: Path, clock: Clock) -> None:
        super().__init__(path, clock)
        self._fills: dict[str, list[Fill]] = {}
        self._ledgers: dict[str, list[LedgerEntry]] = {}
        self._held: dict[str, dict[str, int]] = {}
        self._folds: dict[str, LedgerFold] = {}  # each ledger folded so far (none: refold)
        self._fill_ids: set[str] = set()
        self._of_order: dict[str, list[Fill]] = {}  # fills by broker order id, as written
        self._flows: dict[str, list[CashFlow]] = {}
        self._flow_ids: set[str] = set()

    def append_fills(self, fills: Sequence[Fill]) -> int:
        entries = [_entry(f) for f in fills]  # all converted before any is kept, as SQLite's batch
        written = 0
        for f, entry in zip(fills, entries, strict=True):
            if f.fill_id in self._fill_ids:
                continue  # recorded already (ON CONFLICT DO NOTHING)
            written += 1
            self._fill_ids.add(f.fill_id)
            self._of_order.setdefault(f.broker_order_id, []).append(f)
            own = self._fills.setdefault(f.portfolio, [])
            ledger = self._ledgers.setdefault(f.portfolio, [])
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
            held[f.symbol] = held.get(f.symbol, 0) + entry.signed_qty
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

    def fills_of_order(self, broker_order_id: str) -> list[Fill]:
        return sorted(self._of_order.get(broker_order_id, []), key=lambda f: f.ts)

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
        to_units(flow.amount)  # refused as SQLite refuses it
        if flow.flow_id in self._flow_ids:
            return False
        self._flow_ids.add(flow.flow_id)
        own = self._flows.setdefault(flow.portfolio, [])
        at = len(own)
        while at and own[at - 1].ts > flow.ts:
            at -= 1
        own.insert(at, flow)
        return True

    def cash_flows(self, portfolio_id: str) -> list[CashFlow]:
        return list(self._flows.get(portfolio_id, []))

    def remove_portfolio(self, portfolio_id: str) -> None:
        super().remove_portfolio(portfolio_id)
        # Its fills and flows are deleted, so their ids may be recorded again.
        gone = self._fills.get(portfolio_id, [])
        self._fill_ids.difference_update(f.fill_id for f in gone)
        for f in gone:
            self._of_order[f.broker_order_id].remove(f)
        self._flow_ids.difference_update(f.flow_id for f in self._flows.get(portfolio_id, []))
        for kept in (self._fills, self._ledgers, self._held, self._folds, self._flows):
            kept.pop(portfolio_id, None)


def _entry(f: Fill) -> LedgerEntry:
    qty = to_units(f.qty) if f.side is Side.BUY else -to_units(f.qty)
    return LedgerEntry(f.symbol, qty, to_units(f.price), to_units(f.commission))
