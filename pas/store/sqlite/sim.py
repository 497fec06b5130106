"""The simulated broker's book: its orders and fills."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pas.models import UNITS_PER_ONE, Side, format_ts, from_units, parse_ts, to_units
from pas.store.rules import sum_sim_fills
from pas.store.sqlite.store import SqliteCore

if TYPE_CHECKING:
    from pas.domain.broker import BrokerFill, Order


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
        None if order.limit_price is None else to_units(order.limit_price),
        order.time_in_force,
    )


# Word for word the condition of the partial index sim_orders_open (schema version 10),
# so that SQLite uses it: literals, not bound parameters.
OPEN_SIM_ORDER = "status NOT IN ('canceled', 'expired', 'filled', 'rejected', 'replaced')"


def _sim_order(row: tuple[Any, ...]) -> Order:
    # Imported here: opening the store (any command) need not load the broker's values.
    from pas.domain.broker import Order, OrderStatus

    oid, coid, symbol, side, qty, filled, avg, status, submitted, limit, tif = row
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
        limit_price=None if limit is None else from_units(limit),
        time_in_force=tif,
    )


_LIMB = 10**9
_LOW = 10**5
# Net nano shares per symbol and the exact cost in 10⁻¹⁸ dollars, summed by SQLite. A nano
# quantity times a nano price overflows 64 bits, so both are split into limbs that do not:
# q = qh·10⁹ + ql and p = ph·10⁹ + pa·10⁵ + pb give
# q·p = qh·ph·10¹⁸ + (qh·(pa·10⁵ + pb) + ql·ph)·10⁹ + ql·pa·10⁵ + ql·pb.
# SQLite raises "integer overflow" rather than round a sum, so an answer is exact or absent.
_SIM_TOTALS = """
SELECT symbol, SUM(sign * qty_n),
    SUM(sign * (qty_n / 1000000000) * (price_n / 1000000000)),
    SUM(sign * ((qty_n / 1000000000) * (price_n % 1000000000)
        + (qty_n % 1000000000) * (price_n / 1000000000))),
    SUM(sign * (qty_n % 1000000000) * (price_n % 1000000000 / 100000)),
    SUM(sign * (qty_n % 1000000000) * (price_n % 100000)),
    SUM(commission_n)
FROM (SELECT *, CASE side WHEN 'buy' THEN 1 ELSE -1 END AS sign FROM sim_fills)
GROUP BY symbol
"""


class SqliteSimBook(SqliteCore):
    """The simulated broker's book: its orders and fills."""

    def sim_add_order(self, order: Order) -> bool:
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO sim_orders (id, client_order_id, symbol, side, qty_n, filled_qty_n,"
                " filled_avg_price_n, status, submitted_at, limit_price_n, time_in_force)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?)"
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
            " submitted_at, limit_price_n, time_in_force FROM sim_orders WHERE 1"
        )
        args: list[Any] = []
        if open_only:
            sql += f" AND {OPEN_SIM_ORDER}"
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
        try:
            rows = self._db.execute(_SIM_TOTALS).fetchall()
        except sqlite3.OperationalError as exc:
            if "integer overflow" not in str(exc):
                raise
            # A book too large for 64-bit sums: the exact fold in Python, row by row.
            return sum_sim_fills(
                self._db.execute("SELECT symbol, side, qty_n, price_n, commission_n FROM sim_fills")
            )
        spent = sum(
            (hh * _LIMB**2 + mid * _LIMB + low_a * _LOW + low_b + fee * UNITS_PER_ONE)
            for _, _, hh, mid, low_a, low_b, fee in rows
        )
        qty = {symbol: from_units(q) for symbol, q, *_ in rows}
        return qty, Decimal(spent) / (Decimal(UNITS_PER_ONE) ** 2)

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
        from pas.domain.broker import BrokerFill

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
