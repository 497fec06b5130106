"""The working store's simulated broker book, as Python values only."""

from __future__ import annotations

import bisect
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from pas.clock import Clock
from pas.domain.broker import BrokerFill, Order
from pas.models import UNITS_PER_ONE, Side, from_units, to_units, utc
from pas.store.sqlite import SqliteStore

_NO_TIME = datetime.min.replace(tzinfo=UTC)  # what SQLite reads back for an order without one


class MemorySimBook(SqliteStore):
    """The Sim broker's orders (all, and the open ones), its fills and running totals.

    An order or fill is kept as SQLite reads it back: times in UTC, a missing submission
    time as :data:`_NO_TIME`; a quantity or price SQLite would refuse (more than 9
    decimals) is refused before anything is kept, and so is a second order with the same
    id (a second one with the same client order id is ignored) or a second fill with the
    same id, as the tables' keys refuse them.
    """

    def __init__(self, path: Path, clock: Clock) -> None:
        super().__init__(path, clock)
        self._orders: dict[str, Order] = {}  # the Sim broker's orders, as stored
        self._open: dict[str, Order] = {}  # those of them still open
        self._by_client: dict[str, str] = {}  # order id by client order id
        self._order_seq: dict[str, int] = {}  # each order's place in the book, as SQLite's rowid
        # Every order's id in the SQL order reversed, (submission time, rowid) ascending: a
        # listing since a time (every settle asks for one) bisects it instead of scanning.
        self._by_time: list[tuple[datetime, int, str]] = []
        self._sim_fills: list[BrokerFill] = []  # oldest first, as the SQL order (ts, rowid)
        self._sim_fill_ids: set[str] = set()
        self._sim_qty: dict[str, int] = {}
        self._sim_spent = 0  # 10⁻¹⁸ dollars
        self._sim_held: dict[str, Decimal] | None = None  # _sim_qty in shares, until the next fill

    def sim_add_order(self, order: Order) -> bool:
        _check_units(order.qty, order.filled_qty, order.filled_avg_price, order.limit_price)
        if order.client_order_id in self._by_client:
            return False  # ON CONFLICT (client_order_id) DO NOTHING
        if order.id in self._orders:
            raise sqlite3.IntegrityError("UNIQUE constraint failed: sim_orders.id")
        submitted = _NO_TIME if order.submitted_at is None else utc(order.submitted_at)
        seq = len(self._order_seq)
        self._order_seq[order.id] = seq
        bisect.insort(self._by_time, (submitted, seq, order.id))  # at the end, unless older
        self._keep_order(replace(order, submitted_at=submitted))
        self._by_client[order.client_order_id] = order.id
        return True

    def sim_save_order(self, order: Order) -> None:
        _check_units(order.filled_qty, order.filled_avg_price)  # what the SQL update converts
        stored = self._orders.get(order.id)
        if stored is not None:  # only the fill and the status change, as the SQL update
            saved = replace(
                stored,
                filled_qty=order.filled_qty,
                filled_avg_price=order.filled_avg_price,
                status=order.status,
            )
            self._keep_order(saved)

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
        if not open_only and order_id is None and client_order_id is None:
            return self._listed(after)
        found = self._open if open_only else self._orders
        if client_order_id is not None:
            named = self._by_client.get(client_order_id)
            ids = [] if named is None or (order_id is not None and order_id != named) else [named]
        else:
            ids = list(found) if order_id is None else [order_id]
        chosen = [found[i] for i in ids if i in found]
        if after is not None:
            # SQLite compares the stored text, in which an order without a time is year 1.
            floor = utc(after)
            chosen = [o for o in chosen if (o.submitted_at or _NO_TIME) > floor]
        # As the SQL order: newest submission first, then the later-added first.
        return sorted(
            chosen,
            key=lambda o: (o.submitted_at or _NO_TIME, self._order_seq[o.id]),
            reverse=True,
        )

    def _listed(self, after: datetime | None) -> list[Order]:
        """Every order submitted after ``after`` (all when None), newest first, as the SQL order."""
        at = 0 if after is None else bisect.bisect_right(self._by_time, utc(after), key=lambda k: k[0])
        return [self._orders[i] for _, _, i in reversed(self._by_time[at:])]

    def sim_add_fill(self, fill: BrokerFill) -> None:
        qty = to_units(fill.qty) if fill.side is Side.BUY else -to_units(fill.qty)
        price, commission = to_units(fill.price), to_units(fill.commission)
        if fill.id in self._sim_fill_ids:
            raise sqlite3.IntegrityError("UNIQUE constraint failed: sim_fills.id")
        self._sim_fill_ids.add(fill.id)
        kept = replace(fill, ts=utc(fill.ts))
        at = len(self._sim_fills)
        while at and self._sim_fills[at - 1].ts > kept.ts:  # after those of the same time
            at -= 1
        self._sim_fills.insert(at, kept)
        self._sim_qty[fill.symbol] = self._sim_qty.get(fill.symbol, 0) + qty
        self._sim_spent += qty * price + commission * UNITS_PER_ONE
        self._sim_held = None

    def sim_fills(self, after: datetime | None = None) -> list[BrokerFill]:
        at = 0 if after is None else bisect.bisect_right(self._sim_fills, utc(after), key=lambda f: f.ts)
        return self._sim_fills[at:]

    def sim_totals(self) -> tuple[dict[str, Decimal], Decimal]:
        # Asked on every account and positions call; the shares change only with a fill.
        if self._sim_held is None:
            self._sim_held = {s: from_units(q) for s, q in self._sim_qty.items()}
        return dict(self._sim_held), Decimal(self._sim_spent) / (Decimal(UNITS_PER_ONE) ** 2)


def _check_units(*values: Decimal | None) -> None:
    """Refuses what SQLite refuses to store: a quantity or price of more than 9 decimals."""
    for value in values:
        if value is not None:
            to_units(value)
