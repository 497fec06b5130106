"""A trading run: plan, check, persist, submit, wait for fills; or resume an unfinished run."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
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
from pas.portfolio.netting import net_orders
from pas.portfolio.rebalance import Plan
from pas.portfolio.trading.limits import TradingLimits, check_limits, shares
from pas.portfolio.trading.lock import LOCK_NAME, LOCK_SLACK_SEC, acquire_trading_lock, lock_owner_name
from pas.portfolio.trading.plan import plan_portfolios, record_transfers
from pas.portfolio.trading.progress import Progress, run_progress
from pas.portfolio.trading.settle import settle
from pas.store.base import Store

POLL_INTERVAL_SEC = 1.0  # default seconds between fill polls (FILL_POLL_SEC)

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
    progress: Progress | None = None,
) -> RebalanceOutcome:
    """Rebalances portfolios at a broker, or resumes a run that did not finish sending.

    Args:
        run_id: the id of a new run (unused when an unfinished run is resumed).
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
        progress: called with the run's state after each poll while waiting for fills.

    Raises:
        LockHeldError: another trading run is going on.
        RefusedError: a pre-trade check failed; nothing was sent.
        InputError: a portfolio cannot be planned (no targets, capital or price).
    """
    if dry_run:
        plans, fractionable = plan_portfolios(store, broker, portfolios, limits)
        orders = net_orders(run_id, [o for p in plans for o in p.orders], fractionable)
        _check_account(broker, True, orders, guard)
        check_limits(plans, orders, _holdings(store, plans), limits)
        return RebalanceOutcome(run_id, plans, orders, dry_run=True)

    owner = owner or lock_owner_name()
    ttl = timeout_sec + LOCK_SLACK_SEC
    acquire_trading_lock(store, owner, ttl)
    try:
        outcome = _run(store, broker, portfolios, limits, run_id, queue, after_submit, guard)
        # The wait ends at the deadline or once the injected sleep has slept the timeout,
        # whichever is first: a test's sleep that returns at once then polls a fixed number
        # of times instead of spinning until the real clock passes the deadline.
        deadline = store.clock() + timedelta(seconds=timeout_sec)
        waited = 0.0
        pending = outcome.orders
        while True:
            recorded, pending = settle(store, broker, pending)
            outcome.fills_recorded += recorded
            if progress is not None:
                progress(run_progress(store, outcome.run_id))
            if not pending or store.clock() >= deadline or waited >= timeout_sec:
                break
            sleep(poll_sec)
            waited += poll_sec
            store.acquire_lock(LOCK_NAME, owner, ttl)
        outcome.timed_out = bool(pending)
        outcome.orders = store.trade_orders(outcome.run_id)
        if not pending:
            store.set_trade_run_status(outcome.run_id, TradeRunStatus.DONE)
        return outcome
    finally:
        store.release_lock(LOCK_NAME, owner)


def _run(
    store: Store,
    broker: Broker,
    portfolios: Sequence[Portfolio],
    limits: TradingLimits,
    run_id: str,
    queue: bool,
    after_submit: AfterSubmit | None,
    guard: AccountGuard | None,
) -> RebalanceOutcome:
    unfinished = store.unfinished_trade_run()
    if unfinished is not None:
        _check_account(broker, queue, guard=guard)
        outcome = RebalanceOutcome(unfinished.run_id, [], store.trade_orders(unfinished.run_id), resumed=True)
        outcome.notes.append(
            f"resumed unfinished run {unfinished.run_id} ({', '.join(unfinished.portfolios)}); "
            "run again for a new plan"
        )
    else:
        _settle_earlier_runs(store, broker)
        transfers: dict[str, Decimal] = {}
        plans, fractionable = plan_portfolios(store, broker, portfolios, limits, transfers)
        orders = net_orders(run_id, [o for p in plans for o in p.orders], fractionable)
        _check_account(broker, queue, orders, guard)
        check_limits(plans, orders, _holdings(store, plans), limits)
        record_transfers(store, run_id, transfers)
        run = TradeRun(run_id, store.clock(), broker.name, tuple(p.id for p in portfolios))
        store.create_trade_run(run, orders)
        outcome = RebalanceOutcome(run_id, plans, orders)
    _book_crosses(store, outcome.orders)
    for order in outcome.orders:
        if order.status in (TradeOrderStatus.PLANNED, TradeOrderStatus.SENDING):
            note = _submit(store, broker, order, after_submit)
            if note:
                outcome.notes.append(note)
    store.set_trade_run_status(outcome.run_id, TradeRunStatus.SUBMITTED)
    outcome.orders = store.trade_orders(outcome.run_id)
    return outcome


def _holdings(store: Store, plans: Sequence[Plan]) -> dict[str, dict[str, Decimal]]:
    return {p.portfolio: store.holdings(p.portfolio) for p in plans}


def _check_account(
    broker: Broker, queue: bool, orders: Sequence[TradeOrder] = (), guard: AccountGuard | None = None
) -> None:
    """Refuses to trade when the guard refuses (the circuit breaker), on a blocked account,
    without the buying power the orders need (buys less sells, at the plan's prices), or
    while the market is closed (unless ``queue``)."""
    account = broker.account()
    if guard is not None:
        guard(account)
    if account.blocked:
        raise RefusedError("the broker account is blocked from trading; resolve it with the broker first")
    signed = (shares(o.qty) * o.ref_price * (1 if o.side is Side.BUY else -1) for o in orders)
    need = sum(signed, Decimal(0))
    if need > account.buying_power:
        raise RefusedError(
            f"the orders need about ${need:,.2f} of buying power but the account has "
            f"${account.buying_power:,.2f}; deposit at the broker or lower the portfolios' capital"
        )
    if not queue:
        clock = broker.clock()
        if not clock.is_open:
            raise RefusedError(
                f"the market is closed (it opens {clock.next_open:%Y-%m-%d %H:%M} UTC); "
                "run again then, or pass --queue to send the orders now"
            )


def _settle_earlier_runs(store: Store, broker: Broker) -> None:
    """Records what earlier runs left; refuses to plan over orders still open."""
    unsettled = store.trade_orders(unsettled=True)
    if not unsettled:
        return
    _, still_open = settle(store, broker, unsettled)
    if still_open:
        raise RefusedError(
            f"{len(still_open)} order(s) of run {still_open[0].run_id} are still open at the broker; "
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


def _lookup(broker: Broker, client_order_id: str) -> Order | None:
    try:
        return broker.order_by_client_id(client_order_id)
    except PasError:
        return None


def _submit(store: Store, broker: Broker, order: TradeOrder, after_submit: AfterSubmit | None) -> str:
    """Sends one order unless the broker has it already; returns a note when it failed."""
    placed = _lookup(broker, order.client_order_id) if order.status is TradeOrderStatus.SENDING else None
    if placed is None:
        store.update_trade_order(order.client_order_id, TradeOrderStatus.SENDING)
        request = OrderRequest(order.symbol, order.side, shares(order.qty), order.client_order_id)
        try:
            placed = broker.submit_order(request)
        except PasError as exc:
            placed = _lookup(broker, order.client_order_id)
            if placed is None:
                store.update_trade_order(order.client_order_id, TradeOrderStatus.FAILED, error=str(exc))
                return f"{order.side.value} {order.symbol} failed: {exc}"
        if after_submit is not None:
            after_submit(order, placed)
    store.update_trade_order(
        order.client_order_id,
        TradeOrderStatus.SENT,
        broker_order_id=placed.id,
        broker_status=placed.status.value,
    )
    return ""
