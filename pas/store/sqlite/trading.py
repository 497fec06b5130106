"""Trading runs, their orders, and the per-broker sync cursor."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pas.models import (
    UNSETTLED_ORDER_STATUSES,
    TradeOrderStatus,
    TradeRunStatus,
    format_ts,
    parse_ts,
    to_units,
)
from pas.store.sqlite._rows import _TRADE_ORDER_COLUMNS, _trade_order, _trade_run
from pas.store.sqlite.store import SqliteCore

if TYPE_CHECKING:
    from pas.models import TradeOrder, TradeRun

_UNSETTLED = tuple(s.value for s in UNSETTLED_ORDER_STATUSES)


class SqliteTrading(SqliteCore):
    """Trading runs, their orders, and the per-broker sync cursor."""

    def create_trade_run(self, run: TradeRun, orders: Sequence[TradeOrder]) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO trade_runs (run_id, created_at, broker, portfolios, status) VALUES (?,?,?,?,?)",
                (
                    run.run_id,
                    format_ts(run.created_at),
                    run.broker,
                    json.dumps(list(run.portfolios)),
                    run.status.value,
                ),
            )
            db.executemany(
                f"INSERT INTO trade_orders ({_TRADE_ORDER_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        o.run_id,
                        o.client_order_id,
                        o.seq,
                        o.symbol,
                        o.side.value,
                        o.qty,
                        to_units(o.ref_price),
                        int(o.fractionable),
                        json.dumps([list(x) for x in o.shares]),
                        json.dumps([list(x) for x in o.crosses]),
                        o.status.value,
                        o.broker_order_id,
                        o.broker_status,
                        o.error,
                        format_ts(o.sent_at) if o.sent_at else "",
                    )
                    for o in orders
                ],
            )

    def unfinished_trade_run(self, broker: str) -> TradeRun | None:
        row = self._db.execute(
            "SELECT run_id, created_at, broker, portfolios, status FROM trade_runs"
            " WHERE status = ? AND broker = ? ORDER BY created_at, run_id LIMIT 1",
            (TradeRunStatus.SUBMITTING.value, broker),
        ).fetchone()
        if row is None:
            return None
        return _trade_run(row)

    def set_trade_run_status(self, run_id: str, status: TradeRunStatus) -> None:
        with self._write() as db:
            db.execute("UPDATE trade_runs SET status = ? WHERE run_id = ?", (status.value, run_id))

    def trade_orders(
        self, run_id: str | None = None, unsettled: bool = False, broker: str | None = None
    ) -> list[TradeOrder]:
        sql = f"SELECT {_TRADE_ORDER_COLUMNS} FROM trade_orders WHERE 1 = 1"
        args: list[Any] = []
        if broker is not None:
            sql += " AND run_id IN (SELECT run_id FROM trade_runs WHERE broker = ?)"
            args.append(broker)
        if run_id is not None:
            sql += " AND run_id = ?"
            args.append(run_id)
        if unsettled:
            sql += f" AND status IN ({','.join('?' * len(_UNSETTLED))})"
            args.extend(_UNSETTLED)
        sql += " ORDER BY run_id, seq"
        return [_trade_order(row) for row in self._db.execute(sql, args)]

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
        with self._write() as db:
            db.execute(
                "UPDATE trade_orders SET status = ?, broker_order_id = COALESCE(?, broker_order_id),"
                " broker_status = COALESCE(?, broker_status), error = COALESCE(?, error),"
                " sent_at = COALESCE(?, sent_at) WHERE client_order_id = ?",
                (
                    status.value,
                    broker_order_id,
                    broker_status,
                    error,
                    format_ts(sent_at) if sent_at else None,
                    client_order_id,
                ),
            )

    def sync_cursor(self, broker: str) -> tuple[datetime, str] | None:
        row = self._db.execute("SELECT ts, fill_id FROM sync_cursors WHERE broker = ?", (broker,)).fetchone()
        return None if row is None else (parse_ts(row[0]), row[1])

    def save_sync_cursor(self, broker: str, ts: datetime, fill_id: str) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO sync_cursors (broker, ts, fill_id) VALUES (?,?,?)"
                " ON CONFLICT (broker) DO UPDATE SET ts = excluded.ts, fill_id = excluded.fill_id",
                (broker, format_ts(ts), fill_id),
            )
