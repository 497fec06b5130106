"""The store's interfaces, one per aggregate; :class:`~pas.store.base.Store` is their union.

A consumer asks for only the aggregate it uses (the Quiver client a :class:`ResponseCache`
and :class:`RateSlots`, the Sim broker a :class:`SimBook` and a :class:`PriceStore`), so its
signature says what it touches and a test can hand it a small fake. Each is a
:class:`typing.Protocol` whose methods are abstract: a backend that subclasses it must
implement them all, and any object with the methods satisfies it structurally.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from pas.clock import Clock
from pas.models import CashFlow, Fill, Portfolio, Price, RunStatus, TradeOrderStatus, TradeRunStatus
from pas.store.rules import LockGrant

if TYPE_CHECKING:  # annotations only: a command that reads positions never loads them
    from pas.domain.broker import BrokerFill, Order
    from pas.models import (
        AppliedAllocation,
        BreakerState,
        DailyMetric,
        Run,
        TradeOrder,
        TradeRun,
        TrailingStats,
        WeightSet,
    )
    from pas.records import Record, RecordColumns, UpsertCounts


class LedgerEntry(NamedTuple):
    """A fill reduced to what position arithmetic needs, in integer nano units.

    Positions fold over tens of thousands of these; building full :class:`Fill`
    objects for that would cost more than the query. A store may give plain tuples of
    the same four values (:data:`LedgerRow`): on a 50,000-fill ledger, naming each row
    costs a third of the SQL that reads them.
    """

    symbol: str
    signed_qty: int
    price: int
    commission: int


LedgerRow = tuple[str, int, int, int]
"""A ledger entry's values, (symbol, signed quantity, price, commission): what the fold reads."""


class PortfolioStore(Protocol):
    """Portfolios with what they own: target weights, the ledger of fills and cash flows."""

    @abstractmethod
    def add_portfolio(self, portfolio: Portfolio) -> None:
        """Registers a portfolio.

        Raises:
            InputError: a portfolio with that id exists.
        """

    @abstractmethod
    def get_portfolio(self, portfolio_id: str) -> Portfolio | None:
        """The portfolio, or None."""

    @abstractmethod
    def list_portfolios(self) -> list[Portfolio]:
        """All portfolios, by id."""

    @abstractmethod
    def remove_portfolio(self, portfolio_id: str) -> None:
        """Deletes a portfolio and everything it owns (:mod:`pas.store.cascade`): nothing of
        it is left, so an id added again starts clean. One transaction on SQLite; on MongoDB
        the portfolio's own document goes last, so a crash half-way can be finished by
        removing it again."""

    @abstractmethod
    def put_weights(self, weights: WeightSet) -> None:
        """Records a new target; earlier targets stay as history."""

    @abstractmethod
    def weights_history(self, portfolio_id: str, limit: int | None = None) -> list[WeightSet]:
        """Targets of a portfolio, newest first."""

    def current_weights(self, portfolio_id: str) -> WeightSet | None:
        """The newest target, or None when none was ever set."""
        history = self.weights_history(portfolio_id, limit=1)
        return history[0] if history else None

    @abstractmethod
    def append_fills(self, fills: Sequence[Fill]) -> int:
        """Records fills; ones whose ``fill_id`` is already recorded are skipped.

        Returns:
            How many fills were new.
        """

    @abstractmethod
    def fills(
        self,
        portfolio_id: str,
        since: datetime | None = None,
        symbol: str | None = None,
        limit: int | None = None,
    ) -> list[Fill]:
        """Fills of a portfolio at or after ``since``, oldest first."""

    @abstractmethod
    def ledger(self, portfolio_id: str) -> Sequence[LedgerRow]:
        """Every fill of a portfolio as a :class:`LedgerEntry` (or its plain tuple), in time order."""

    @abstractmethod
    def holdings(self, portfolio_id: str) -> dict[str, Decimal]:
        """Net quantity per symbol from the portfolio's own fills; zero positions left out."""

    @abstractmethod
    def fills_of_order(self, broker_order_id: str) -> list[Fill]:
        """Every portfolio's fills of one broker order, oldest first."""

    @abstractmethod
    def add_cash_flow(self, flow: CashFlow) -> bool:
        """Records a deposit or withdrawal; one with a recorded ``flow_id`` is skipped.

        Returns:
            Whether it was new.
        """

    @abstractmethod
    def cash_flows(self, portfolio_id: str) -> list[CashFlow]:
        """A portfolio's deposits and withdrawals, oldest first."""


