"""The working store's trading runs, their orders and its locks, as Python values only."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from pas.clock import Clock
from pas.models import (
    UNSETTLED_ORDER_STATUSES,
    TradeOrder,
    TradeOrderStatus,
    TradeRun,
    TradeRunStatus,
    from_units,
    to_units,
    utc,
)
from pas.store.cascade import trade_order_without, trade_run_without
from pas.store.rules import LockGrant, lock_expiry, lock_grant
from pas.store.sqlite import SqliteStore


class MemoryTrading(SqliteStore):
    """Trading runs and their orders, and the locks (the trading lock is taken, renewed
    and released several times a simulated day).

    Runs and orders are kept as SQLite reads them back (times in UTC, the reference price
    through its nano units); a second run or order with a stored id is refused, as the
    tables' keys refuse it, and nothing of the run is kept then.
    """

    def __init__(self, path: Path, clock: Clock) -> None:
        super().__init__(path, clock)
        self._runs: dict[str, TradeRun] = {}
        self._trade_orders: dict[str, TradeOrder] = {}  # by client order id
        self._run_orders: dict[str, list[str]] = {}  # each run's client order ids
        self._locks: dict[str, tuple[str, datetime]] = {}  # name -> (owner, expires at)
        # The client order ids of the unsettled orders: every run asks for them first.
        self._unsettled: dict[str, None] = {}

    # -- trading runs ----------------------------------------------------------------------
    def create_trade_run(self, run: TradeRun, orders: Sequence[TradeOrder]) -> None:
        kept = [
            replace(o, ref_price=from_units(to_units(o.ref_price)), sent_at=_utc(o.sent_at)) for o in orders
        ]
        ids = [o.client_order_id for o in kept]
        if run.run_id in self._runs:
            raise sqlite3.IntegrityError("UNIQUE constraint failed: trade_runs.run_id")
        if len(set(ids)) < len(ids) or any(i in self._trade_orders for i in ids):
            raise sqlite3.IntegrityError("UNIQUE constraint failed: trade_orders.client_order_id")
        if any(o.qty < 0 for o in kept):
            raise sqlite3.IntegrityError("CHECK constraint failed: qty_n >= 0")
        self._runs[run.run_id] = replace(run, created_at=utc(run.created_at))
        for o in kept:
            self._keep(o)
            self._run_orders.setdefault(o.run_id, []).append(o.client_order_id)

    def _keep(self, order: TradeOrder) -> None:
        self._trade_orders[order.client_order_id] = order
        if order.status in UNSETTLED_ORDER_STATUSES:
            self._unsettled[order.client_order_id] = None
        else:
            self._unsettled.pop(order.client_order_id, None)

    def unfinished_trade_run(self, broker: str) -> TradeRun | None:
        waiting = [
            r for r in self._runs.values() if r.status is TradeRunStatus.SUBMITTING and r.broker == broker
        ]
        return min(waiting, key=lambda r: (r.created_at, r.run_id), default=None)

    def set_trade_run_status(self, run_id: str, status: TradeRunStatus) -> None:
        run = self._runs.get(run_id)
        if run is not None:
            self._runs[run_id] = replace(run, status=status)

    def trade_orders(
        self, run_id: str | None = None, unsettled: bool = False, broker: str | None = None
    ) -> list[TradeOrder]:
        # By the orders' own run ids, as SQL selects them: an order outlives a run removed
        # with its last portfolio only if another portfolio still has a share in it.
        if unsettled:
            found = [self._trade_orders[i] for i in self._unsettled]
            found = [o for o in found if run_id is None or o.run_id == run_id]
        else:
            runs = self._run_orders if run_id is None else [run_id]
            found = [self._trade_orders[i] for r in runs for i in self._run_orders.get(r, ())]
        if broker is not None:
            found = [o for o in found if o.run_id in self._runs and self._runs[o.run_id].broker == broker]
        return sorted(found, key=lambda o: (o.run_id, o.seq))

    def update_trade_order(
        self,
        client_order_id: str,
        status: TradeOrderStatus,
        *,
        broker_order_id: str | None = None,
        broker_status: str | None = None,
        error: str | None = None,
        sent_at: datetime | None = None,
    ) -> None:
        order = self._trade_orders.get(client_order_id)
        if order is None:
            return
        self._keep(
            replace(
                order,
                status=status,
                broker_order_id=order.broker_order_id if broker_order_id is None else broker_order_id,
                broker_status=order.broker_status if broker_status is None else broker_status,
                error=order.error if error is None else error,
                sent_at=order.sent_at if sent_at is None else utc(sent_at),
            )
        )

    def trade_runs(self) -> list[TradeRun]:
        """Every trading run, oldest first (then by id)."""
        return sorted(self._runs.values(), key=lambda r: (r.created_at, r.run_id))

    def remove_portfolio(self, portfolio_id: str) -> None:
        super().remove_portfolio(portfolio_id)
        for run_id, run in list(self._runs.items()):
            if portfolio_id not in run.portfolios:
                continue
            ids = self._run_orders.get(run_id, [])
            for coid in list(ids):  # the run's orders, as SQL selects them by run id
                kept_order = trade_order_without(self._trade_orders[coid], portfolio_id)
                if kept_order is None:
                    del self._trade_orders[coid]
                    self._unsettled.pop(coid, None)
                    ids.remove(coid)
                else:
                    self._keep(kept_order)
            kept_run = trade_run_without(run, portfolio_id)
            if kept_run is None:
                del self._runs[run_id]
            else:
                self._runs[run_id] = kept_run

    # -- locks -------------------------------------------------------------------------------
    def acquire_lock(self, name: str, owner: str, ttl_sec: float) -> LockGrant:
        now = self.clock()
        holder, expires_at = self._locks.get(name, (None, None))
        grant = lock_grant(holder, expires_at, owner, now)
        if grant:
            self._locks[name] = (owner, utc(lock_expiry(now, ttl_sec)))
        return grant

    def lock_owner(self, name: str) -> str | None:
        held = self._locks.get(name)
        return None if held is None else held[0]

    def release_lock(self, name: str, owner: str) -> bool:
        held = self._locks.get(name)
        if held is None or held[0] != owner:
            return False
        del self._locks[name]
        return True


def _utc(ts: datetime | None) -> datetime | None:
    return None if ts is None else utc(ts)
