"""``pas rebalance``, ``pas sync`` and ``pas reconcile``: trading the portfolios at a broker."""

from __future__ import annotations

import os
import time
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pas.commands._app import AppState, JsonOption, money, number, print_json, print_table, say, state
from pas.commands._waiting import interrupted_message, wait_display
from pas.errors import InputError, PasError, RefusedError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pas.models import Portfolio, TradeOrder
    from pas.portfolio.broker.base import Account, Broker, Order
    from pas.portfolio.trading import RebalanceOutcome

# Fault injection for the crash-and-resume test: exit the process abruptly right after
# the broker accepted this many orders (as a power cut or `kill -9` would).
FAULT_EXIT_ENV = "PAS_FAULT_EXIT_AFTER_SUBMITS"
FAULT_EXIT_CODE = 70
# Terminal broker states of an order that did not fill in full.
UNFINISHED = frozenset({"rejected", "expired", "canceled"})


def pause(seconds: float) -> None:
    """How trading commands wait: between fill polls and between broker retries.

    The one seam tests replace (``monkeypatch.setattr(trading, "pause", ...)``) so that no
    command test sleeps for real.
    """
    time.sleep(seconds)


def _pause(seconds: float) -> None:
    pause(seconds)  # looked up at call time, so a patched ``pause`` takes effect


class BrokerName(StrEnum):
    """Which broker a trading command talks to."""

    ALPACA = "alpaca"
    SIM = "sim"


BrokerOption = Annotated[
    BrokerName | None,
    typer.Option(
        "--broker",
        help="alpaca (REST, needs keys) or sim (embedded paper broker over stored prices). "
        "Default: PAS_BROKER, else alpaca.",
        show_default=False,
    ),
]


def chosen_broker(app_state: AppState, name: BrokerName | None) -> BrokerName:
    """``--broker`` when given, else the ``PAS_BROKER`` setting (environment or settings file)."""
    return BrokerName(app_state.settings.trading.broker) if name is None else name


def make_broker(app_state: AppState, name: BrokerName) -> Broker:
    """The chosen broker, built from settings."""
    settings = app_state.settings
    if name is BrokerName.SIM:
        from pas.portfolio.broker.sim import SimBroker

        return SimBroker(
            app_state.store,
            **settings.sim.costs(),
            cash=settings.sim.cash,
            market=settings.sim.market,
            max_stale_days=settings.data.price_max_stale_days,
        )
    from pas.portfolio.broker.alpaca import alpaca_from_settings

    broker: Broker = alpaca_from_settings(settings.alpaca, sleep=_pause)
    return broker


def _fault_hook() -> Any:
    raw = os.environ.get(FAULT_EXIT_ENV, "")
    if not raw.isdigit():
        return None
    limit, sent = int(raw), [0]

    def after_submit(order: TradeOrder, placed: Order) -> None:
        sent[0] += 1
        if sent[0] >= limit:
            os._exit(FAULT_EXIT_CODE)

    return after_submit


