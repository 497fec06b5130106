"""Trading runs: plan, check, persist, submit, wait, record; plus sync and reconcile.

Crash safety rests on three facts:

1. A run and its netted orders are stored before any order is sent, and each order is
   marked ``sending`` before its request. A run that did not finish sending is resumed by
   the next ``pas rebalance`` instead of a new plan.
2. Client order ids are deterministic (run, portfolio or netting tag, symbol), and an
   order marked ``sending`` — or whose submit raised — is looked up by its client order id
   before anything is sent, so no order goes out twice.
3. Ledger fills have deterministic ids (``<broker fill id>/<portfolio>``), so recording a
   fill again is a no-op; ``pas sync`` picks up whatever a run did not wait for.

Only one trading run at a time holds the ``trading`` lock; the lock of a process that
died on this host is taken over at once (a dead holder on another host waits for its
time-to-live).
"""

from __future__ import annotations

import os
import socket
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal

from pas.errors import InputError, LockHeldError, PasError, RefusedError
from pas.models import (
    UNITS_PER_ONE,
    CashFlow,
    Fill,
    Portfolio,
    Price,
    Side,
    TradeOrder,
    TradeOrderStatus,
    TradeRun,
    TradeRunStatus,
    from_units,
    parse_ts,
    to_units,
)
from pas.portfolio.account import PortfolioAccount, portfolio_account
from pas.portfolio.broker.base import Account, Asset, Broker, BrokerFill, Order, OrderRequest
from pas.portfolio.ledger import build_book
from pas.portfolio.netting import net_orders, split_units
from pas.portfolio.progress import Progress, run_progress
from pas.portfolio.rebalance import Plan, PlanRules, plan_rebalance
from pas.schedule import market_day
from pas.store.base import Store

LOCK_NAME = "trading"
# The lock outlives the fill wait by this much; it is renewed at every poll.
LOCK_SLACK_SEC = 300.0
POLL_INTERVAL_SEC = 1.0  # default seconds between fill polls (FILL_POLL_SEC)
# Fills are fetched from this long before a run started (clock skew with the broker).
FILL_LOOKBACK = timedelta(minutes=5)
# `pas sync` re-reads fills this long before its cursor: a broker may stamp a fill that
# reaches it late with an earlier time; re-reading is free (fills are keyed by id).
SYNC_OVERLAP = timedelta(minutes=5)
DEFAULT_RECONCILE_TOLERANCE = Decimal("0.000001")

Sleep = Callable[[float], None]
AfterSubmit = Callable[[TradeOrder, Order], None]
# Called with the broker account before any order is sent (the circuit breaker observes
# its equity there); raising refuses the run.
AccountGuard = Callable[[Account], None]


@dataclass(frozen=True)
class TradingLimits:
    """Plan rules plus the pre-trade risk limits (dollars, fractions of equity)."""

    rules: PlanRules = field(default_factory=PlanRules)
    max_order_notional: Decimal = Decimal(100_000)
    max_position_weight: Decimal = Decimal("0.5")


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


def shares(units: int) -> Decimal:
    """Nano units as shares without an exponent (``600``, not ``6E+2``), as the wire needs."""
    qty = from_units(units)
    return qty.quantize(Decimal(1)) if qty == qty.to_integral_value() else qty


