"""The embedded store: one SQLite file, safe for several cron jobs at once.

WAL mode lets readers run beside one writer; every read-modify-write runs in
``BEGIN IMMEDIATE`` so two processes never interleave inside one; the busy timeout makes
a second writer wait instead of failing. Quantities and money are integers of nano units.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from pas.errors import InputError, StoreError
from pas.models import (
    AppliedAllocation,
    BreakerState,
    CashFlow,
    DailyMetric,
    Fill,
    Portfolio,
    Price,
    Run,
    RunStatus,
    Schedule,
    Side,
    TradeOrder,
    TradeOrderStatus,
    TradeRun,
    TradeRunStatus,
    TrailingStats,
    WeightSet,
    format_ts,
    from_units,
    parse_ts,
    to_units,
)
from pas.portfolio.broker.base import BrokerFill, Order, OrderStatus
from pas.records import Record, UpsertCounts
from pas.store.base import (
    Clock,
    LedgerEntry,
    Store,
    breaker_from_doc,
    breaker_to_doc,
    sum_sim_fills,
    system_clock,
)

# Keys looked up per query when comparing a batch of records with what is stored
# (SQLite allows 32766 host parameters; smaller chunks keep each statement cheap).
_KEY_CHUNK = 900

# Seconds a writer waits for another process's transaction before giving up.
BUSY_TIMEOUT_SEC = 30.0

# Each entry upgrades the schema by one version (PRAGMA user_version). Append, never edit.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE portfolios (
        id TEXT PRIMARY KEY,
        strategy TEXT NOT NULL,
        schedule TEXT NOT NULL,
        capital_n INTEGER,
        params TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL
    );
    CREATE TABLE weights (
        id INTEGER PRIMARY KEY,
        portfolio TEXT NOT NULL,
        at TEXT NOT NULL,
        source TEXT NOT NULL,
        weights TEXT NOT NULL
    );
    CREATE INDEX weights_by_portfolio ON weights (portfolio, at);
    CREATE TABLE fills (
        id INTEGER PRIMARY KEY,
        fill_id TEXT NOT NULL UNIQUE,
        portfolio TEXT NOT NULL,
        symbol TEXT NOT NULL,
        side TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
        qty_n INTEGER NOT NULL CHECK (qty_n > 0),
        price_n INTEGER NOT NULL CHECK (price_n > 0),
        commission_n INTEGER NOT NULL DEFAULT 0,
        ts TEXT NOT NULL,
        broker_order_id TEXT NOT NULL DEFAULT '',
        client_order_id TEXT NOT NULL DEFAULT '',
        run_id TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX fills_by_time ON fills (portfolio, ts);
    CREATE INDEX fills_by_symbol ON fills (portfolio, symbol, side, qty_n);
    CREATE TABLE prices (
        symbol TEXT NOT NULL,
        day TEXT NOT NULL,
        close_n INTEGER NOT NULL,
        PRIMARY KEY (symbol, day)
    ) WITHOUT ROWID;
    CREATE TABLE runs (
        run_id TEXT PRIMARY KEY,
        command TEXT NOT NULL,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        status TEXT NOT NULL,
        error TEXT NOT NULL DEFAULT '',
        details TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX runs_by_start ON runs (started_at);
    CREATE TABLE locks (
        name TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    """,
    """
    CREATE INDEX fills_by_order ON fills (broker_order_id);
    CREATE TABLE cash_flows (
        id INTEGER PRIMARY KEY,
        flow_id TEXT NOT NULL UNIQUE,
        portfolio TEXT NOT NULL,
        amount_n INTEGER NOT NULL,
        ts TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX cash_flows_by_portfolio ON cash_flows (portfolio, ts);
    CREATE TABLE trade_runs (
        run_id TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        broker TEXT NOT NULL,
        portfolios TEXT NOT NULL,
        status TEXT NOT NULL
    );
    CREATE INDEX trade_runs_by_status ON trade_runs (status, created_at);
    CREATE TABLE trade_orders (
        client_order_id TEXT PRIMARY KEY,
        run_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        symbol TEXT NOT NULL,
        side TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
        qty_n INTEGER NOT NULL CHECK (qty_n >= 0),
        ref_price_n INTEGER NOT NULL,
        fractionable INTEGER NOT NULL,
        shares TEXT NOT NULL,
        crosses TEXT NOT NULL,
        status TEXT NOT NULL,
        broker_order_id TEXT NOT NULL DEFAULT '',
        broker_status TEXT NOT NULL DEFAULT '',
        error TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX trade_orders_by_run ON trade_orders (run_id, seq);
    CREATE INDEX trade_orders_by_status ON trade_orders (status);
    CREATE TABLE sim_orders (
        id TEXT PRIMARY KEY,
        client_order_id TEXT NOT NULL UNIQUE,
        symbol TEXT NOT NULL,
        side TEXT NOT NULL,
        qty_n INTEGER NOT NULL,
        filled_qty_n INTEGER NOT NULL,
        filled_avg_price_n INTEGER,
        status TEXT NOT NULL,
        submitted_at TEXT NOT NULL
    );
    CREATE INDEX sim_orders_by_time ON sim_orders (submitted_at);
    CREATE TABLE sim_fills (
        id TEXT PRIMARY KEY,
        order_id TEXT NOT NULL,
        symbol TEXT NOT NULL,
        side TEXT NOT NULL,
        qty_n INTEGER NOT NULL,
        price_n INTEGER NOT NULL,
        commission_n INTEGER NOT NULL,
        ts TEXT NOT NULL
    );
    CREATE INDEX sim_fills_by_time ON sim_fills (ts)
    """,
    # Scraped datasets (point-in-time), the Quiver response cache, cross-process rate limits.
    """
    CREATE TABLE records (
        dataset TEXT NOT NULL,
        key TEXT NOT NULL,
        ticker TEXT NOT NULL,
        event_date TEXT NOT NULL,
        public_at TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        digest TEXT NOT NULL,
        fields TEXT NOT NULL,
        PRIMARY KEY (dataset, key)
    ) WITHOUT ROWID;
    CREATE INDEX records_by_public ON records (dataset, public_at);
    CREATE INDEX records_by_ticker ON records (dataset, ticker, public_at);
    CREATE TABLE http_cache (
        key TEXT PRIMARY KEY,
        body TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    CREATE TABLE rate_slots (
        name TEXT PRIMARY KEY,
        last_slot TEXT NOT NULL
    );
    """,
    # Where `pas sync` stopped reading a broker's fills.
    """
    CREATE TABLE sync_cursors (
        broker TEXT PRIMARY KEY,
        ts TEXT NOT NULL,
        fill_id TEXT NOT NULL
    )
    """,
    # Daily performance per portfolio and the trailing statistics computed from it.
    """
    CREATE TABLE daily_metrics (
        portfolio TEXT NOT NULL,
        day TEXT NOT NULL,
        ret REAL NOT NULL,
        equity_n INTEGER,
        benchmark_ret REAL,
        source TEXT NOT NULL,
        PRIMARY KEY (portfolio, day)
    ) WITHOUT ROWID;
    CREATE TABLE trailing_stats (
        portfolio TEXT NOT NULL,
        as_of TEXT NOT NULL,
        window TEXT NOT NULL,
        stats TEXT NOT NULL,
        PRIMARY KEY (portfolio, window, as_of)
    ) WITHOUT ROWID
    """,
    # Allocations applied by `pas allocate --apply`: the split of the account's equity.
    """
    CREATE TABLE allocations (
        id INTEGER PRIMARY KEY,
        as_of TEXT NOT NULL,
        applied_at TEXT NOT NULL,
        method TEXT NOT NULL,
        exposure REAL NOT NULL,
        ex_ante_vol REAL,
        weights TEXT NOT NULL
    );
    CREATE INDEX allocations_by_day ON allocations (as_of, id)
    """,
    # The account's circuit breaker: one row, a JSON document and its compare-and-swap version.
    """
    CREATE TABLE breaker (
        name TEXT PRIMARY KEY,
        version INTEGER NOT NULL,
        state TEXT NOT NULL
    )
    """,
    # Positions fold over a portfolio's fills in time order: a covering index reads them
    # without touching the table (half the time for 50,000 fills). It starts with
    # (portfolio, ts), so it also serves what fills_by_time did.
    """
    CREATE INDEX fills_ledger ON fills (portfolio, ts, id, symbol, side, qty_n, price_n, commission_n);
    DROP INDEX fills_by_time
    """,
    # What history of each dataset the scrapers fetched completely (JSON, see pas.scrapers.coverage).
    """
    CREATE TABLE scrape_coverage (
        dataset TEXT PRIMARY KEY,
        coverage TEXT NOT NULL
    )
    """,
)