class TradingStore(Protocol):
    """Trading runs with their planned orders, and where ``pas sync`` stopped per broker."""

    @abstractmethod
    def create_trade_run(self, run: TradeRun, orders: Sequence[TradeOrder]) -> None:
        """Records a trading run with its planned orders, all or nothing, before any is sent."""

    @abstractmethod
    def unfinished_trade_run(self, broker: str) -> TradeRun | None:
        """The oldest run of ``broker`` still in :attr:`TradeRunStatus.SUBMITTING`, or None
        (a run of another broker is never resumed through this one)."""

    @abstractmethod
    def set_trade_run_status(self, run_id: str, status: TradeRunStatus) -> None:
        """Moves a trading run on."""

    @abstractmethod
    def trade_orders(
        self, run_id: str | None = None, unsettled: bool = False, broker: str | None = None
    ) -> list[TradeOrder]:
        """Planned orders of one run (or all runs) in plan order; ``unsettled``: only
        those whose fate is not settled (:data:`~pas.models.UNSETTLED_ORDER_STATUSES`:
        being sent, sent, or unknown); ``broker``: only runs of it."""

    @abstractmethod
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
        """Records what happened to a planned order (None leaves a field as it is)."""

    @abstractmethod
    def sync_cursor(self, broker: str) -> tuple[datetime, str] | None:
        """Time and id of the newest fill of ``broker`` that ``pas sync`` has seen, or None."""

    @abstractmethod
    def save_sync_cursor(self, broker: str, ts: datetime, fill_id: str) -> None:
        """Moves the sync cursor of ``broker`` to a fill (replacing the previous one)."""


class SimBook(Protocol):
    """The simulated broker's own book of orders and fills (the account-level truth of Sim)."""

    clock: Clock
    """The store's clock: the Sim broker's notion of now."""

    @abstractmethod
    def sim_add_order(self, order: Order) -> bool:
        """Records a new Sim order; False when its client order id is taken (nothing written)."""

    @abstractmethod
    def sim_save_order(self, order: Order) -> None:
        """Replaces a Sim order's state (by broker id)."""

    @abstractmethod
    def sim_orders(
        self,
        *,
        open_only: bool = False,
        order_id: str | None = None,
        client_order_id: str | None = None,
        after: datetime | None = None,
    ) -> list[Order]:
        """Sim orders, newest first: all, or those still open, or the one with an id or
        client order id, or those submitted after a time."""

    @abstractmethod
    def sim_totals(self) -> tuple[dict[str, Decimal], Decimal]:
        """Net shares per symbol over every Sim fill, and the dollars they cost
        (buys − sells + commissions): what the Sim account holds and has spent."""

    @abstractmethod
    def sim_add_fill(self, fill: BrokerFill) -> None:
        """Records a Sim execution."""

    @abstractmethod
    def sim_fills(self, after: datetime | None = None) -> list[BrokerFill]:
        """Sim executions strictly after a time, oldest first."""


PriceUnits = tuple[str, date, int]
"""A close in its stored form: (symbol, day, close in nano dollars: :func:`pas.models.to_units`)."""


class PriceStore(Protocol):
    """Daily closing prices per symbol."""

    @abstractmethod
    def upsert_prices(self, prices: Iterable[Price]) -> int:
        """Stores daily closes, replacing the close of a (symbol, day) already stored.

        Returns:
            How many rows were written.
        """

    @abstractmethod
    def upsert_price_units(self, closes: Iterable[PriceUnits]) -> int:
        """:meth:`upsert_prices` of closes as :meth:`price_units` gives them; how many."""

    @abstractmethod
    def copy_prices(self, source: PriceStore, start: date, end: date) -> int:
        """Stores ``source``'s closes of ``start``..``end`` (inclusive); how many."""

    @abstractmethod
    def price_units(
        self, start: date | None = None, end: date | None = None, symbols: Iterable[str] | None = None
    ) -> list[PriceUnits]:
        """The closes of ``symbols`` (all when None) of ``start``..``end`` as stored, by
        symbol and day: no ``Decimal`` per close (629,256: 0.6 s; 2.7 s as Prices)."""

    @abstractmethod
    def latest_prices(self, symbols: Iterable[str], on_or_before: date | None = None) -> dict[str, Price]:
        """The newest stored close of each symbol (at or before a day); missing ones left out."""

    @abstractmethod
    def latest_price_units(
        self, symbols: Iterable[str], on_or_before: date | None = None
    ) -> dict[str, tuple[date, int]]:
        """:meth:`latest_prices` in the stored form: each symbol's (day, close in nano
        dollars), as daily returns are computed from them."""

    @abstractmethod
    def price_symbols(self) -> list[str]:
        """Every symbol with a stored close, sorted."""

    @abstractmethod
    def price_history(
        self, symbols: Iterable[str], start: date | None = None, end: date | None = None
    ) -> dict[str, list[Price]]:
        """Stored closes of each symbol between two days (inclusive), oldest first.

        Symbols without a close in the range are left out.
        """


