"""The core of the SQLite backend: the connection, its transactions and the schema."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pas.clock import Clock, system_clock
from pas.errors import StoreError
from pas.store.base import Store
from pas.store.sqlite.errors import disk_full_message, is_disk_full, open_error
from pas.store.sqlite.folds import refold_all

# Seconds a writer waits for another process's transaction before giving up.
BUSY_TIMEOUT_SEC = 30.0


# Each portfolio's ledger folded into positions, kept as its fills are written
# (pas.store.sqlite.folds); the migration folds the ledgers stored before it.
_LEDGER_FOLDS = """
    CREATE TABLE ledger_folds (
        portfolio TEXT PRIMARY KEY,
        fills INTEGER NOT NULL,
        last_ts TEXT NOT NULL,
        last_id INTEGER NOT NULL,
        fold TEXT NOT NULL
    )
    """

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
    # When an order's request went out (UTC, ISO-8601; '' before): an order whose answer
    # was lost is proven absent only once the broker's creation window after it has passed.
    """
    ALTER TABLE trade_orders ADD COLUMN sent_at TEXT NOT NULL DEFAULT ''
    """,
    # The Sim broker asks for its open orders on every call: `status NOT IN (...)` can use
    # no ordinary index (3.5 ms a call on a backtest's book, 0.05 ms with this one). SQLite
    # uses a partial index only for a query whose WHERE repeats its condition word for word
    # (pas.store.sqlite.sim.OPEN_SIM_ORDER; a test keeps the two and OrderStatus in step).
    """
    CREATE INDEX sim_orders_open ON sim_orders (submitted_at)
        WHERE status NOT IN ('canceled', 'expired', 'filled', 'rejected', 'replaced')
    """,
    # What history of each dataset the scrapers fetched completely (JSON, see pas.scrapers.coverage).
    """
    CREATE TABLE scrape_coverage (
        dataset TEXT PRIMARY KEY,
        coverage TEXT NOT NULL
    )
    """,
    # Strategies read a dataset's records public in a window as columns: an index in
    # (public_at, key) order holding what they read serves that as one range scan, where
    # records_by_public pointed into a table ordered by key (a random lookup per row).
    # It starts with (dataset, public_at), so it also serves what records_by_public did.
    """
    CREATE INDEX records_columns ON records (dataset, public_at, key, ticker, event_date, fields);
    DROP INDEX records_by_public
    """,
    # Records are bitemporal: the values a revision replaced, valid until `until` (UTC, when
    # pas first saw the new ones). Natural keys became the identity of a filing (never a
    # corrected value) and bare dates the end of the New York day: records stored under the
    # old keys would be duplicated, so they go with the coverage, and the next scrape
    # fetches the history again.
    """
    CREATE TABLE record_revisions (
        dataset TEXT NOT NULL,
        key TEXT NOT NULL,
        until TEXT NOT NULL,
        fields TEXT NOT NULL,
        PRIMARY KEY (dataset, key, until)
    ) WITHOUT ROWID;
    CREATE INDEX record_revisions_by_until ON record_revisions (dataset, until);
    DELETE FROM records;
    DELETE FROM scrape_coverage
    """,
    # Each portfolio is bound to one broker (issue 12). An existing portfolio is bound to the
    # broker of its newest trading run, else to Alpaca (the default broker).
    """
    ALTER TABLE portfolios ADD COLUMN broker TEXT NOT NULL DEFAULT 'alpaca';
    UPDATE portfolios SET broker = COALESCE(
        (SELECT r.broker FROM trade_runs r, json_each(r.portfolios) j
          WHERE j.value = portfolios.id ORDER BY r.created_at DESC, r.run_id DESC LIMIT 1),
        'alpaca')
    """,
    # Sim orders keep their limit price and time in force: the Sim broker fills a limit
    # order only at or better than its limit, and a `day` one expires with its session.
    """
    ALTER TABLE sim_orders ADD COLUMN limit_price_n INTEGER;
    ALTER TABLE sim_orders ADD COLUMN time_in_force TEXT NOT NULL DEFAULT 'day'
    """,
    _LEDGER_FOLDS,
)


SCHEMA_VERSION = len(MIGRATIONS)
"""The schema version this pas writes (``PRAGMA user_version`` after every migration)."""

FOLDS_VERSION = MIGRATIONS.index(_LEDGER_FOLDS) + 1
"""The schema version that brought in ``ledger_folds``, which a database upgraded to it
builds from the fills it holds."""


def refuse_empty(path: Path) -> None:
    """Refuses a zero-length database file.

    SQLite would take an empty file for a new database (schema 0) and pas would start from
    nothing, silently: a file emptied by a crash or a bad copy is not a fresh store.

    Raises:
        StoreError: ``path`` is a file of 0 bytes.
    """
    if path.is_file() and path.stat().st_size == 0:
        raise StoreError(
            f"the embedded database {path} is an empty file (0 bytes), not a pas store; "
            "restore it from a backup, or delete it to start an empty store"
        )


def stored_schema(path: Path) -> int | None:
    """The schema version of the database at ``path``, read without migrating it.

    Returns:
        Its ``PRAGMA user_version``, or None when there is no database there yet.

    Raises:
        StoreError: the file is empty (0 bytes) or cannot be read as a database.
    """
    if not path.is_file():
        return None
    refuse_empty(path)
    try:
        db = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
        try:
            (version,) = db.execute("PRAGMA user_version").fetchone()
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise StoreError(open_error(path, exc)) from exc
    return int(version)


class SqliteCore(Store):
    """What every SQLite aggregate shares: the connection, its transactions, the schema."""

    backend = "sqlite"

    def __init__(self, path: Path, clock: Clock = system_clock) -> None:
        super().__init__(clock)
        self.path = path
        self._bulk = False
        refuse_empty(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_SEC, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(open_error(path, exc)) from exc

    def close(self) -> None:
        self._db.close()

    def describe(self) -> str:
        return f"sqlite {self.path}"

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """One transaction around many writes (each write joins it): all or nothing,
        committed once."""
        with self._write():
            self._bulk = True
            try:
                yield
            finally:
                self._bulk = False

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A read-modify-write transaction that holds the write lock from its start (inside
        :meth:`bulk`, the bulk's transaction)."""
        if self._bulk:
            yield self._db
            return
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError(
                f"the embedded database {self.path} stayed locked by another process for "
                f"{BUSY_TIMEOUT_SEC:.0f} s ({exc}); try again when the other pas run ends"
            ) from exc
        try:
            yield self._db
            self._db.execute("COMMIT")
        except BaseException as exc:
            # SQLite has already rolled back after some errors (a full disk among them);
            # a second ROLLBACK would fail and hide the real cause.
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError) and is_disk_full(exc):
                raise StoreError(disk_full_message(self.path, exc)) from exc
            raise

    def _migrate(self) -> None:
        with self._write() as db:
            (version,) = db.execute("PRAGMA user_version").fetchone()
            if version > SCHEMA_VERSION:
                raise StoreError(f"{self.path} was written by a newer pas (schema {version}); upgrade pas")
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in script.split(";"):
                    if statement.strip():
                        db.execute(statement)
                if number == FOLDS_VERSION:
                    refold_all(db)
                db.execute(f"PRAGMA user_version = {number}")
