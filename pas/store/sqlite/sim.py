"""The simulated broker's book: its orders and fills."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pas.domain.broker import BrokerFill, Order, OrderStatus
from pas.models import Side, format_ts, from_units, parse_ts, to_units
from pas.store.rules import sum_sim_fills
from pas.store.sqlite.store import SqliteCore


def _sim_order_row(order: Order) -> tuple[Any, ...]:
    return (
        order.id,
        order.client_order_id,
        order.symbol,
        order.side.value,
        to_units(order.qty),
        to_units(order.filled_qty),
        None if order.filled_avg_price is None else to_units(order.filled_avg_price),
        order.status.value,
        format_ts(order.submitted_at or datetime.min),
    )


_TERMINAL_STATUSES = [s.value for s in OrderStatus if s.terminal]


def _sim_order(row: tuple[Any, ...]) -> Order:
    oid, coid, symbol, side, qty, filled, avg, status, submitted = row
    return Order(
        id=oid,
        client_order_id=coid,
        symbol=symbol,
        side=Side(side),
        qty=from_units(qty),
        filled_qty=from_units(filled),
        filled_avg_price=None if avg is None else from_units(avg),
        status=OrderStatus(status),
        submitted_at=parse_ts(submitted),
    )


class SqliteSimBook(SqliteCore):
    """The simulated broker's book: its orders and fills."""

    def sim_add_order(self, order: Order) -> bool:
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO sim_orders (id, client_order_id, symbol, side, qty_n, filled_qty_n,"
                " filled_avg_price_n, status, submitted_at) VALUES (?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT (client_order_id) DO NOTHING",
                _sim_order_row(order),
            )
            return cursor.rowcount > 0

    def sim_save_order(self, order: Order) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE sim_orders SET filled_qty_n = ?, filled_avg_price_n = ?, status = ? WHERE id = ?",
                (
                    to_units(order.filled_qty),
                    None if order.filled_avg_price is None else to_units(order.filled_avg_price),
                    order.status.value,
                    order.id,
                ),
            )

    def sim_orders(
        self,
        *,
        open_only: bool = False,
        order_id: str | None = None,
        client_order_id: str | None = None,
        after: datetime | None = None,
    ) -> list[Order]:
        sql = (
            "SELECT id, client_order_id, symbol, side, qty_n, filled_qty_n, filled_avg_price_n, status,"
            " submitted_at FROM sim_orders WHERE 1"
        )
        args: list[Any] = []
        if open_only:
            sql += f" AND status NOT IN ({','.join('?' * len(_TERMINAL_STATUSES))})"
            args += _TERMINAL_STATUSES
        if order_id is not None:
            sql += " AND id = ?"
            args.append(order_id)
        if client_order_id is not None:
            sql += " AND client_order_id = ?"
            args.append(client_order_id)
        if after is not None:
            sql += " AND submitted_at > ?"
            args.append(format_ts(after))
        rows = self._db.execute(sql + " ORDER BY submitted_at DESC, rowid DESC", args)
        return [_sim_order(row) for row in rows]

    def sim_totals(self) -> tuple[dict[str, Decimal], Decimal]:
        rows = self._db.execute("SELECT symbol, side, qty_n, price_n, commission_n FROM sim_fills")
        return sum_sim_fills(rows)

    def sim_add_fill(self, fill: BrokerFill) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO sim_fills (id, order_id, symbol, side, qty_n, price_n, commission_n, ts)"
                " VALUES (?,?,?,?,?,?,?,?)",
                (
                    fill.id,
                    fill.order_id,
                    fill.symbol,
                    fill.side.value,
                    to_units(fill.qty),
                    to_units(fill.price),
                    to_units(fill.commission),
                    format_ts(fill.ts),
                ),
            )

    def sim_fills(self, after: datetime | None = None) -> list[BrokerFill]:
        rows = self._db.execute(
            "SELECT id, order_id, symbol, side, qty_n, price_n, commission_n, ts FROM sim_fills"
            " WHERE ts > ? ORDER BY ts, rowid",
            ("" if after is None else format_ts(after),),
        )
        return [
            BrokerFill(
                id=fid,
                order_id=oid,
                symbol=symbol,
                side=Side(side),
                qty=from_units(q),
                price=from_units(p),
                commission=from_units(c),
                ts=parse_ts(ts),
            )
            for fid, oid, symbol, side, q, p, c, ts in rows
        ]
