"""Trading shared by ``pas rebalance`` and ``pas build``: one recorded run, its outcome shown."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pas.commands._app import AppState, money, number, print_json, print_table, say
from pas.commands._waiting import interrupted_message, wait_display
from pas.commands._wiring import BrokerName, _pause, chosen_broker, make_broker
from pas.errors import PasError

if TYPE_CHECKING:
    from pas.models import Portfolio, TradeOrder
    from pas.portfolio.trading.run import RebalanceOutcome


def trade_and_show(
    app_state: AppState,
    chosen: Sequence[Portfolio],
    broker: BrokerName | None,
    *,
    dry_run: bool = False,
    queue: bool = False,
    timeout: float | None = None,
    as_json: bool = False,
    force: bool = False,
) -> None:
    """Trades portfolios to their current targets as one recorded run, and shows the outcome.

    On a terminal a spinner shows the orders while it waits; Ctrl-C stops it with one line
    saying where the run stands (``pas.commands._waiting``).

    Raises:
        PasError: an order failed or ended unfilled (the run is recorded; re-running
            resumes it), the breaker refused a dry run (exit 3), or Ctrl-C interrupted it.
    """
    from pas.workflows import TRADING_RUN, trade

    settings = app_state.settings
    broker = chosen_broker(app_state, broker)
    wait = settings.trading.fill_timeout_sec if timeout is None else timeout
    details = {
        "portfolios": ",".join(p.id for p in chosen),
        "broker": broker.value,
        "dry_run": dry_run,
        "force": force,
    }
    gateway = make_broker(app_state, broker)
    with app_state.run(TRADING_RUN, **details) as handle, wait_display(as_json or dry_run) as display:
        try:
            traded = trade(
                app_state.store,
                gateway,
                chosen,
                settings.trading.limits(),
                run_id=handle.run_id,
                breaker=settings.breaker.limits(),
                dry_run=dry_run,
                queue=queue,
                timeout_sec=wait,
                poll_sec=settings.trading.fill_poll_sec,
                sleep=_pause,
                progress=display.update,
                force=force,
                owner=app_state.lock_owner,
            )
        except KeyboardInterrupt:
            raise PasError(
                interrupted_message(app_state.store, display, handle.run_id, gateway.name)
            ) from None
        outcome = traded.outcome
        handle.details.update(
            trade_run=outcome.run_id, orders=len(outcome.orders), fills=outcome.fills_recorded
        )
        if outcome.forced:
            handle.details["forced_differences"] = {d.symbol: str(d.gap) for d in outcome.forced}
        _show(outcome, as_json, wait, traded.refusal)
        failure = traded.failure()
        if failure is not None:
            raise failure


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
    if as_json:
        print_json(_outcome_json(outcome, refused))
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
    if not outcome.dry_run:
        _show_sent(outcome, wait)


def _outcome_json(outcome: RebalanceOutcome, refused: str) -> dict[str, Any]:
    return {
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
        "forced_differences": {d.symbol: d.gap for d in outcome.forced},
    }


def _show_sent(outcome: RebalanceOutcome, wait: float) -> None:
    from pas.models import from_units

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
    from pas.portfolio.trading.limits import shares

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
