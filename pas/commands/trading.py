"""``pas rebalance``, ``pas sync`` and ``pas reconcile``: trading the portfolios at a broker."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from pas.commands._app import JsonOption, money, number, print_json, print_table, say, state
from pas.commands._trading import trade_and_show
from pas.commands._wiring import BrokerOption, chosen_broker, make_broker
from pas.errors import InputError, PasError

if TYPE_CHECKING:
    from pas.portfolio.trading.sync import SyncOutcome


def rebalance(
    ctx: typer.Context,
    portfolio: Annotated[
        list[str] | None,
        typer.Option("--portfolio", "-p", metavar="ID", help="Portfolio to rebalance (repeatable)."),
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
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Trade although the ledgers differ from the broker's positions for the plan's "
            "symbols after a sync (recorded in the run).",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Trade portfolios to their target weights: plan, check, send, wait for fills, record.

    Orders of several portfolios are netted into one per symbol. What a crashed run had in
    flight is looked up and settled, never sent twice; its unsent rest is planned afresh.
    Fills after the timeout are recorded by `pas sync`.

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
    trade_and_show(
        app_state, chosen, broker, dry_run=dry_run, queue=queue, timeout=timeout, as_json=as_json, force=force
    )


def sync(ctx: typer.Context, broker: BrokerOption = None, as_json: JsonOption = False) -> None:
    """Record fills that arrived after `pas rebalance` stopped waiting (safe to repeat).

    Example: pas sync --broker sim
    """
    from pas import workflows

    app_state = state(ctx)
    broker = chosen_broker(app_state, broker)
    gateway = make_broker(app_state, broker)
    with app_state.run("sync", broker=broker.value) as handle:
        outcome = workflows.sync(
            app_state.store,
            gateway,
            fill_timeout_sec=app_state.settings.trading.fill_timeout_sec,
            owner=app_state.lock_owner,
        )
        handle.details.update(fills=outcome.fills_recorded, open=outcome.still_open, unknown=outcome.unknown)
    _show_sync(outcome, as_json)


def _show_sync(outcome: SyncOutcome, as_json: bool) -> None:
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
                "unknown": outcome.unknown,
                "warnings": list(outcome.warnings),
                "foreign_fills": foreign,
            }
        )
        return
    doubt = (
        f", {outcome.unknown} with an unknown fate (never re-sent; the next sync looks them up again)"
        if outcome.unknown
        else ""
    )
    say(
        f"checked {outcome.checked} order(s): recorded {outcome.fills_recorded} new fill(s), "
        f"{outcome.still_open} still open{doubt}"
    )
    for warning in outcome.warnings:
        say(warning)
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
    from pas.portfolio.trading.reconcile import reconcile_ledgers

    app_state = state(ctx)
    slack = parse_decimal(tolerance, "--tolerance")
    if slack < 0:
        raise InputError(f"--tolerance must be zero or more shares, got {tolerance}")
    totals, diffs = reconcile_ledgers(
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
