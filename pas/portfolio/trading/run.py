"""A trading run: settle what earlier runs left in flight, plan, check, persist, submit, wait."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal

from pas.domain.broker import Account, Order, OrderRequest
from pas.errors import PasError, RefusedError
from pas.models import (
    Fill,
    Portfolio,
    Side,
    TradeOrder,
    TradeOrderStatus,
    TradeRun,
    TradeRunStatus,
    from_units,
)
from pas.portfolio.broker.base import Broker
from pas.portfolio.broker.errors import OrderOutcomeUnknown, OrderRejected
from pas.portfolio.netting import net_orders
from pas.portfolio.rebalance import Plan
from pas.portfolio.trading.inflight import (
    close_unfinished,
    finish_runs,
    resolve,
    settle_in_flight,
    status_warnings,
)
from pas.portfolio.trading.limits import (
    TradingLimits,
    buy_limit_caps,
    check_buying_power,
    check_limits,
    order_request,
)
from pas.portfolio.trading.lock import (
    LOCK_NAME,
    LOCK_SLACK_SEC,
    acquire_trading_lock,
    lock_owner_name,
    renew_trading_lock,
    takeover_note,
)
from pas.portfolio.trading.plan import check_bound, other_books_equity, plan_portfolios, record_transfers
from pas.portfolio.trading.progress import Progress, run_progress
from pas.portfolio.trading.reconcile import Difference, reconcile_ledgers
from pas.portfolio.trading.sync import sync_fills
from pas.store.base import Store

POLL_INTERVAL_SEC = 1.0  # default seconds between fill polls (FILL_POLL_SEC)
# The longest pause between look-ups of orders in doubt while nothing else is pending.
MAX_LOOKUP_PAUSE_SEC = 30.0

Sleep = Callable[[float], None]
AfterSubmit = Callable[[TradeOrder, Order], None]
# Called with the broker account before any order is sent (the circuit breaker observes
# its equity there); raising refuses the run.
AccountGuard = Callable[[Account], None]


@dataclass
class RebalanceOutcome:
    """What a rebalance planned, sent and recorded."""

    run_id: str
    plans: list[Plan]
    orders: list[TradeOrder]
    dry_run: bool = False
    resumed: bool = False
    fills_recorded: int = 0
    timed_out: bool = False
    notes: list[str] = field(default_factory=list)
    transfers: dict[str, Decimal] = field(default_factory=dict)
    """Allocation transfers the run recorded (dollars per portfolio)."""
    forced: list[Difference] = field(default_factory=list)


@dataclass(frozen=True)
class _Hooks:
    """What a run calls back: after each accepted order, on the account, to keep its
    lock, and with its progress after each poll."""

    after_submit: AfterSubmit | None
    guard: AccountGuard | None
    renew: Callable[[], None]
    progress: Progress | None


def run_rebalance(
    store: Store,
    broker: Broker,
    portfolios: Sequence[Portfolio],
    limits: TradingLimits,
    *,
    run_id: str,
    dry_run: bool = False,
    queue: bool = False,
    timeout_sec: float = 60.0,
    poll_sec: float = POLL_INTERVAL_SEC,
    sleep: Sleep,
    owner: str | None = None,
    after_submit: AfterSubmit | None = None,
    guard: AccountGuard | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> RebalanceOutcome:
    """Rebalances portfolios at a broker, after settling what earlier runs left in flight.

    Args:
        run_id: the id of the new run. A run that died while sending is not continued:
            its in-flight orders are settled, its unsent ones dropped, and this run plans
            afresh (see :func:`pas.portfolio.trading.inflight.close_unfinished`).
        dry_run: plan and check only; nothing is stored or sent.
        queue: send even while the market is closed (the orders wait for the open).
        timeout_sec: how long to wait for fills; later ones are recorded by :func:`sync`.
            Orders still open then are left open at the broker (a market day order
            normally fills within seconds; cancelling would throw away a fill in flight)
            and listed in the outcome; the next rebalance refuses to plan until they settle.
        poll_sec: seconds between two polls of the order states and fills.
        sleep: waits between polls (injected so tests do not sleep).
        owner: the lock owner (default: this host and process).
        after_submit: called after each order is accepted (a fault-injection seam).
        guard: called with the broker account before any order is sent, in a dry run
            too (see :data:`AccountGuard`).
        force: trade although the ledgers and the broker's positions still differ for
            the symbols of the plan after a sync (see :func:`_reconciled_plan`); the
            differences are kept in the outcome (``forced``) and its notes.
        progress: called with the run's state after each poll while waiting for fills.

    Raises:
        LockHeldError: another trading run is going on.
        LockLostError: another run took the lock over after this run's lease expired;
            this run stopped before sending or waiting more.
        RefusedError: a pre-trade check failed, an earlier order is open or in doubt, or
            the ledgers differ from the broker for the plan's symbols; nothing was sent.
        InputError: a portfolio cannot be planned (no targets, capital or price), or is
            bound to another broker.
    """
    check_bound(portfolios, broker.name)
    portfolios = sorted(portfolios, key=lambda p: p.id)  # the result never depends on their order
    if dry_run:
        plans, fractionable = plan_portfolios(store, broker, portfolios, limits)
        orders = net_orders(run_id, [o for p in plans for o in p.orders], fractionable)
        others = Decimal(0) if limits.allow_margin else other_books_equity(store, broker.name, portfolios)
        _check_account(broker, True, guard, (plans, orders, limits, others))
        check_limits(plans, orders, _holdings(store, plans), limits)
        return RebalanceOutcome(run_id, plans, orders, dry_run=True)

    owner = owner or lock_owner_name()
    ttl = timeout_sec + LOCK_SLACK_SEC
    taken_over = takeover_note(acquire_trading_lock(store, owner, ttl))
    try:
        hooks = _Hooks(after_submit, guard, lambda: renew_trading_lock(store, owner, ttl), progress)
        outcome = _run(store, broker, portfolios, limits, run_id, queue, force, hooks)
        if taken_over:
            outcome.notes.insert(0, taken_over)
        _wait(store, broker, outcome, timeout_sec, poll_sec, sleep, hooks)
        return outcome
    finally:
        store.release_lock(LOCK_NAME, owner)


def _wait(
    store: Store,
    broker: Broker,
    outcome: RebalanceOutcome,
    timeout_sec: float,
    poll_sec: float,
    sleep: Sleep,
    hooks: _Hooks,
) -> None:
    """Polls until every order settles or the timeout passes, renewing the lock each time.

    Orders in doubt are looked up at each poll; while only such orders remain the pause
    doubles (up to :data:`MAX_LOOKUP_PAUSE_SEC`), so a broker that is down is asked
    less and less often. The wait ends at the deadline or once the injected sleep has
    slept the timeout, whichever is first: a test's sleep that returns at once then
    polls a fixed number of times instead of spinning until the real clock passes it.
    """
    deadline = store.clock() + timedelta(seconds=timeout_sec)
    waited = 0.0
    pause = poll_sec
    pending = outcome.orders
    while True:
        recorded, pending = settle_in_flight(store, broker, pending)
        outcome.fills_recorded += recorded
        if hooks.progress is not None:
            hooks.progress(run_progress(store, outcome.run_id))
        if not pending or store.clock() >= deadline or waited >= timeout_sec:
            break
        only_doubt = all(o.status is TradeOrderStatus.UNKNOWN for o in pending)
        pause = min(pause * 2, MAX_LOOKUP_PAUSE_SEC) if only_doubt else poll_sec
        sleep(pause)
        waited += pause
        hooks.renew()
    outcome.timed_out = any(o.status is not TradeOrderStatus.UNKNOWN for o in pending)
    outcome.orders = store.trade_orders(outcome.run_id)
    outcome.notes.extend(status_warnings(outcome.orders))
    if not pending:
        store.set_trade_run_status(outcome.run_id, TradeRunStatus.DONE)


def _run(
    store: Store,
    broker: Broker,
    portfolios: Sequence[Portfolio],
    limits: TradingLimits,
    run_id: str,
    queue: bool,
    force: bool,
    hooks: _Hooks,
) -> RebalanceOutcome:
    """Closes a run a dead process left, settles earlier runs, plans, checks and sends.

    The lock is renewed before each order is sent (each request may wait through the
    broker's retries; see :data:`pas.portfolio.trading.lock.LOCK_SLACK_SEC`).
    """
    notes = []
    while (unfinished := store.unfinished_trade_run(broker.name)) is not None:
        notes.append(close_unfinished(store, unfinished, store.clock()))
    _settle_earlier_runs(store, broker)
    transfers: dict[str, Decimal] = {}
    plans, orders, forced = _reconciled_plan(store, broker, portfolios, limits, run_id, transfers, force)
    others = Decimal(0) if limits.allow_margin else other_books_equity(store, broker.name, portfolios)
    caps = _check_account(broker, queue, hooks.guard, (plans, orders, limits, others))
    check_limits(plans, orders, _holdings(store, plans), limits)
    record_transfers(store, run_id, transfers)
    run = TradeRun(run_id, store.clock(), broker.name, tuple(p.id for p in portfolios))
    store.create_trade_run(run, orders)
    outcome = RebalanceOutcome(
        run_id, plans, orders, resumed=bool(notes), notes=notes, forced=forced, transfers=transfers
    )
    if forced:
        notes.append(f"--force: traded although the ledgers differ from the broker for {_named(forced)}")
    _book_crosses(store, outcome.orders)
    for order in outcome.orders:
        if order.status is TradeOrderStatus.PLANNED:
            hooks.renew()
            note = _submit(
                store,
                broker,
                order,
                order_request(order, limits, caps.get(order.client_order_id)),
                hooks.after_submit,
            )
            if note:
                outcome.notes.append(note)
    store.set_trade_run_status(outcome.run_id, TradeRunStatus.SUBMITTED)
    outcome.orders = store.trade_orders(outcome.run_id)
    return outcome


def _reconciled_plan(
    store: Store,
    broker: Broker,
    portfolios: Sequence[Portfolio],
    limits: TradingLimits,
    run_id: str,
    transfers: dict[str, Decimal],
    force: bool,
) -> tuple[list[Plan], list[TradeOrder], list[Difference]]:
    """Plans, after checking the ledgers against the broker for the symbols it trades.

    A difference (a late fill not synced yet, a trade by hand) would size the plan on
    holdings that are not there: pas syncs and plans again, and if the symbols still
    differ it refuses, unless ``force``.

    Returns:
        (the plans, the netted orders, the differences traded over with ``force``).

    Raises:
        RefusedError: the ledgers and the broker still differ after a sync.
    """
    synced = False
    while True:
        transfers.clear()
        plans, fractionable = plan_portfolios(store, broker, portfolios, limits, transfers)
        orders = net_orders(run_id, [o for p in plans for o in p.orders], fractionable)
        symbols = {o.symbol for o in orders}
        diffs = reconcile_ledgers(store, broker, symbols=symbols)[1] if symbols else []
        if not diffs:
            return plans, orders, []
        if synced:
            break
        sync_fills(store, broker)
        synced = True
    if not force:
        raise RefusedError(
            f"the ledgers differ from the broker's positions for {_named(diffs)} even after a sync; "
            "see `pas reconcile`, fix the ledgers, or pass --force to trade anyway"
        )
    return plans, orders, diffs


def _named(diffs: Sequence[Difference]) -> str:
    return ", ".join(f"{d.symbol} (ledgers {d.ledgers}, broker {d.broker})" for d in diffs)


def _holdings(store: Store, plans: Sequence[Plan]) -> dict[str, dict[str, Decimal]]:
    return {p.portfolio: store.holdings(p.portfolio) for p in plans}


def _check_account(
    broker: Broker,
    queue: bool,
    guard: AccountGuard | None = None,
    planned: tuple[Sequence[Plan], Sequence[TradeOrder], TradingLimits, Decimal] | None = None,
) -> dict[str, Decimal]:
    """Refuses to trade when the guard refuses (the circuit breaker), on a blocked account,
    when the ``planned`` orders would borrow (:func:`check_buying_power`) or not fit the
    buying power as they are sent (:func:`buy_limit_caps`), or while the market is closed
    (unless ``queue``).

    Returns:
        The limit each buy is lowered to (see :func:`buy_limit_caps`).
    """
    caps: dict[str, Decimal] = {}
    account = broker.account()
    if guard is not None:
        guard(account)
    if account.blocked:
        raise RefusedError("the broker account is blocked from trading; resolve it with the broker first")
    if planned is not None:
        check_buying_power(account, *planned)
        caps = buy_limit_caps(account, planned[1], planned[2])
    if not queue:
        clock = broker.clock()
        if not clock.is_open:
            raise RefusedError(
                f"the market is closed (it opens {clock.next_open:%Y-%m-%d %H:%M} UTC); "
                "run again then, or pass --queue to send the orders now"
            )
    return caps


def _settle_earlier_runs(store: Store, broker: Broker) -> None:
    """Records what earlier runs left; refuses to plan over orders open or in doubt.

    Raises:
        RefusedError: an earlier order is still open at the broker, or its fate is
            unknown (the look-ups did not settle it): a new plan could buy it again.
    """
    unsettled = store.trade_orders(unsettled=True, broker=broker.name)
    if not unsettled:
        return
    _, pending = settle_in_flight(store, broker, unsettled)
    finish_runs(store, unsettled, pending)
    unknown = [o for o in pending if o.status is TradeOrderStatus.UNKNOWN]
    if unknown:
        raise RefusedError(
            f"{len(unknown)} order(s) of run {unknown[0].run_id} have an unknown fate at the broker "
            f"({unknown[0].symbol}: {unknown[0].error}); no new plan until they are found or proven "
            "absent: run `pas sync` later, or check the broker's orders"
        )
    if pending:
        raise RefusedError(
            f"{len(pending)} order(s) of run {pending[0].run_id} are still open at the broker; "
            "wait for them and run `pas sync`, or cancel them at the broker"
        )


def _book_crosses(store: Store, orders: Iterable[TradeOrder]) -> None:
    """Records the internal crosses of a run (idempotent by fill id)."""
    now = store.clock()
    fills = [
        Fill(
            portfolio=portfolio,
            symbol=o.symbol,
            side=Side.BUY if units > 0 else Side.SELL,
            qty=from_units(abs(units)),
            price=o.ref_price,
            ts=now,
            fill_id=f"{o.client_order_id}/cross/{portfolio}",
            client_order_id=o.client_order_id,
            run_id=o.run_id,
        )
        for o in orders
        for portfolio, units in o.crosses
    ]
    if fills:
        store.append_fills(fills)


def _submit(
    store: Store, broker: Broker, order: TradeOrder, request: OrderRequest, after_submit: AfterSubmit | None
) -> str:
    """Sends one planned order; returns a note when it failed or its fate is unknown.

    It is marked ``sending`` (with the time) before its request. Only a refusal by the
    broker makes it ``failed``; a request whose answer was lost makes it ``unknown``.
    """
    coid = order.client_order_id
    sent_at = store.clock()
    store.update_trade_order(coid, TradeOrderStatus.SENDING, sent_at=sent_at)
    try:
        placed = broker.submit_order(request)
    except OrderRejected as exc:
        if exc.reason != "duplicate":
            store.update_trade_order(coid, TradeOrderStatus.FAILED, error=str(exc))
            return f"{order.side.value} {order.symbol} failed: {exc}"
        return _looked_up(store, broker, order, sent_at)
    except OrderOutcomeUnknown as exc:
        store.update_trade_order(coid, TradeOrderStatus.UNKNOWN, error=str(exc))
        return f"{order.side.value} {order.symbol}: {exc}"
    except PasError:
        # Not a refusal pas recognises (the Sim broker's duplicate, say): look it up.
        return _looked_up(store, broker, order, sent_at)
    if after_submit is not None:
        after_submit(order, placed)
    store.update_trade_order(
        coid, TradeOrderStatus.SENT, broker_order_id=placed.id, broker_status=placed.status_name
    )
    return ""


def _looked_up(store: Store, broker: Broker, order: TradeOrder, sent_at: datetime) -> str:
    """Looks up an order whose request was refused in a way that leaves its fate open;
    returns a note unless it was found."""
    (resolved,) = resolve(store, broker, [replace(order, status=TradeOrderStatus.SENDING, sent_at=sent_at)])
    if resolved.status is TradeOrderStatus.SENT:
        return ""
    return f"{resolved.side.value} {resolved.symbol}: {resolved.error}"