_TRADE_ORDER_COLUMNS = (
    "run_id, client_order_id, seq, symbol, side, qty_n, ref_price_n, fractionable, shares, crosses,"
    " status, broker_order_id, broker_status, error"
)
_UNSETTLED = (TradeOrderStatus.SENDING.value, TradeOrderStatus.SENT.value)

_FILL_COLUMNS = (
    "fill_id, portfolio, symbol, side, qty_n, price_n, commission_n, ts, "
    "broker_order_id, client_order_id, run_id"
)


class SqliteStore(Store):
    """The embedded backend."""

    backend = "sqlite"

    def __init__(self, path: Path, clock: Clock = system_clock) -> None:
        super().__init__(clock)
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_SEC, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(
                f"cannot open the embedded database {path}: {exc}; check that PAS_HOME "
                "points to a writable directory"
            ) from exc

    def close(self) -> None:
        self._db.close()

    def describe(self) -> str:
        return f"sqlite {self.path}"

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A read-modify-write transaction that holds the write lock from its start."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError(
                f"the embedded database {self.path} stayed locked by another process for "
                f"{BUSY_TIMEOUT_SEC:.0f} s ({exc}); try again when the other pas run ends"
            ) from exc
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        else:
            self._db.execute("COMMIT")

    def _migrate(self) -> None:
        with self._write() as db:
            (version,) = db.execute("PRAGMA user_version").fetchone()
            if version > len(MIGRATIONS):
                raise StoreError(f"{self.path} was written by a newer pas (schema {version}); upgrade pas")
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in script.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")

    # -- portfolios --------------------------------------------------------------------
    def add_portfolio(self, portfolio: Portfolio) -> None:
        capital = None if portfolio.capital is None else to_units(portfolio.capital)
        try:
            with self._write() as db:
                db.execute(
                    "INSERT INTO portfolios (id, strategy, schedule, capital_n, params, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        portfolio.id,
                        portfolio.strategy,
                        portfolio.schedule.value,
                        capital,
                        json.dumps(dict(portfolio.params), sort_keys=True),
                        format_ts(portfolio.created_at),
                    ),
                )
        except sqlite3.IntegrityError:
            raise InputError(
                f"portfolio {portfolio.id!r} exists already (see `pas portfolio show {portfolio.id}`)"
            ) from None

    def get_portfolio(self, portfolio_id: str) -> Portfolio | None:
        row = self._db.execute(
            "SELECT id, strategy, schedule, capital_n, params, created_at FROM portfolios WHERE id = ?",
            (portfolio_id,),
        ).fetchone()
        return None if row is None else _portfolio(row)

    def list_portfolios(self) -> list[Portfolio]:
        rows = self._db.execute(
            "SELECT id, strategy, schedule, capital_n, params, created_at FROM portfolios ORDER BY id"
        )
        return [_portfolio(row) for row in rows]

    def remove_portfolio(self, portfolio_id: str) -> None:
        with self._write() as db:
            for table, column in (
                ("fills", "portfolio"),
                ("cash_flows", "portfolio"),
                ("weights", "portfolio"),
                ("portfolios", "id"),
            ):
                db.execute(f"DELETE FROM {table} WHERE {column} = ?", (portfolio_id,))

    # -- target weights ----------------------------------------------------------------
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
        rows = self._db.execute(
            "SELECT portfolio, at, source, weights FROM weights WHERE portfolio = ?"
            " ORDER BY at DESC, id DESC LIMIT ?",
            (portfolio_id, -1 if limit is None else limit),
        )
        return [
            WeightSet(portfolio=p, at=parse_ts(at), source=source, weights=dict(json.loads(w)))
            for p, at, source, w in rows
        ]

    # -- ledger ------------------------------------------------------------------------
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
            before = db.total_changes
            db.executemany(
                f"INSERT INTO fills ({_FILL_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT (fill_id) DO NOTHING",
                rows,
            )
            return db.total_changes - before

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

    def ledger(self, portfolio_id: str) -> list[LedgerEntry]:
        rows = self._db.execute(
            "SELECT symbol, CASE side WHEN 'buy' THEN qty_n ELSE -qty_n END, price_n, commission_n"
            " FROM fills WHERE portfolio = ? ORDER BY ts, id",
            (portfolio_id,),
        )
        return [LedgerEntry._make(row) for row in rows]

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

    # -- cash flows --------------------------------------------------------------------
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

    # -- trading runs ------------------------------------------------------------------
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
                f"INSERT INTO trade_orders ({_TRADE_ORDER_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
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
                    )
                    for o in orders
                ],
            )

    def unfinished_trade_run(self) -> TradeRun | None:
        row = self._db.execute(
            "SELECT run_id, created_at, broker, portfolios, status FROM trade_runs WHERE status = ?"
            " ORDER BY created_at, run_id LIMIT 1",
            (TradeRunStatus.SUBMITTING.value,),
        ).fetchone()
        if row is None:
            return None
        run_id, created, broker, portfolios, status = row
        return TradeRun(
            run_id, parse_ts(created), broker, tuple(json.loads(portfolios)), TradeRunStatus(status)
        )

    def set_trade_run_status(self, run_id: str, status: TradeRunStatus) -> None:
        with self._write() as db:
            db.execute("UPDATE trade_runs SET status = ? WHERE run_id = ?", (status.value, run_id))

    def trade_orders(self, run_id: str | None = None, unsettled: bool = False) -> list[TradeOrder]:
        sql = f"SELECT {_TRADE_ORDER_COLUMNS} FROM trade_orders WHERE 1 = 1"
        args: list[Any] = []
        if run_id is not None:
            sql += " AND run_id = ?"
            args.append(run_id)
        if unsettled:
            sql += " AND status IN (?, ?)"
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
    ) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE trade_orders SET status = ?, broker_order_id = COALESCE(?, broker_order_id),"
                " broker_status = COALESCE(?, broker_status), error = COALESCE(?, error)"
                " WHERE client_order_id = ?",
                (status.value, broker_order_id, broker_status, error, client_order_id),
            )

    # -- simulated broker --------------------------------------------------------------
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

    # -- prices ------------------------------------------------------------------------
    def upsert_prices(self, prices: Iterable[Price]) -> int:
        rows = [(p.symbol, p.day.isoformat(), to_units(p.close)) for p in prices]
        with self._write() as db:
            db.executemany(
                "INSERT INTO prices (symbol, day, close_n) VALUES (?, ?, ?)"
                " ON CONFLICT (symbol, day) DO UPDATE SET close_n = excluded.close_n",
                rows,
            )
        return len(rows)

    def latest_prices(self, symbols: Iterable[str], on_or_before: date | None = None) -> dict[str, Price]:
        wanted = sorted(set(symbols))
        if not wanted:
            return {}
        day = (on_or_before or date.max).isoformat()
        found: dict[str, Price] = {}
        # SQLite returns the other columns of the row that holds MAX(day) (documented).
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT symbol, MAX(day), close_n FROM prices WHERE symbol IN ({marks})"
                " AND day <= ? GROUP BY symbol",
                [*chunk, day],
            )
            for symbol, d, close in rows:
                found[symbol] = Price(symbol, date.fromisoformat(d), from_units(close))
        return found

    def price_symbols(self) -> list[str]:
        return [
            symbol for (symbol,) in self._db.execute("SELECT DISTINCT symbol FROM prices ORDER BY symbol")
        ]

    def price_history(
        self, symbols: Iterable[str], start: date | None = None, end: date | None = None
    ) -> dict[str, list[Price]]:
        wanted = sorted(set(symbols))
        first, last = (start or date.min).isoformat(), (end or date.max).isoformat()
        found: dict[str, list[Price]] = {}
        for offset in range(0, len(wanted), 500):
            chunk = wanted[offset : offset + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT symbol, day, close_n FROM prices WHERE symbol IN ({marks})"
                " AND day >= ? AND day <= ? ORDER BY symbol, day",
                [*chunk, first, last],
            )
            for symbol, d, close in rows:
                found.setdefault(symbol, []).append(Price(symbol, date.fromisoformat(d), from_units(close)))
        return found

    # -- runs --------------------------------------------------------------------------
    def start_run(self, run: Run) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO runs (run_id, command, started_at, status, details) VALUES (?, ?, ?, ?, ?)",
                (
                    run.run_id,
                    run.command,
                    format_ts(run.started_at),
                    run.status.value,
                    json.dumps(dict(run.details), default=str),
                ),
            )

    def finish_run(
        self,
        run_id: str,
        status: RunStatus,
        error: str = "",
        details: Mapping[str, Any] | None = None,
    ) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE runs SET ended_at = ?, status = ?, error = ?,"
                " details = CASE WHEN ? IS NULL THEN details ELSE ? END WHERE run_id = ?",
                (
                    format_ts(self.clock()),
                    status.value,
                    error,
                    None if details is None else 1,
                    json.dumps(dict(details or {}), default=str),
                    run_id,
                ),
            )

    def recent_runs(self, limit: int = 20) -> list[Run]:
        rows = self._db.execute(
            "SELECT run_id, command, started_at, ended_at, status, error, details FROM runs"
            " ORDER BY started_at DESC, rowid DESC LIMIT ?",
            (limit,),
        )
        return [
            Run(
                run_id=run_id,
                command=command,
                started_at=parse_ts(started),
                ended_at=None if ended is None else parse_ts(ended),
                status=RunStatus(status),
                error=error,
                details=json.loads(details),
            )
            for run_id, command, started, ended, status, error, details in rows
        ]

    # -- locks -------------------------------------------------------------------------
    def acquire_lock(self, name: str, owner: str, ttl_sec: float) -> bool:
        now = self.clock()
        with self._write() as db:
            row = db.execute("SELECT owner, expires_at FROM locks WHERE name = ?", (name,)).fetchone()
            if row is not None and row[0] != owner and row[1] > format_ts(now):
                return False
            db.execute(
                "INSERT INTO locks (name, owner, expires_at) VALUES (?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at",
                (name, owner, format_ts(now + timedelta(seconds=ttl_sec))),
            )
            return True

    def lock_owner(self, name: str) -> str | None:
        row = self._db.execute("SELECT owner FROM locks WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def release_lock(self, name: str, owner: str) -> bool:
        with self._write() as db:
            cursor = db.execute("DELETE FROM locks WHERE name = ? AND owner = ?", (name, owner))
            return cursor.rowcount > 0

    # -- scraped records ---------------------------------------------------------------
    def upsert_records(self, dataset: str, records: Sequence[Record]) -> UpsertCounts:
        now = format_ts(self.clock())
        new = updated = unchanged = 0
        with self._write() as db:
            for start in range(0, len(records), _KEY_CHUNK):
                batch = records[start : start + _KEY_CHUNK]
                marks = ",".join("?" * len(batch))
                stored = dict(
                    db.execute(
                        f"SELECT key, digest FROM records WHERE dataset = ? AND key IN ({marks})",
                        [dataset, *(r.key for r in batch)],
                    ).fetchall()
                )
                inserts: list[tuple[Any, ...]] = []
                updates: list[tuple[Any, ...]] = []
                for r in batch:
                    digest = r.digest()
                    old = stored.get(r.key)
                    row = (
                        r.ticker,
                        r.event_date.isoformat(),
                        format_ts(r.public_at),
                        digest,
                        r.fields_json(),
                    )
                    if old is None:
                        inserts.append((dataset, r.key, *row, now))
                        stored[r.key] = digest
                        new += 1
                    elif old != digest:
                        updates.append((*row, dataset, r.key))
                        stored[r.key] = digest
                        updated += 1
                    else:
                        unchanged += 1
                db.executemany(
                    "INSERT INTO records (dataset, key, ticker, event_date, public_at, digest, fields,"
                    " first_seen) VALUES (?,?,?,?,?,?,?,?)",
                    inserts,
                )
                db.executemany(
                    "UPDATE records SET ticker = ?, event_date = ?, public_at = ?, digest = ?, fields = ?"
                    " WHERE dataset = ? AND key = ?",
                    updates,
                )
        return UpsertCounts(new, updated, unchanged)

    def records(
        self,
        dataset: str,
        as_of: datetime | None = None,
        ticker: str | None = None,
        since: datetime | None = None,
    ) -> list[Record]:
        sql = "SELECT key, ticker, event_date, public_at, first_seen, fields FROM records WHERE dataset = ?"
        args: list[Any] = [dataset]
        if ticker is not None:
            sql += " AND ticker = ?"
            args.append(ticker)
        if as_of is not None:
            sql += " AND public_at <= ?"
            args.append(format_ts(as_of))
        if since is not None:
            sql += " AND public_at >= ?"
            args.append(format_ts(since))
        sql += " ORDER BY public_at, key"
        return [
            Record(
                dataset=dataset,
                key=key,
                ticker=t,
                event_date=date.fromisoformat(ev),
                public_at=parse_ts(pub),
                first_seen=parse_ts(seen),
                fields=json.loads(fields),
            )
            for key, t, ev, pub, seen, fields in self._db.execute(sql, args)
        ]

    def latest_public_at(self, dataset: str) -> datetime | None:
        (latest,) = self._db.execute(
            "SELECT MAX(public_at) FROM records WHERE dataset = ?", (dataset,)
        ).fetchone()
        return None if latest is None else parse_ts(latest)

    # -- HTTP cache --------------------------------------------------------------------
    def cache_get(self, key: str, now: datetime) -> str | None:
        row = self._db.execute(
            "SELECT body FROM http_cache WHERE key = ? AND expires_at > ?", (key, format_ts(now))
        ).fetchone()
        return None if row is None else str(row[0])

    def cache_put(self, key: str, body: str, expires_at: datetime) -> None:
        with self._write() as db:
            # Expired bodies are dropped here so the cache never grows past one TTL of responses.
            db.execute("DELETE FROM http_cache WHERE expires_at <= ?", (format_ts(self.clock()),))
            db.execute(
                "INSERT INTO http_cache (key, body, expires_at) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET body = excluded.body, expires_at = excluded.expires_at",
                (key, body, format_ts(expires_at)),
            )

    # -- scrape coverage ---------------------------------------------------------------
    def coverage_get(self, dataset: str) -> str | None:
        row = self._db.execute(
            "SELECT coverage FROM scrape_coverage WHERE dataset = ?", (dataset,)
        ).fetchone()
        return None if row is None else str(row[0])

    def coverage_put(self, dataset: str, coverage: str) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO scrape_coverage (dataset, coverage) VALUES (?, ?)"
                " ON CONFLICT (dataset) DO UPDATE SET coverage = excluded.coverage",
                (dataset, coverage),
            )

    # -- rate limits -------------------------------------------------------------------
    def reserve_slot(self, name: str, interval_sec: float, now: datetime) -> datetime:
        with self._write() as db:
            row = db.execute("SELECT last_slot FROM rate_slots WHERE name = ?", (name,)).fetchone()
            slot = now if row is None else max(now, parse_ts(row[0]) + timedelta(seconds=interval_sec))
            db.execute(
                "INSERT INTO rate_slots (name, last_slot) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET last_slot = excluded.last_slot",
                (name, format_ts(slot)),
            )
        return slot

    # -- daily metrics and trailing statistics -----------------------------------------
    def put_daily_metrics(self, metrics: Sequence[DailyMetric]) -> int:
        rows = [
            (
                m.portfolio,
                m.day.isoformat(),
                m.ret,
                None if m.equity is None else to_units(m.equity),
                m.benchmark_ret,
                m.source,
            )
            for m in metrics
        ]
        with self._write() as db:
            db.executemany(
                "INSERT INTO daily_metrics (portfolio, day, ret, equity_n, benchmark_ret, source)"
                " VALUES (?,?,?,?,?,?) ON CONFLICT (portfolio, day) DO UPDATE SET ret = excluded.ret,"
                " equity_n = excluded.equity_n, benchmark_ret = excluded.benchmark_ret,"
                " source = excluded.source",
                rows,
            )
        return len(rows)

    def daily_metrics(
        self, portfolio_id: str, start: date | None = None, end: date | None = None
    ) -> list[DailyMetric]:
        rows = self._db.execute(
            "SELECT portfolio, day, ret, equity_n, benchmark_ret, source FROM daily_metrics"
            " WHERE portfolio = ? AND day >= ? AND day <= ? ORDER BY day",
            (portfolio_id, (start or date.min).isoformat(), (end or date.max).isoformat()),
        )
        return [
            DailyMetric(p, date.fromisoformat(d), r, None if e is None else from_units(e), b, src)
            for p, d, r, e, b, src in rows
        ]

    def metric_days(self, portfolio_id: str) -> set[date]:
        rows = self._db.execute("SELECT day FROM daily_metrics WHERE portfolio = ?", (portfolio_id,))
        return {date.fromisoformat(d) for (d,) in rows}

    def put_trailing_stats(self, stats: Sequence[TrailingStats]) -> int:
        rows = [(t.portfolio, t.as_of.isoformat(), t.window, json.dumps(dict(t.values))) for t in stats]
        with self._write() as db:
            db.executemany(
                "INSERT INTO trailing_stats (portfolio, as_of, window, stats) VALUES (?,?,?,?)"
                " ON CONFLICT (portfolio, window, as_of) DO UPDATE SET stats = excluded.stats",
                rows,
            )
        return len(rows)

    def trailing_stats(
        self, portfolio_id: str, window: str, as_of: date | None = None
    ) -> TrailingStats | None:
        row = self._db.execute(
            "SELECT as_of, stats FROM trailing_stats WHERE portfolio = ? AND window = ? AND as_of <= ?"
            " ORDER BY as_of DESC LIMIT 1",
            (portfolio_id, window, (as_of or date.max).isoformat()),
        ).fetchone()
        if row is None:
            return None
        return TrailingStats(portfolio_id, date.fromisoformat(row[0]), window, json.loads(row[1]))

    def delete_trailing_stats_from(self, portfolio_id: str, day: date) -> int:
        with self._write() as db:
            cursor = db.execute(
                "DELETE FROM trailing_stats WHERE portfolio = ? AND as_of >= ?",
                (portfolio_id, day.isoformat()),
            )
            return cursor.rowcount

    # -- allocations -------------------------------------------------------------------
    def put_allocation(self, allocation: AppliedAllocation) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO allocations (as_of, applied_at, method, exposure, ex_ante_vol, weights)"
                " VALUES (?,?,?,?,?,?)",
                (
                    allocation.as_of.isoformat(),
                    format_ts(allocation.applied_at),
                    allocation.method,
                    allocation.exposure,
                    allocation.ex_ante_vol,
                    json.dumps(sorted(allocation.weights.items())),
                ),
            )

    def allocation_history(self, limit: int | None = None) -> list[AppliedAllocation]:
        return self._allocations("", (), limit)

    def latest_allocation(self, as_of: date | None = None) -> AppliedAllocation | None:
        found = self._allocations("WHERE as_of <= ?", ((as_of or date.max).isoformat(),), 1)
        return found[0] if found else None

    def _allocations(self, where: str, args: tuple[Any, ...], limit: int | None) -> list[AppliedAllocation]:
        rows = self._db.execute(
            "SELECT as_of, applied_at, method, exposure, ex_ante_vol, weights FROM allocations "
            f"{where} ORDER BY as_of DESC, id DESC LIMIT ?",
            (*args, -1 if limit is None else limit),
        )
        return [
            AppliedAllocation(date.fromisoformat(d), parse_ts(at), m, dict(json.loads(w)), e, v)
            for d, at, m, e, v, w in rows
        ]

    # -- circuit breaker ---------------------------------------------------------------
    def breaker_state(self) -> BreakerState:
        row = self._db.execute("SELECT version, state FROM breaker WHERE name = 'account'").fetchone()
        return BreakerState() if row is None else breaker_from_doc(json.loads(row[1]), row[0])

    def save_breaker_state(self, state: BreakerState) -> bool:
        with self._write() as db:
            row = db.execute("SELECT version FROM breaker WHERE name = 'account'").fetchone()
            if (0 if row is None else row[0]) != state.version:
                return False
            db.execute(
                "INSERT INTO breaker (name, version, state) VALUES ('account', ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET version = excluded.version, state = excluded.state",
                (state.version + 1, json.dumps(breaker_to_doc(state))),
            )
        return True


def _portfolio(row: tuple[Any, ...]) -> Portfolio:
    pid, strategy, schedule, capital, params, created = row
    return Portfolio(
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


def _trade_order(row: tuple[Any, ...]) -> TradeOrder:
    (run_id, coid, seq, symbol, side, qty, ref, frac, shares, crosses, status, boid, bstatus, error) = row
    return TradeOrder(
        run_id=run_id,
        client_order_id=coid,
        seq=seq,
        symbol=symbol,
        side=Side(side),
        qty=qty,
        ref_price=from_units(ref),
        fractionable=bool(frac),
        shares=tuple((p, int(u)) for p, u in json.loads(shares)),
        crosses=tuple((p, int(u)) for p, u in json.loads(crosses)),
        status=TradeOrderStatus(status),
        broker_order_id=boid,
        broker_status=bstatus,
        error=error,
    )


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