def rebalance(
    ctx: typer.Context,
    portfolio: Annotated[
        list[str] | None, typer.Option("--portfolio", "-p", help="Portfolio to rebalance (repeatable).")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Rebalance every portfolio with targets.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan; send nothing.")] = False,
    broker: BrokerOption = None,
    queue: Annotated[
        bool, typer.Option("--queue", help="Send even while the market is closed (orders wait for the open).")
    ] = False,
    timeout: Annotated[
        float | None,
        typer.Option(min=0, help="Seconds to wait for fills (default FILL_TIMEOUT_SEC, 60)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Trade portfolios to their target weights: plan, check, send, wait for fills, record.

    Orders of several portfolios are netted into one per symbol. A run that crashed while
    sending is resumed, never sent twice. Fills after the timeout are recorded by `pas sync`.

    Example: pas rebalance --all --broker sim --dry-run
    """
    app_state = state(ctx)
    if bool(portfolio) == all_:
        raise InputError("name the portfolios with --portfolio ID (repeatable) or pass --all")
    store = app_state.store
    if all_:
        chosen = [p for p in store.list_portfolios() if store.current_weights(p.id) is not None]
        if not chosen:
            say("no portfolio has target weights yet; set them with `pas portfolio set-weights`")
            return
    else:
        chosen = [app_state.portfolio(pid) for pid in dict.fromkeys(portfolio or [])]
    trade(app_state, chosen, broker, dry_run=dry_run, queue=queue, timeout=timeout, as_json=as_json)


def trade(
    app_state: AppState,
    chosen: Sequence[Portfolio],
    broker: BrokerName | None,
    *,
    dry_run: bool = False,
    queue: bool = False,
    timeout: float | None = None,
    as_json: bool = False,
) -> None:
    """Trades portfolios to their current targets as one recorded run, and shows the outcome.

    Shared by `pas rebalance` and `pas build` (which trades what it just built).

    Raises:
        PasError: an order failed (the run is recorded; re-running resumes it).
    """
    from pas.portfolio.trading import rebalance as run_rebalance
    from pas.risk.breaker import observe_equity, refusal_message, require_untripped

    store = app_state.store
    broker = chosen_broker(app_state, broker)
    gateway = make_broker(app_state, broker)
    wait = app_state.settings.trading.fill_timeout_sec if timeout is None else timeout
    details = {"portfolios": ",".join(p.id for p in chosen), "broker": broker.value, "dry_run": dry_run}
    breaker_limits = app_state.settings.breaker.limits()
    refusal: list[str] = []

    def guard(account: Account) -> None:
        # The circuit breaker sees the account's equity before any order is sent; a dry
        # run still shows its plan, marked refused, then exits 3 like a real run would.
        breaker = observe_equity(store, account.equity, store.clock(), breaker_limits)
        if dry_run and breaker.tripped:
            refusal.append(refusal_message(breaker))
        elif not dry_run:
            require_untripped(breaker)

    with app_state.run("rebalance", **details) as handle:
        with wait_display(as_json or dry_run) as display:
            try:
                outcome = run_rebalance(
                    store,
                    gateway,
                    list(chosen),
                    app_state.settings.trading.limits(),
                    run_id=handle.run_id,
                    dry_run=dry_run,
                    queue=queue,
                    timeout_sec=wait,
                    poll_sec=app_state.settings.trading.fill_poll_sec,
                    sleep=_pause,
                    after_submit=_fault_hook(),
                    guard=guard,
                    progress=display.update,
                )
            except KeyboardInterrupt:
                raise PasError(interrupted_message(store, display, handle.run_id)) from None
        handle.details.update(
            trade_run=outcome.run_id, orders=len(outcome.orders), fills=outcome.fills_recorded
        )
        _show(outcome, as_json, wait, refusal[0] if refusal else "")
        if refusal:
            raise RefusedError(refusal[0])
        failed = [o for o in outcome.orders if o.status.value == "failed"]
        if failed:
            raise PasError(
                f"{len(failed)} order(s) failed ({failed[0].symbol}: {failed[0].error}); "
                "fix the cause and run `pas rebalance` again"
            )
        ended = [o for o in outcome.orders if o.status.value == "settled" and o.broker_status in UNFINISHED]
        if ended:
            which = ", ".join(f"{o.symbol} {o.broker_status}" for o in ended)
            raise PasError(
                f"{len(ended)} order(s) ended at the broker before filling in full ({which}); "
                "what filled is recorded; run `pas rebalance` again to trade the rest"
            )


def _order_rows(orders: list[TradeOrder]) -> list[tuple[Any, ...]]:
    from pas.models import from_units

    rows = []
    for o in orders:
        crossed = sum(u for _, u in o.crosses if u > 0)
        rows.append(
            (
                o.symbol,
                o.side.value,
                number(from_units(o.qty)),
                number(from_units(crossed)) if crossed else "",
                ", ".join(p for p, _ in o.shares) or "",
                o.client_order_id,
                o.broker_status or o.status.value,
            )
        )
    return rows


def _show(outcome: RebalanceOutcome, as_json: bool, wait: float, refused: str = "") -> None:
    from pas.models import from_units

    if as_json:
        print_json(
            {
                "run_id": outcome.run_id,
                "dry_run": outcome.dry_run,
                "resumed": outcome.resumed,
                "plans": [
                    {
                        "portfolio": p.portfolio,
                        "equity": p.equity,
                        "cash": p.cash,
                        "cash_limited": p.cash_limited,
                        "orders": [
                            {
                                "symbol": o.symbol,
                                "side": o.side,
                                "qty": o.qty,
                                "price": o.price,
                                "notional": o.notional,
                                "reason": o.reason,
                            }
                            for o in p.orders
                        ],
                    }
                    for p in outcome.plans
                ],
                "orders": [_order_json(o) for o in outcome.orders],
                "fills_recorded": outcome.fills_recorded,
                "timed_out": outcome.timed_out,
                "notes": outcome.notes,
                "refused": refused or None,
            }
        )
        return
    for note in outcome.notes:
        say(note)
    rows = [
        (o.portfolio, o.symbol, o.side.value, number(o.qty), money(o.notional), o.reason)
        for p in outcome.plans
        for o in p.orders
    ]
    if outcome.plans and not rows:
        say("nothing to trade: every portfolio is within its band")
        return
    if rows:
        dry = (
            " (dry run: nothing sent; refused by the circuit breaker)"
            if refused
            else " (dry run: nothing sent)"
        )
        print_table(
            "Plan" + (dry if outcome.dry_run else ""),
            ["portfolio", "symbol", "side", "quantity", "notional", "reason"],
            rows,
            right=["quantity", "notional"],
        )
    if outcome.dry_run:
        return
    print_table(
        f"Broker orders of run {outcome.run_id}",
        ["symbol", "side", "quantity", "crossed", "for", "client order id", "status"],
        _order_rows(outcome.orders),
        right=["quantity", "crossed"],
    )
    sent = sum(1 for o in outcome.orders if o.broker_order_id)
    say(f"run {outcome.run_id}: {sent} order(s) sent, {outcome.fills_recorded} fill(s) recorded")
    if outcome.timed_out:
        still = [o for o in outcome.orders if o.status.value in ("sent", "sending")]
        print_table(
            f"Still open at the broker after {wait:g} s (left open)",
            ["symbol", "side", "quantity", "client order id", "status"],
            [
                (o.symbol, o.side.value, number(from_units(o.qty)), o.client_order_id, o.broker_status or "")
                for o in still
            ],
            right=["quantity"],
        )
        say(
            f"{len(still)} order(s) still open; run `pas sync` later to record their fills "
            "(the next `pas rebalance` waits for them)"
        )


def _order_json(o: TradeOrder) -> dict[str, Any]:
    from pas.portfolio.trading import shares

    return {
        "client_order_id": o.client_order_id,
        "symbol": o.symbol,
        "side": o.side,
        "qty": shares(o.qty),
        "ref_price": o.ref_price,
        "shares": {p: shares(u) for p, u in o.shares},
        "crosses": {p: shares(u) for p, u in o.crosses},
        "status": o.status,
        "broker_order_id": o.broker_order_id,
        "broker_status": o.broker_status,
        "error": o.error,
    }


def sync(ctx: typer.Context, broker: BrokerOption = None, as_json: JsonOption = False) -> None:
    """Record fills that arrived after `pas rebalance` stopped waiting (safe to repeat).

    Example: pas sync --broker sim
    """
    from pas.portfolio.trading import acquire_trading_lock, lock_owner_name
    from pas.portfolio.trading import sync as run_sync

    app_state = state(ctx)
    store = app_state.store
    broker = chosen_broker(app_state, broker)
    gateway = make_broker(app_state, broker)
    owner = lock_owner_name()
    with app_state.run("sync", broker=broker.value) as handle:
        acquire_trading_lock(store, owner, app_state.settings.trading.fill_timeout_sec + 300)
        try:
            outcome = run_sync(store, gateway)
        finally:
            store.release_lock("trading", owner)
        handle.details.update(fills=outcome.fills_recorded, open=outcome.still_open)
    foreign = [
        {
            "fill_id": f.fill.id,
            "order_id": f.fill.order_id,
            "client_order_id": f.client_order_id,
            "symbol": f.fill.symbol,
            "side": f.fill.side,
            "qty": f.fill.qty,
            "price": f.fill.price,
            "ts": f.fill.ts,
        }
        for f in outcome.foreign
    ]
    if as_json:
        print_json(
            {
                "checked": outcome.checked,
                "fills_recorded": outcome.fills_recorded,
                "still_open": outcome.still_open,
                "foreign_fills": foreign,
            }
        )
        return
    say(
        f"checked {outcome.checked} order(s): recorded {outcome.fills_recorded} new fill(s), "
        f"{outcome.still_open} still open"
    )
    if foreign:
        print_table(
            "Fills of orders pas did not place (recorded in no portfolio)",
            ["symbol", "side", "quantity", "price", "client order id", "fill id"],
            [
                (
                    f.fill.symbol,
                    f.fill.side.value,
                    number(f.fill.qty),
                    money(f.fill.price),
                    f.client_order_id,
                    f.fill.id,
                )
                for f in outcome.foreign
            ],
            right=["quantity", "price"],
        )
        say(
            f"{len(foreign)} fill(s) of orders placed outside pas; `pas reconcile` will show "
            "them as differences until they are booked to a portfolio or undone"
        )


def reconcile(
    ctx: typer.Context,
    broker: BrokerOption = None,
    tolerance: Annotated[
        str, typer.Option(help="Shares a position may differ by before it counts.")
    ] = "0.000001",
    as_json: JsonOption = False,
) -> None:
    """Compare the sum of every portfolio's ledger with the broker's positions; exit 1 if they differ.

    Example: pas reconcile --broker sim
    """
    from pas.models import parse_decimal
    from pas.portfolio.trading import reconcile as run_reconcile

    app_state = state(ctx)
    slack = parse_decimal(tolerance, "--tolerance")
    if slack < 0:
        raise InputError(f"--tolerance must be zero or more shares, got {tolerance}")
    totals, diffs = run_reconcile(
        app_state.store, make_broker(app_state, chosen_broker(app_state, broker)), slack
    )
    if as_json:
        print_json(
            {
                "ledgers": totals,
                "differences": [
                    {"symbol": d.symbol, "ledgers": d.ledgers, "broker": d.broker, "gap": d.gap}
                    for d in diffs
                ],
            }
        )
    elif diffs:
        print_table(
            "Ledgers vs broker (shares)",
            ["symbol", "ledgers", "broker", "broker - ledgers"],
            [(d.symbol, number(d.ledgers), number(d.broker), number(d.gap)) for d in diffs],
            right=["ledgers", "broker", "broker - ledgers"],
        )
    else:
        say(f"ledgers match the broker: {len(totals)} symbol(s)")
    if diffs:
        raise PasError(
            f"{len(diffs)} symbol(s) differ between the ledgers and the broker; "
            "run `pas sync`, then check the broker's activity for trades pas did not make"
        )
