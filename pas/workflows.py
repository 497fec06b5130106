"""Workflows: the steps the live commands and the backtest both take, written once.

``pas build`` and the backtest select the portfolios whose schedule is due and build
them (:func:`build_due`); ``pas rebalance``, ``pas build`` and the backtest trade
portfolios to their targets behind the circuit breaker (:func:`trade`); ``pas sync``
records late fills under the trading lock (:func:`sync`). Only the clock, the broker and
the store differ between live and backtest. Nothing here prints, exits or reads the
environment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from pas.errors import LockHeldError, PasError, RefusedError
from pas.models import RunStatus

if TYPE_CHECKING:
    from pas.domain.broker import Account
    from pas.models import Portfolio
    from pas.portfolio.broker.base import Broker
    from pas.portfolio.trading.limits import TradingLimits
    from pas.portfolio.trading.progress import Progress
    from pas.portfolio.trading.run import AfterSubmit, RebalanceOutcome, Sleep
    from pas.portfolio.trading.sync import SyncOutcome
    from pas.risk.breaker import BreakerLimits
    from pas.store.base import Store
    from pas.strategies.build import Build

BUILD_LOCK = "build"
# Newest run records read for builds locked out of trading: weeks of runs.
RUN_SCAN = 1000
# A build takes seconds; a lock this old belongs to a process that died.
BUILD_LOCK_TTL_SEC = 30 * 60.0
# Terminal broker states of an order that did not fill in full.
UNFINISHED = frozenset({"rejected", "expired", "canceled"})

BuildResult = tuple["Portfolio", "Build | PasError"]
# The weights of a build as they are stored (the backtest drops symbols it cannot price).
Tidy = Callable[["Portfolio", "Build"], Mapping[str, float]]


# -- building --------------------------------------------------------------------------
@contextmanager
def build_lock(store: Store, owner: str) -> Iterator[str]:
    """Holds the ``build`` lock around the body: one build that stores at a time.

    Yields:
        What to say about taking the lock over ("" when it was free): ``took over the
        build lock from HOST:PID, whose lease expired at … UTC``, as a trading run says
        of the trading lock.

    Raises:
        LockHeldError: another build holds it; the message names its host and pid and
            when its lease ends.
    """
    from pas.portfolio.trading.lock import held_until, takeover_note

    grant = store.acquire_lock(BUILD_LOCK, owner, BUILD_LOCK_TTL_SEC)
    if not grant:
        raise LockHeldError(
            f"another pas build ({grant.holder or 'unknown'}) is running and holds the build lock"
            f"{held_until(grant)}; this one stops"
        )
    try:
        yield takeover_note(grant, BUILD_LOCK, then="")
    finally:
        store.release_lock(BUILD_LOCK, owner)


def due_for_build(store: Store, portfolios: Sequence[Portfolio], when: datetime) -> list[Portfolio]:
    """The portfolios with a strategy whose schedule is due on the market day of ``when``
    and that were not built (as of their build time) yet in this period."""
    from pas.schedule import is_due, last_build_day, market_day
    from pas.strategies import MANUAL
    from pas.strategies.build import SOURCE

    today = market_day(when)
    return [
        p
        for p in portfolios
        if p.strategy != MANUAL
        and is_due(p.schedule, today, last_build_day(store.weights_history(p.id, limit=1), SOURCE))
    ]


def attempt_builds(
    data: Store,
    portfolios: Sequence[Portfolio],
    when: datetime,
    max_stale_days: int,
    max_position_weight: float | None = None,
) -> list[BuildResult]:
    """Each portfolio's build as of ``when``, or the error that stopped it (the others go on).

    Args:
        data: where the strategies read their datasets (the point-in-time view).
        max_stale_days: a dataset older than this many days refuses the build.
        max_position_weight: ``MAX_POSITION_WEIGHT``; a target above it refuses the build.
    """
    from pas.strategies.build import build_weights

    results: list[BuildResult] = []
    for p in portfolios:
        try:
            built = build_weights(
                data, p, when, max_stale_days=max_stale_days, max_position_weight=max_position_weight
            )
            results.append((p, built))
        except PasError as exc:
            results.append((p, exc))
    return results


def store_builds(
    store: Store, results: Sequence[BuildResult], source: str, tidy: Tidy | None = None
) -> list[Portfolio]:
    """Stores the weights of every successful build, stamped with the store's clock.

    Returns:
        The portfolios whose new targets were stored.
    """
    built = []
    for p, result in results:
        if isinstance(result, PasError):
            continue
        weight_set = result.weight_set(store.clock(), source)
        if tidy is not None:
            weight_set = replace(weight_set, weights=dict(tidy(p, result)))
        store.put_weights(weight_set)
        built.append(p)
    return built


def build_due(
    data: Store,
    store: Store,
    portfolios: Sequence[Portfolio],
    when: datetime,
    *,
    max_stale_days: int,
    max_position_weight: float | None = None,
    dry_run: bool = False,
    tidy: Tidy | None = None,
) -> list[BuildResult]:
    """Builds and stores every portfolio that is due (see :func:`due_for_build`) as of ``when``.

    Args:
        data: where the strategies read their datasets.
        store: where the targets are read and stored (the same store live; the
            backtest's own store in a backtest).
        dry_run: build only; store nothing.
        max_position_weight: ``MAX_POSITION_WEIGHT``; a target above it refuses that build.
        tidy: adjusts the weights before they are stored.

    Returns:
        Each due portfolio's build or the error that stopped it.
    """
    from pas.strategies.build import SOURCE

    due = due_for_build(store, portfolios, when)
    results = attempt_builds(data, due, when, max_stale_days, max_position_weight)
    if not dry_run:
        store_builds(store, results, SOURCE, tidy)
    return results


def build_one(
    data: Store,
    store: Store,
    portfolio: Portfolio,
    when: datetime,
    *,
    max_stale_days: int,
    source: str,
    max_position_weight: float | None = None,
    dry_run: bool = False,
) -> BuildResult:
    """Builds one portfolio as of ``when`` and stores its targets marked ``source``.

    Args:
        dry_run: build only; store nothing.

    Raises:
        PasError: the build failed; nothing is stored.
    """
    ((_, result),) = attempt_builds(data, [portfolio], when, max_stale_days, max_position_weight)
    if isinstance(result, PasError):
        raise result
    if not dry_run:
        store_builds(store, [(portfolio, result)], source)
    return portfolio, result


TRADING_RUN = "rebalance"
"""The run record of a trading run (``pas rebalance``, and the trading of ``pas build``)."""
BUILD_RUN, DUE_BUILD_RUN = "build", "build --due"
"""The run records of ``pas build ID`` and ``pas build --due``."""
TRADING_KEY = "trading"
"""The detail of a build's run record naming the portfolios whose new targets it set out to trade."""


def untraded_builds(store: Store, portfolios: Sequence[Portfolio]) -> list[Portfolio]:
    """The portfolios whose targets a build set out to trade without a trading run to do it.

    A build stores its targets, then trades them in a trading run of its own. When another
    run holds the trading lock, that trading run is locked out (exit 4) and the targets
    wait; this finds them, so the next ``pas build --due`` trades them. A portfolio counts
    as traded once any later trading run covered it that was not itself locked out (one
    that failed or was refused has reported why). Only the newest :data:`RUN_SCAN` run
    records are read: an older lock-out is left to the weekly rebalance.

    Returns:
        Those of ``portfolios``, in their order.
    """
    covered: set[str] = set()
    waiting: set[str] = set()
    for run in store.recent_runs(RUN_SCAN):  # newest first
        if (
            run.command == TRADING_RUN
            and run.status is not RunStatus.LOCKED
            and not run.details.get("dry_run")
        ):
            covered |= _ids(run.details.get("portfolios"))
        elif run.command in (BUILD_RUN, DUE_BUILD_RUN):
            waiting |= _ids(run.details.get(TRADING_KEY)) - covered
            covered |= _ids(run.details.get(TRADING_KEY))
    return [p for p in portfolios if p.id in waiting]


def _ids(value: object) -> set[str]:
    """The portfolio ids of a run detail (``a,b``)."""
    return {i for i in value.split(",") if i} if isinstance(value, str) else set()


def failed_builds(results: Sequence[BuildResult]) -> PasError | None:
    """The error of a set of builds of which any failed (the others are stored)."""
    failed = [p.id for p, r in results if isinstance(r, PasError)]
    if not failed:
        return None
    return PasError(f"{len(failed)} of {len(results)} due build(s) failed ({', '.join(failed)}); see above")


# -- trading ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Traded:
    """A trading run's outcome, and the breaker's refusal of a dry run ("" if none)."""

    outcome: RebalanceOutcome
    refusal: str = ""

    def failure(self) -> PasError | None:
        """Why the run did not do all it should (None when it did).

        A refused dry run (exit 3), an order whose fate is unknown, an order that failed,
        or an order the broker ended before it filled in full; what did happen is
        recorded either way.
        """
        if self.refusal:
            return RefusedError(self.refusal)
        orders = self.outcome.orders
        unknown = [o for o in orders if o.status.value == "unknown"]
        if unknown:
            return PasError(
                f"{len(unknown)} order(s) have an unknown fate at the broker ({unknown[0].symbol}: "
                f"{unknown[0].error}); pas never sends them again and plans nothing new until they "
                "are found or proven absent: run `pas sync` later"
            )
        failed = [o for o in orders if o.status.value == "failed"]
        if failed:
            return PasError(
                f"{len(failed)} order(s) failed ({failed[0].symbol}: {failed[0].error}); "
                "fix the cause and run `pas rebalance` again"
            )
        ended = [o for o in orders if o.status.value == "settled" and o.broker_status in UNFINISHED]
        if ended:
            which = ", ".join(f"{o.symbol} {o.broker_status}" for o in ended)
            return PasError(
                f"{len(ended)} order(s) ended at the broker before filling in full ({which}); "
                "what filled is recorded; run `pas rebalance` again to trade the rest"
            )
        return None


def trade(
    store: Store,
    broker: Broker,
    portfolios: Sequence[Portfolio],
    limits: TradingLimits,
    *,
    run_id: str,
    breaker: BreakerLimits | None,
    dry_run: bool = False,
    queue: bool = False,
    timeout_sec: float,
    poll_sec: float,
    sleep: Sleep,
    after_submit: AfterSubmit | None = None,
    force: bool = False,
    progress: Progress | None = None,
    owner: str | None = None,
) -> Traded:
    """Trades portfolios to their current targets as one netted run, behind the circuit breaker.

    Args:
        breaker: the breaker's limits; it sees the account's equity before any order is
            sent and refuses a tripped run. A dry run still plans and is marked refused.
            None trades without a breaker (the backtest).
        timeout_sec: seconds to wait for fills.
        poll_sec: seconds between fill polls.
        after_submit: called after each order the broker accepted.
        force: trade although the ledgers differ from the broker for the plan's symbols
            after a sync (recorded in the outcome).
        progress: called with the run's state after each poll while waiting for fills.
        owner: the trading lock's owner (default: this host name and process).

    Raises:
        RefusedError: the breaker is tripped or a pre-trade check failed; nothing was sent.
        LockHeldError: another trading run holds the trading lock.
        LockLostError: another run took the trading lock over from this one; it stopped.
        InputError: a portfolio cannot be planned.
    """
    from pas.portfolio.trading.run import run_rebalance
    from pas.risk.breaker import observe_equity, refusal_message, require_untripped

    refusal: list[str] = []

    def guard(account: Account) -> None:
        assert breaker is not None
        state = observe_equity(store, account.equity, store.clock(), breaker)
        if dry_run and state.tripped:
            refusal.append(refusal_message(state))
        elif not dry_run:
            require_untripped(state)

    outcome = run_rebalance(
        store,
        broker,
        list(portfolios),
        limits,
        run_id=run_id,
        dry_run=dry_run,
        queue=queue,
        timeout_sec=timeout_sec,
        poll_sec=poll_sec,
        sleep=sleep,
        after_submit=after_submit,
        guard=None if breaker is None else guard,
        force=force,
        progress=progress,
        owner=owner,
    )
    return Traded(outcome, refusal[0] if refusal else "")


def sync(store: Store, broker: Broker, *, fill_timeout_sec: float, owner: str | None = None) -> SyncOutcome:
    """Records the fills that arrived after runs stopped waiting, under the trading lock.

    Args:
        fill_timeout_sec: how long a run waits for fills (seconds); the lock outlives it
            by :data:`pas.portfolio.trading.lock.LOCK_SLACK_SEC`.
        owner: the trading lock's owner (default: this host name and process).

    Returns:
        What the sync found; its first warning names a run it took the lock over from.

    Raises:
        LockHeldError: a trading run holds the lock.
    """
    from pas.portfolio.trading.lock import (
        LOCK_NAME,
        LOCK_SLACK_SEC,
        acquire_trading_lock,
        lock_owner_name,
        takeover_note,
    )
    from pas.portfolio.trading.sync import sync_fills

    owner = owner or lock_owner_name()
    taken_over = takeover_note(acquire_trading_lock(store, owner, fill_timeout_sec + LOCK_SLACK_SEC))
    try:
        outcome = sync_fills(store, broker)
        return replace(outcome, warnings=(taken_over, *outcome.warnings)) if taken_over else outcome
    finally:
        store.release_lock(LOCK_NAME, owner)


def check_removable(store: Store, portfolio_id: str, force: bool) -> int:
    """Refuses to remove a portfolio with orders still open, or (unless ``force``) with
    positions. An open order's late fill would be booked under the removed id, and a
    portfolio added again with that id would hold shares it never bought.

    Returns:
        How many positions it holds (they stay at the broker when ``force``).

    Raises:
        InputError: it has orders sent and not settled, or positions without ``force``.
    """
    from pas.errors import InputError

    open_orders = [
        o
        for o in store.trade_orders(unsettled=True)
        if any(p == portfolio_id for p, _ in o.shares + o.crosses)
    ]
    if open_orders:
        symbols = ", ".join(sorted({o.symbol for o in open_orders}))
        raise InputError(
            f"portfolio {portfolio_id!r} has {len(open_orders)} order(s) still open ({symbols}); "
            "wait for them and run `pas sync` (or cancel them at the broker), then remove it"
        )
    holdings = store.holdings(portfolio_id)
    if holdings and not force:
        symbols = ", ".join(sorted(holdings)[:5])
        raise InputError(
            f"portfolio {portfolio_id!r} holds {len(holdings)} position(s) ({symbols}); "
            "sell them first or pass --force"
        )
    return len(holdings)