class RecordStore(Protocol):
    """Scraped records of each dataset, upserted on their natural key (bitemporal)."""

    @abstractmethod
    def upsert_records(self, dataset: str, records: Sequence[Record]) -> UpsertCounts:
        """Stores records on their natural key: new ones get ``first_seen`` = the store's
        clock; a stored one whose content changed is revised: the values it replaces are
        kept as valid until the store's clock now, and it keeps its ``first_seen`` and its
        ``public_at``.

        Returns:
            How many were new, updated and unchanged.
        """

    @abstractmethod
    def records(
        self,
        dataset: str,
        as_of: datetime | None = None,
        ticker: str | None = None,
        since: datetime | None = None,
    ) -> list[Record]:
        """The point-in-time view: records public at or before ``as_of`` (and at or after
        ``since``), of one ticker if given, oldest ``public_at`` first; each with the values
        pas knew at ``as_of`` (its first values stand for the time before pas first saw the
        record), or its latest values without ``as_of``."""

    @abstractmethod
    def newest_records(
        self,
        dataset: str,
        limit: int,
        *,
        tickers: Sequence[str] = (),
        since: datetime | None = None,
    ) -> list[Record]:
        """One page of ``pas data``, read without the rest: at most ``limit`` records public
        at or after ``since``, of the given tickers (all when empty), newest ``public_at``
        first, ties by key, greatest first (the reverse of :meth:`records`)."""

    @abstractmethod
    def count_records(
        self, dataset: str, *, tickers: Sequence[str] = (), since: datetime | None = None
    ) -> int:
        """How many records :meth:`newest_records` pages through (without its limit)."""

    @abstractmethod
    def record_columns(
        self, dataset: str, fields: Sequence[str], as_of: datetime, since: datetime | None = None
    ) -> RecordColumns:
        """The point-in-time view of :meth:`records` as columns, in one query: the records
        public at or before ``as_of`` (and at or after ``since``), oldest ``public_at``
        first and ties by key, with only the named fields (what strategies read).

        Raises:
            InputError: a field name holds a double quote.
        """

    @abstractmethod
    def latest_public_at(self, dataset: str) -> datetime | None:
        """The newest ``public_at`` stored for the dataset (None when it has no record)."""


class PerformanceStore(Protocol):
    """Performance per portfolio: daily metrics, trailing statistics, and applied allocations."""

    @abstractmethod
    def put_daily_metrics(self, metrics: Sequence[DailyMetric]) -> int:
        """Stores daily metrics, replacing a (portfolio, day) already stored, in one write.

        Whether replacing is allowed is the caller's decision (see ``metric_days``).

        Returns:
            How many rows were written.
        """

    @abstractmethod
    def daily_metrics(
        self, portfolio_id: str, start: date | None = None, end: date | None = None
    ) -> list[DailyMetric]:
        """A portfolio's daily metrics between two days (inclusive), oldest first."""

    @abstractmethod
    def metric_days(self, portfolio_id: str) -> set[date]:
        """The days that have a stored metric."""

    @abstractmethod
    def put_trailing_stats(self, stats: Sequence[TrailingStats]) -> int:
        """Stores statistics, replacing a (portfolio, as_of, window) already stored."""

    @abstractmethod
    def trailing_stats(
        self, portfolio_id: str, window: str, as_of: date | None = None
    ) -> TrailingStats | None:
        """The newest statistics of a window computed as of ``as_of`` or earlier (no look-ahead)."""

    @abstractmethod
    def delete_trailing_stats_from(self, portfolio_id: str, day: date) -> int:
        """Drops statistics as of ``day`` or later (they are recomputed after a change)."""

    @abstractmethod
    def put_allocation(self, allocation: AppliedAllocation) -> None:
        """Records an applied allocation; earlier ones stay as history."""

    @abstractmethod
    def allocation_history(self, limit: int | None = None) -> list[AppliedAllocation]:
        """Applied allocations, newest first (by as-of day, then by when applied)."""

    @abstractmethod
    def latest_allocation(self, as_of: date | None = None) -> AppliedAllocation | None:
        """The newest applied allocation whose as-of day is ``as_of`` or earlier (any, when
        None), or None when none was applied."""