# -- locking ---------------------------------------------------------------------------
def lock_owner_name() -> str:
    """This process as a lock owner: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _dead_here(owner: str) -> bool:
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def acquire_trading_lock(store: Store, owner: str, ttl_sec: float) -> None:
    """Takes the ``trading`` lock, taking it over from a dead process on this host.

    Raises:
        LockHeldError: another live run holds it.
    """
    if store.acquire_lock(LOCK_NAME, owner, ttl_sec):
        return
    holder = store.lock_owner(LOCK_NAME)
    if holder and _dead_here(holder):
        store.release_lock(LOCK_NAME, holder)  # only if that dead process still holds it
        if store.acquire_lock(LOCK_NAME, owner, ttl_sec):
            return
    raise LockHeldError(
        f"another trading run ({holder or 'unknown'}) holds the trading lock; "
        "wait for it to finish and run again"
    )


# -- planning --------------------------------------------------------------------------
def portfolio_cash(account: PortfolioAccount) -> Decimal:
    """A portfolio's cash in dollars, by the one account model.

    Raises:
        InputError: the portfolio has neither capital nor cash flows.
    """
    if account.cash is None:
        raise InputError(
            f"portfolio {account.portfolio} has no capital; give it some with "
            f"`pas portfolio fund {account.portfolio} AMOUNT`"
        )
    return account.cash


def allocated_capital(store: Store, broker: Broker, portfolios: Sequence[Portfolio]) -> dict[str, Decimal]:
    """Dollars the latest applied allocation gives each portfolio it names.

    A portfolio's capital is account equity × exposure × its relative weight; this takes
    precedence over the portfolio's own capital and cash flows. Portfolios the allocation
    does not name (or every portfolio, when none was applied) are left out, and keep
    their own capital. The account is asked for its equity only when needed.
    """
    allocation = store.latest_allocation()
    if allocation is None or not any(p.id in allocation.weights for p in portfolios):
        return {}
    equity = broker.account().equity
    found = {p.id: allocation.capital(p.id, equity) for p in portfolios}
    return {pid: capital for pid, capital in found.items() if capital is not None}


def plan_portfolios(
    store: Store,
    broker: Broker,
    portfolios: Sequence[Portfolio],
    limits: TradingLimits,
    transfers: dict[str, Decimal] | None = None,
) -> tuple[list[Plan], dict[str, bool]]:
    """Plans every portfolio against the broker's prices and asset facts.

    A portfolio's equity is its allocated capital when an applied allocation names it
    (:func:`allocated_capital`), else its own capital plus cash flows plus P&L.

    Args:
        transfers: filled with the dollars each allocated portfolio must receive (or give,
            when negative) for its ledger equity to equal its allocated capital. The caller
            records them as cash flows when it trades, so that money moved between
            portfolios by the allocation is never counted as a portfolio's return.

    Returns:
        The plans, and per ordered symbol whether it is fractionable.

    Raises:
        InputError: a portfolio has no targets, no capital or a symbol has no price.
        RefusedError: a symbol is not tradable.
    """
    if transfers is None:
        transfers = {}
    books, targets = {}, {}
    for p in portfolios:
        weights = store.current_weights(p.id)
        if weights is None:
            raise InputError(
                f"portfolio {p.id} has no target weights; set them with "
                f"`pas portfolio set-weights {p.id} SYMBOL=WEIGHT...`"
            )
        targets[p.id] = weights.weights
        books[p.id] = build_book(store.ledger(p.id))
    symbols = sorted(
        {s for b in books.values() for s in b.positions} | {s for t in targets.values() for s in t}
    )
    prices = broker.latest_prices(symbols)
    today = market_day(store.clock())  # the broker's prices are today's
    quoted = {s: Price(s, today, price) for s, price in prices.items()}
    accounts = {p.id: portfolio_account(p, store.cash_flows(p.id), books[p.id], quoted) for p in portfolios}
    cash = {}
    allocated = allocated_capital(store, broker, portfolios)
    for p in portfolios:
        capital = allocated.get(p.id)
        if capital is None:
            cash[p.id] = portfolio_cash(accounts[p.id])
            continue
        # Sized by the applied allocation: equity (cash + holdings) is the allocated capital.
        held = sum(accounts[p.id].values.values(), Decimal(0))
        cash[p.id] = capital - held if capital > 0 else Decimal(0)
        ledger_equity = (accounts[p.id].cash or Decimal(0)) + held
        moved = (max(capital, Decimal(0)) - ledger_equity).quantize(Decimal("0.01"))
        if moved:
            transfers[p.id] = moved
        if capital <= 0:
            targets[p.id] = {}  # no capital: close every position
    # Asset facts are looked up only for symbols that end up ordered, once each: plan with
    # what is known (unknown symbols as fractionable, which orders at least as much as
    # whole shares would), look up the ordered symbols still unknown, and plan again until
    # every ordered symbol is known. Usually two passes; each pass is pure and fast.
    assets: dict[str, Asset] = {}
    while True:
        fractionable = {s: assets[s].fractionable if s in assets else True for s in symbols}
        plans = [
            plan_rebalance(
                p.id,
                {s: pos.qty for s, pos in books[p.id].positions.items()},
                targets[p.id],
                prices,
                cash[p.id],
                fractionable,
                limits.rules,
            )
            if books[p.id].positions or allocated.get(p.id, 1) > 0
            else Plan(p.id, Decimal(0), Decimal(0))
            for p in portfolios
        ]
        ordered = sorted({o.symbol for plan in plans for o in plan.orders})
        unknown = [s for s in ordered if s not in assets]
        if not unknown:
            break
        assets.update((s, broker.asset(s)) for s in unknown)
    untradable = [s for s in ordered if not assets[s].tradable and any(targets[p].get(s) for p in targets)]
    if untradable:
        raise RefusedError(
            f"{', '.join(untradable)} cannot be traded at the broker; remove them from the targets"
        )
    fractionable = {s: assets[s].fractionable for s in ordered}
    return plans, fractionable


def _record_transfers(store: Store, run_id: str, transfers: dict[str, Decimal]) -> None:
    """Records allocation transfers as cash flows, once per run and portfolio (the flow id
    is derived from both, so a resumed or repeated call adds nothing)."""
    when = store.clock()
    for pid, amount in sorted(transfers.items()):
        store.add_cash_flow(CashFlow(pid, amount, when, f"alloc-{run_id}-{pid}", note="allocation"))


def check_limits(
    plans: Sequence[Plan],
    orders: Sequence[TradeOrder],
    holdings: dict[str, dict[str, Decimal]],
    limits: TradingLimits,
) -> None:
    """Refuses a plan that breaks a pre-trade limit.

    Raises:
        RefusedError: a broker order above ``MAX_ORDER_NOTIONAL`` or a resulting position
            above ``MAX_POSITION_WEIGHT`` of its portfolio.
    """
    for o in orders:
        notional = shares(o.qty) * o.ref_price
        if notional > limits.max_order_notional:
            raise RefusedError(
                f"the order to {o.side.value} {shares(o.qty)} {o.symbol} (about ${notional:,.2f}) "
                f"is above MAX_ORDER_NOTIONAL (${limits.max_order_notional:,.2f}); "
                "raise it or rebalance in steps"
            )
    for plan in plans:
        held = holdings.get(plan.portfolio, {})
        for po in plan.orders:
            if po.side is not Side.BUY:
                continue
            weight = (held.get(po.symbol, Decimal(0)) + po.qty) * po.price / plan.equity
            if weight > limits.max_position_weight:
                raise RefusedError(
                    f"portfolio {plan.portfolio} would hold {weight * 100:.1f}% in {po.symbol}, above "
                    f"MAX_POSITION_WEIGHT ({limits.max_position_weight * 100:.1f}%); lower its target weight"
                )


# -- the run ---------------------------------------------------------------------------
def rebalance(
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
        _record_transfers(store, run_id, transfers)
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


# -- fills -----------------------------------------------------------------------------
def run_started(run_id: str) -> datetime:
    """When a run started, read from its id (see :func:`pas.models.new_run_id`)."""
    stamp = run_id[:12]
    return parse_ts(f"20{stamp[0:2]}-{stamp[2:4]}-{stamp[4:6]}T{stamp[6:8]}:{stamp[8:10]}:{stamp[10:12]}Z")


def split_fill(order: TradeOrder, fill: BrokerFill, received: dict[str, int]) -> list[Fill]:
    """A broker fill of a netted order as ledger fills, one per portfolio with a share.

    Splits by what each portfolio still lacks of its ask (see :mod:`pas.portfolio.netting`);
    ``received`` (nano units per portfolio) is updated.
    """
    units = to_units(fill.qty)
    remaining = {p: ask - received.get(p, 0) for p, ask in order.shares}
    lot = UNITS_PER_ONE if not order.fractionable else 1
    if units % lot or any(r % lot for r in remaining.values()):
        lot = 1
    if units > sum(remaining.values()):
        raise PasError(
            f"broker fill {fill.id} of {fill.qty} {fill.symbol} is more than order "
            f"{order.client_order_id} has left; check the order at the broker"
        )
    shares = split_units(units, remaining, lot)
    commission = to_units(fill.commission)
    fees = split_units(commission, shares) if commission else {}
    out = []
    for portfolio, share in sorted(shares.items()):
        if not share:
            continue
        received[portfolio] = received.get(portfolio, 0) + share
        out.append(
            Fill(
                portfolio=portfolio,
                symbol=fill.symbol,
                side=fill.side,
                qty=from_units(share),
                price=fill.price,
                ts=fill.ts,
                fill_id=f"{fill.id}/{portfolio}",
                broker_order_id=fill.order_id,
                client_order_id=order.client_order_id,
                run_id=order.run_id,
                commission=from_units(fees.get(portfolio, 0)),
            )
        )
    return out


def record_order_fills(store: Store, order: TradeOrder, fills: Iterable[BrokerFill]) -> tuple[int, int]:
    """Records the fills of one broker order the ledger lacks.

    Returns:
        (new ledger fills, nano units of the order now recorded).
    """
    existing = store.fills_of_order(order.broker_order_id)
    seen = {f.fill_id.rsplit("/", 1)[0] for f in existing}
    received: dict[str, int] = defaultdict(int)
    for f in existing:
        received[f.portfolio] += to_units(f.qty)
    new = 0
    for fill in sorted(fills, key=lambda f: (f.ts, f.id)):
        if fill.id in seen:
            continue
        new += store.append_fills(split_fill(order, fill, received))
        seen.add(fill.id)
    return new, sum(received.values())


def settle(
    store: Store,
    broker: Broker,
    orders: Sequence[TradeOrder],
    fills: Sequence[BrokerFill] | None = None,
) -> tuple[int, list[TradeOrder]]:
    """Refreshes sent orders and records their new fills.

    An order is settled once the broker reports it terminal and all of its filled
    quantity is in the ledger.

    Args:
        fills: broker fills already fetched from before the earliest order's run started
            (default: fetched here).

    Returns:
        (new ledger fills, the orders still unsettled).
    """
    sent = [
        o
        for o in orders
        if o.status in (TradeOrderStatus.SENT, TradeOrderStatus.SENDING) and o.broker_order_id
    ]
    if not sent:
        return 0, []
    since = min(run_started(o.run_id) for o in sent) - FILL_LOOKBACK
    states = _order_states(broker, sent, since)
    by_order: dict[str, list[BrokerFill]] = defaultdict(list)
    for fill in broker.fills(after=since) if fills is None else fills:
        by_order[fill.order_id].append(fill)
    new = 0
    pending = []
    for o in sent:
        state = states[o.broker_order_id]
        added, recorded = record_order_fills(store, o, by_order.get(o.broker_order_id, []))
        new += added
        done = state.status.terminal and recorded >= to_units(state.filled_qty)
        status = TradeOrderStatus.SETTLED if done else TradeOrderStatus.SENT
        store.update_trade_order(o.client_order_id, status, broker_status=state.status.value)
        if not done:
            pending.append(replace(o, status=status, broker_status=state.status.value))
    return new, pending


def _order_states(broker: Broker, sent: Sequence[TradeOrder], since: datetime) -> dict[str, Order]:
    """The broker's view of sent orders: one list request for several, one get per order
    the list missed (it holds at most one page of the newest orders)."""
    states: dict[str, Order] = {}
    if len(sent) > 1:
        wanted = {o.broker_order_id for o in sent}
        states = {o.id: o for o in broker.list_orders("all", after=since) if o.id in wanted}
    for o in sent:
        if o.broker_order_id not in states:
            states[o.broker_order_id] = broker.get_order(o.broker_order_id)
    return states


@dataclass(frozen=True)
class ForeignFill:
    """A broker fill of an order pas did not place (e.g. one placed by hand)."""

    fill: BrokerFill
    client_order_id: str


@dataclass(frozen=True)
class SyncOutcome:
    """What a sync found."""

    checked: int
    fills_recorded: int
    still_open: int
    foreign: tuple[ForeignFill, ...] = ()


def sync(store: Store, broker: Broker) -> SyncOutcome:
    """Pulls order states and the fills since the last sync; records what the ledger lacks.

    Fills are fetched from the sync cursor (the newest broker fill the previous sync saw)
    less :data:`SYNC_OVERLAP`, or from before the earliest unsettled order's run when that
    is older; recording is idempotent by fill id, so the overlap costs nothing but catches
    fills the broker stamped with a slightly earlier time. Fills of orders pas did not
    place are reported once (those newer than the cursor) and recorded into no portfolio.
    Without a cursor (the first sync) the look-back starts :data:`SYNC_OVERLAP` ago.
    """
    unsettled = store.trade_orders(unsettled=True)
    cursor = store.sync_cursor(broker.name)
    starts = [run_started(o.run_id) - FILL_LOOKBACK for o in unsettled]
    if cursor is not None:
        starts.append(cursor[0] - SYNC_OVERLAP)
    since = min(starts) if starts else store.clock() - SYNC_OVERLAP
    fills = broker.fills(after=since)
    new, pending = settle(store, broker, unsettled, fills)
    for run_id in {o.run_id for o in unsettled} - {o.run_id for o in pending}:
        store.set_trade_run_status(run_id, TradeRunStatus.DONE)
    foreign = _foreign_fills(store, broker, unsettled, fills, cursor)
    if fills:
        newest = max(fills, key=lambda f: (f.ts, f.id))
        if cursor is None or (newest.ts, newest.id) > cursor:
            store.save_sync_cursor(broker.name, newest.ts, newest.id)
    return SyncOutcome(len(unsettled), new, len(pending), foreign)


def _foreign_fills(
    store: Store,
    broker: Broker,
    unsettled: Sequence[TradeOrder],
    fills: Sequence[BrokerFill],
    cursor: tuple[datetime, str] | None,
) -> tuple[ForeignFill, ...]:
    ours = {o.broker_order_id for o in unsettled}
    mine = {o.client_order_id for o in unsettled}
    verdict: dict[str, str | None] = {}  # broker order id -> client order id when foreign
    out = []
    for fill in fills:
        if fill.order_id in ours or (cursor is not None and (fill.ts, fill.id) <= cursor):
            continue
        if fill.order_id not in verdict:
            # An order pas placed has its fills in a ledger once settled; one still being
            # sent (no broker id stored yet) is recognised by its client order id.
            if store.fills_of_order(fill.order_id):
                verdict[fill.order_id] = None
            else:
                coid = broker.get_order(fill.order_id).client_order_id
                verdict[fill.order_id] = None if coid in mine else coid
        foreign_coid = verdict[fill.order_id]
        if foreign_coid is not None:
            out.append(ForeignFill(fill, foreign_coid))
    return tuple(out)


# -- reconciliation --------------------------------------------------------------------
@dataclass(frozen=True)
class Difference:
    """A symbol whose ledgers and broker position disagree (shares)."""

    symbol: str
    ledgers: Decimal
    broker: Decimal

    @property
    def gap(self) -> Decimal:
        """Broker minus ledgers."""
        return self.broker - self.ledgers


def reconcile(
    store: Store, broker: Broker, tolerance: Decimal = DEFAULT_RECONCILE_TOLERANCE
) -> tuple[dict[str, Decimal], list[Difference]]:
    """Compares the sum of every portfolio's holdings with the broker's positions.

    Returns:
        (the summed ledgers per symbol, the differences above ``tolerance`` shares).
    """
    total: dict[str, Decimal] = defaultdict(Decimal)
    for p in store.list_portfolios():
        for symbol, qty in store.holdings(p.id).items():
            total[symbol] += qty
    held = {pos.symbol: pos.qty for pos in broker.positions()}
    diffs = [
        Difference(s, total.get(s, Decimal(0)), held.get(s, Decimal(0)))
        for s in sorted(set(total) | set(held))
        if abs(held.get(s, Decimal(0)) - total.get(s, Decimal(0))) > tolerance
    ]
    return dict(total), diffs
