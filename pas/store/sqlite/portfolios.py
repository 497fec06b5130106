"""Portfolios, their target weights, ledger and cash flows, and the delete cascade."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pas.errors import InputError
from pas.models import (
    CashFlow,
    Fill,
    Portfolio,
    Schedule,
    Side,
    format_ts,
    from_units,
    parse_ts,
    to_units,
)
from pas.store.cascade import OWNED_BY_PORTFOLIO, allocation_without, trade_order_without, trade_run_without
from pas.store.interfaces import LedgerRow
from pas.store.rules import LedgerFold
from pas.store.sqlite import folds
from pas.store.sqlite._rows import _TRADE_ORDER_COLUMNS, _allocation, _trade_order, _trade_run
from pas.store.sqlite.store import SqliteCore

if TYPE_CHECKING:
    from pas.models import WeightSet

_PORTFOLIO_COLUMNS = "id, strategy, schedule, capital_n, params, created_at, broker"
_FILL_COLUMNS = (
    "fill_id, portfolio, symbol, side, qty_n, price_n, commission_n, ts, "
    "broker_order_id, client_order_id, run_id"
)


def _portfolio(row: tuple[Any, ...]) -> Portfolio:
    pid, strategy, schedule, capital, params, created, broker = row
    return Portfolio(
        broker=broker,
        id=pid,
        strategy=strategy,
        schedule=Schedule(schedule),
        capital=None if capital is None else from_units(capital),
        params=json.loads(params),
        created_at=parse_ts(created),
    )


def _fill(row: tuple[Any, ...]) -> Fill:
    fill_id, portfolio, symbol, side, qty, price, commission, ts, boid, coid, run_id = row
    return Fill(
        fill_id=fill_id,
        portfolio=portfolio,
        symbol=symbol,
        side=Side(side),
        qty=from_units(qty),
        price=from_units(price),
        commission=from_units(commission),
        ts=parse_ts(ts),
        broker_order_id=boid,
        client_order_id=coid,
        run_id=run_id,
    )


def _drop_from_allocations(db: sqlite3.Connection, portfolio_id: str) -> None:
    """Rewrites (or deletes) the applied allocations that name a removed portfolio."""
    rows = db.execute(
        "SELECT id, as_of, applied_at, method, exposure, ex_ante_vol, weights FROM allocations"
    ).fetchall()
    for row_id, *row in rows:
        allocation = _allocation(tuple(row))
        kept = allocation_without(allocation, portfolio_id)
        if kept is None:
            db.execute("DELETE FROM allocations WHERE id = ?", (row_id,))
        elif kept is not allocation:
            db.execute(
                "UPDATE allocations SET exposure = ?, weights = ? WHERE id = ?",
                (kept.exposure, json.dumps(sorted(kept.weights.items())), row_id),
            )


def _drop_from_trade_runs(db: sqlite3.Connection, portfolio_id: str) -> None:
    """Takes a removed portfolio out of the trading runs (and their orders) that name it."""
    runs = [
        _trade_run(row)
        for row in db.execute("SELECT run_id, created_at, broker, portfolios, status FROM trade_runs")
    ]
    for run in (r for r in runs if portfolio_id in r.portfolios):
        for order in [
            _trade_order(row)
            for row in db.execute(
                f"SELECT {_TRADE_ORDER_COLUMNS} FROM trade_orders WHERE run_id = ?", (run.run_id,)
            )
        ]:
            kept_order = trade_order_without(order, portfolio_id)
            if kept_order is None:
                db.execute("DELETE FROM trade_orders WHERE client_order_id = ?", (order.client_order_id,))
            else:
                db.execute(
                    "UPDATE trade_orders SET shares = ?, crosses = ? WHERE client_order_id = ?",
                    (
                        json.dumps([list(x) for x in kept_order.shares]),
                        json.dumps([list(x) for x in kept_order.crosses]),
                        order.client_order_id,
                    ),
                )
        kept_run = trade_run_without(run, portfolio_id)
        if kept_run is None:
            db.execute("DELETE FROM trade_runs WHERE run_id = ?", (run.run_id,))
        else:
            db.execute(
                "UPDATE trade_runs SET portfolios = ? WHERE run_id = ?",
                (json.dumps(list(kept_run.portfolios)), run.run_id),
            )


class SqlitePortfolios(SqliteCore):
    """Portfolios, their target weights, ledger and cash flows, and the delete cascade."""

    def add_portfolio(self, portfolio: Portfolio) -> None:
        capital = None if portfolio.capital is None else to_units(portfolio.capital)
        try:
            with self._write() as db:
                db.execute(
                    "INSERT INTO portfolios (id, strategy, schedule, capital_n, params, created_at, broker)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        portfolio.id,
                        portfolio.strategy,
                        portfolio.schedule.value,
                        capital,
                        json.dumps(dict(portfolio.params), sort_keys=True),
                        format_ts(portfolio.created_at),
                        portfolio.broker,
                    ),
                )
        except sqlite3.IntegrityError:
            raise InputError(
                f"portfolio {portfolio.id!r} exists already (see `pas portfolio show {portfolio.id}`)"
            ) from None

    def get_portfolio(self, portfolio_id: str) -> Portfolio | None:
        row = self._db.execute(
            f"SELECT {_PORTFOLIO_COLUMNS} FROM portfolios WHERE id = ?",
            (portfolio_id,),
        ).fetchone()
        return None if row is None else _portfolio(row)

    def list_portfolios(self) -> list[Portfolio]:
        rows = self._db.execute(f"SELECT {_PORTFOLIO_COLUMNS} FROM portfolios ORDER BY id")
        return [_portfolio(row) for row in rows]

    def remove_portfolio(self, portfolio_id: str) -> None:
        with self._write() as db:
            for table, column in OWNED_BY_PORTFOLIO:
                db.execute(f"DELETE FROM {table} WHERE {column} = ?", (portfolio_id,))
            _drop_from_allocations(db, portfolio_id)
            _drop_from_trade_runs(db, portfolio_id)
            db.execute("DELETE FROM portfolios WHERE id = ?", (portfolio_id,))

    def put_weights(self, weights: WeightSet) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO weights (portfolio, at, source, weights) VALUES (?, ?, ?, ?)",
                (
                    weights.portfolio,
                    format_ts(weights.at),
                    weights.source,
                    json.dumps(sorted(weights.weights.items())),
                ),
            )

    def weights_history(self, portfolio_id: str, limit: int | None = None) -> list[WeightSet]:
        from pas.models import WeightSet  # loaded at first use (pas.history)

        rows = self._db.execute(
            "SELECT portfolio, at, source, weights FROM weights WHERE portfolio = ?"
            " ORDER BY at DESC, id DESC LIMIT ?",
            (portfolio_id, -1 if limit is None else limit),
        )
        return [
            WeightSet(portfolio=p, at=parse_ts(at), source=source, weights=dict(json.loads(w)))
            for p, at, source, w in rows
        ]

    def append_fills(self, fills: Sequence[Fill]) -> int:
        rows = [
            (
                f.fill_id,
                f.portfolio,
                f.symbol,
                f.side.value,
                to_units(f.qty),
                to_units(f.price),
                to_units(f.commission),
                format_ts(f.ts),
                f.broker_order_id,
                f.client_order_id,
                f.run_id,
            )
            for f in fills
        ]
        with self._write() as db:
            after_id = folds.last_fill_id(db)
            before = db.total_changes
            db.executemany(
                f"INSERT INTO fills ({_FILL_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT (fill_id) DO NOTHING",
                rows,
            )
            written = db.total_changes - before
            if written:
                folds.fold_fills_after(db, after_id)
            return written

    def fills(
        self,
        portfolio_id: str,
        since: datetime | None = None,
        symbol: str | None = None,
        limit: int | None = None,
    ) -> list[Fill]:
        sql = f"SELECT {_FILL_COLUMNS} FROM fills WHERE portfolio = ?"
        args: list[Any] = [portfolio_id]
        if since is not None:
            sql += " AND ts >= ?"
            args.append(format_ts(since))
        if symbol is not None:
            sql += " AND symbol = ?"
            args.append(symbol)
        sql += " ORDER BY ts, id LIMIT ?"
        args.append(-1 if limit is None else limit)
        return [_fill(row) for row in self._db.execute(sql, args)]

    def ledger(self, portfolio_id: str) -> Sequence[LedgerRow]:
        # fills_ledger holds every column the fold reads, in its order (folds.LEDGER_SQL).
        rows: list[LedgerRow] = self._db.execute(folds.LEDGER_SQL, (portfolio_id,)).fetchall()
        return rows

    def ledger_fold(self, portfolio_id: str) -> LedgerFold:
        # Kept as the fills are written (pas.store.sqlite.folds); a portfolio without a kept
        # fold has no fill, which the ledger's fold (of nothing) says without assuming it.
        kept = folds.stored_fold(self._db, portfolio_id)
        return super().ledger_fold(portfolio_id) if kept is None else kept

    def holdings(self, portfolio_id: str) -> dict[str, Any]:
        rows = self._db.execute(
            "SELECT symbol, SUM(CASE side WHEN 'buy' THEN qty_n ELSE -qty_n END) AS q"
            " FROM fills WHERE portfolio = ? GROUP BY symbol HAVING q != 0 ORDER BY symbol",
            (portfolio_id,),
        )
        return {symbol: from_units(q) for symbol, q in rows}

    def fills_of_order(self, broker_order_id: str) -> list[Fill]:
        rows = self._db.execute(
            f"SELECT {_FILL_COLUMNS} FROM fills WHERE broker_order_id = ? ORDER BY ts, id",
            (broker_order_id,),
        )
        return [_fill(row) for row in rows]

    def add_cash_flow(self, flow: CashFlow) -> bool:
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO cash_flows (flow_id, portfolio, amount_n, ts, note) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (flow_id) DO NOTHING",
                (flow.flow_id, flow.portfolio, to_units(flow.amount), format_ts(flow.ts), flow.note),
            )
            return cursor.rowcount > 0

    def cash_flows(self, portfolio_id: str) -> list[CashFlow]:
        rows = self._db.execute(
            "SELECT portfolio, amount_n, ts, flow_id, note FROM cash_flows WHERE portfolio = ?"
            " ORDER BY ts, id",
            (portfolio_id,),
        )
        return [CashFlow(p, from_units(a), parse_ts(ts), fid, note) for p, a, ts, fid, note in rows]