class RunLog(Protocol):
    """The record of command runs (``pas jobs``)."""

    clock: Clock
    """The store's clock: when runs start and end."""

    @abstractmethod
    def start_run(self, run: Run) -> bool:
        """Records that a run started: True, or False (nothing written) when a run with
        its id is already recorded (see :func:`pas.runs.start_new_run`)."""

    @abstractmethod
    def finish_run(
        self,
        run_id: str,
        status: RunStatus,
        error: str = "",
        details: Mapping[str, Any] | None = None,
    ) -> None:
        """Records how a run ended (end time from the store's clock)."""

    @abstractmethod
    def recent_runs(self, limit: int = 20) -> list[Run]:
        """Runs, newest first."""


class LockStore(Protocol):
    """Named locks with a time-to-live, shared by every process on the store."""

    @abstractmethod
    def acquire_lock(self, name: str, owner: str, ttl_sec: float) -> LockGrant:
        """Takes the named lock for ``owner`` unless someone else holds an unexpired one.

        The same owner acquiring again extends its lease. A lock whose time-to-live has
        passed is stale and can be taken over (its holder is presumed dead).

        Returns:
            The grant, true when ``owner`` now holds the lock: it names the holder whose
            expired lease was taken over, or the live holder that refused it.
        """

    @abstractmethod
    def lock_owner(self, name: str) -> str | None:
        """The owner of the named lock, expired or not, or None when nobody holds it."""

    @abstractmethod
    def release_lock(self, name: str, owner: str) -> bool:
        """Releases the lock if ``owner`` holds it; returns whether it did."""


class ResponseCache(Protocol):
    """The HTTP response cache of the Quiver client."""

    @abstractmethod
    def cache_get(self, key: str, now: datetime) -> str | None:
        """The cached body under ``key`` unless it expired at or before ``now``."""

    @abstractmethod
    def cache_put(self, key: str, body: str, expires_at: datetime) -> None:
        """Caches a body until ``expires_at`` (replacing an older one)."""


class RateSlots(Protocol):
    """Request slots of rate limits shared by every process on the store."""

    @abstractmethod
    def reserve_slot(self, name: str, interval_sec: float, now: datetime) -> datetime:
        """Atomically takes the next free request slot of a rate limit shared by processes.

        The slot is ``now`` or ``interval_sec`` after the previous slot, whichever is later;
        the caller waits until it. Two processes never get slots closer than the interval.
        """


class ScrapeCoverage(Protocol):
    """What history of each dataset the scrapers fetched completely (see pas.scrapers.coverage)."""

    @abstractmethod
    def coverage_get(self, dataset: str) -> str | None:
        """The dataset's coverage as saved by :meth:`coverage_put` (None: never saved)."""

    @abstractmethod
    def coverage_put(self, dataset: str, coverage: str) -> None:
        """Saves the dataset's coverage (JSON text), replacing the previous one."""


class BreakerStore(Protocol):
    """The account's circuit breaker state, saved by compare-and-swap."""

    @abstractmethod
    def breaker_state(self) -> BreakerState:
        """The account's circuit breaker; a fresh :class:`BreakerState` (version 0) if never saved."""

    @abstractmethod
    def save_breaker_state(self, state: BreakerState) -> bool:
        """Saves the breaker atomically if nobody saved it since ``state`` was read.

        Compare-and-swap on ``state.version``: the stored version must still be
        ``state.version`` (0: nothing stored); the saved one is ``state.version + 1``.

        Returns:
            False, writing nothing, when another process saved it in between (read again
            and redo the update).
        """


class ControlStore(RunLog, LockStore, ResponseCache, RateSlots, ScrapeCoverage, BreakerStore, Protocol):
    """Control state: command runs, locks, the HTTP cache, rate slots, scrape coverage and the breaker."""
