"""``pas portfolio``: register, inspect and remove portfolios; set target weights by hand."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated

import typer

from pas.commands._app import JsonOption, money, percent, print_json, print_table, say, state
from pas.errors import InputError
from pas.models import Portfolio, Schedule, WeightSet, parse_decimal
from pas.portfolio.targets import parse_weight_pairs

app = typer.Typer(
    help="Register, inspect and remove portfolios; set target weights.\n\nExample: pas portfolio list",
    no_args_is_help=True,
)

# Strategy names: a built-in name, or ``package.module:Class`` for a user's own strategy.
STRATEGY_RE = re.compile(r"^([a-z][a-z0-9_]*|[A-Za-z_][\w.]*:[A-Za-z_]\w*)$")
PARAM_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
DEFAULT_STRATEGY = "manual"
HISTORY_SHOWN = 10


def _params(pairs: list[str]) -> dict[str, str | int | float]:
    params: dict[str, str | int | float] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not PARAM_KEY_RE.match(key):
            raise InputError(f"--param {pair!r} must look like name=value, e.g. --param top_n=15")
        value: str | int | float = raw
        for kind in (int, float):
            try:
                value = kind(raw)
                break
            except ValueError:
                continue
        params[key] = value
    return params


@app.command("add")
def add(
    ctx: typer.Context,
    portfolio_id: Annotated[str, typer.Argument(metavar="ID", help="1-16 characters of [a-z0-9_-].")],
    strategy: Annotated[
        str, typer.Option(help="Strategy name (or module:Class); 'manual' for hand-set weights.")
    ] = DEFAULT_STRATEGY,
    schedule: Annotated[Schedule, typer.Option(help="How often the strategy is rebuilt.")] = Schedule.WEEKLY,
    capital: Annotated[str | None, typer.Option(help="Dollars this portfolio trades with.")] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", metavar="NAME=VALUE", help="Strategy parameter name=value (repeatable)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Register a portfolio.

    Example: pas portfolio add lobby --strategy lobbying_growth --schedule monthly --capital 10000
    """
    app_state = state(ctx)
    if not STRATEGY_RE.match(strategy):
        raise InputError(f"--strategy {strategy!r} must be a strategy name or module:Class")
    params = _params(param or [])
    _check_strategy(strategy, params)
    cap = None if capital is None else parse_decimal(capital, "--capital")
    store = app_state.store
    portfolio = Portfolio(
        id=portfolio_id,
        strategy=strategy,
        schedule=schedule,
        capital=cap,
        params=params,
        created_at=store.clock(),
    )
    with app_state.run("portfolio add", portfolio=portfolio_id) as handle:
        store.add_portfolio(portfolio)
    if as_json:
        print_json({"portfolio": _portfolio_json(portfolio), "run_id": handle.run_id})
        return
    say(f"added portfolio {portfolio_id} ({strategy}, {schedule.value}, capital {money(cap) or 'not set'})")


def _check_strategy(name: str, params: dict[str, str | int | float]) -> None:
    """The strategy exists and takes these parameters (the defaults fill the rest at build)."""
    from pas.strategies import MANUAL, get_strategy, resolve_params

    if name == MANUAL:
        if params:
            raise InputError("a manual portfolio takes no --param; name a strategy with --strategy")
        return
    resolve_params(get_strategy(name), params)


@app.command("list")
def list_(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List portfolios.

    Example: pas portfolio list --json
    """
    portfolios = state(ctx).store.list_portfolios()
    if as_json:
        print_json([_portfolio_json(p) for p in portfolios])
        return
    if not portfolios:
        say("no portfolios yet; add one with `pas portfolio add ID --strategy NAME`")
        return
    rows = [(p.id, p.strategy, p.schedule.value, money(p.capital), p.created_at.date()) for p in portfolios]
    print_table("Portfolios", ["id", "strategy", "schedule", "capital", "created"], rows, right=["capital"])


def _portfolio_json(p: Portfolio) -> dict[str, object]:
    return {
        "id": p.id,
        "strategy": p.strategy,
        "schedule": p.schedule,
        "capital": p.capital,
        "params": dict(p.params),
        "created_at": p.created_at,
    }


@app.command("show")
def show(
    ctx: typer.Context,
    portfolio_id: Annotated[str, typer.Argument(metavar="ID")],
    history: Annotated[int, typer.Option(min=0, help="How many past targets to show.")] = HISTORY_SHOWN,
    as_json: JsonOption = False,
) -> None:
    """Show a portfolio: settings, current target weights and their history.

    Example: pas portfolio show lobby
    """
    app_state = state(ctx)
    p = app_state.portfolio(portfolio_id)
    targets = app_state.store.weights_history(portfolio_id, limit=history or None)
    holdings = app_state.store.holdings(portfolio_id)
    if as_json:
        print_json(
            {
                **_portfolio_json(p),
                "holdings": holdings,
                "targets": [{"at": t.at, "source": t.source, "weights": dict(t.weights)} for t in targets],
            }
        )
        return
    params = ", ".join(f"{k}={v}" for k, v in p.params.items()) or "defaults"
    say(
        f"[bold]{p.id}[/bold]: strategy {p.strategy} ({params}), {p.schedule.value}, "
        f"capital {money(p.capital) or 'not set'}, {len(holdings)} open position(s)"
    )
    if not targets:
        say("no target weights yet (set them with `pas portfolio set-weights` or `pas build`)")
        return
    current = targets[0]
    rows = [(s, percent(w)) for s, w in sorted(current.weights.items(), key=lambda kv: (-kv[1], kv[0]))]
    rows.append(("cash", percent(current.cash)))
    print_table(
        f"Target weights set {current.at:%Y-%m-%d %H:%M} UTC ({current.source})",
        ["symbol", "weight"],
        rows,
        right=["weight"],
    )
    if len(targets) > 1:
        past = [
            (
                t.at.strftime("%Y-%m-%d %H:%M"),
                t.source,
                ", ".join(f"{s} {percent(w, 1)}" for s, w in sorted(t.weights.items())),
            )
            for t in targets
        ]
        print_table("Target history (UTC, newest first)", ["set at", "source", "weights"], past)


@app.command("remove")
def remove(
    ctx: typer.Context,
    portfolio_id: Annotated[str, typer.Argument(metavar="ID")],
    force: Annotated[bool, typer.Option("--force", help="Remove even while it holds positions.")] = False,
) -> None:
    """Remove a portfolio with its target history and ledger.

    Refused while the portfolio holds positions unless --force; the shares stay in the
    brokerage account (``pas reconcile`` then reports them as held by no portfolio).

    Example: pas portfolio remove lobby
    """
    app_state = state(ctx)
    app_state.portfolio(portfolio_id)
    holdings = app_state.store.holdings(portfolio_id)
    if holdings and not force:
        symbols = ", ".join(sorted(holdings)[:5])
        raise InputError(
            f"portfolio {portfolio_id!r} holds {len(holdings)} position(s) ({symbols}); "
            "sell them first or pass --force"
        )
    with app_state.run("portfolio remove", portfolio=portfolio_id, force=force, positions=len(holdings)):
        app_state.store.remove_portfolio(portfolio_id)
    say(f"removed portfolio {portfolio_id}")


@app.command("set-weights")
def set_weights(
    ctx: typer.Context,
    portfolio_id: Annotated[str, typer.Argument(metavar="ID")],
    pairs: Annotated[list[str], typer.Argument(metavar="SYMBOL=WEIGHT...", help="e.g. AAPL=0.6 MSFT=0.4")],
) -> None:
    """Set a portfolio's target weights by hand; what is left of 1 is cash.

    Example: pas portfolio set-weights lobby AAPL=0.6 MSFT=0.4
    """
    app_state = state(ctx)
    app_state.portfolio(portfolio_id)
    weights = parse_weight_pairs(pairs)
    store = app_state.store
    with app_state.run("portfolio set-weights", portfolio=portfolio_id, symbols=len(weights)):
        store.put_weights(
            WeightSet(portfolio=portfolio_id, at=store.clock(), weights=weights, source="manual")
        )
    cash = max(0.0, 1 - sum(weights.values()))
    say(f"set {len(weights)} target weight(s) for {portfolio_id}; cash {percent(cash)}")


@app.command("fund")
def fund(
    ctx: typer.Context,
    portfolio_id: Annotated[str, typer.Argument(metavar="ID")],
    amount: Annotated[
        str, typer.Argument(metavar="AMOUNT", help="Dollars to deposit; negative (after --) withdraws.")
    ],
    withdraw: Annotated[bool, typer.Option("--withdraw", help="Take AMOUNT out instead.")] = False,
    note: Annotated[str, typer.Option(help="A note kept with the cash flow.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Deposit cash into a portfolio (or withdraw it); metrics do not count it as return.

    Example: pas portfolio fund lobby 5000   (withdraw: pas portfolio fund lobby 500 --withdraw)
    """
    from pas.models import CashFlow
    from pas.portfolio.account import stored_accounts

    app_state = state(ctx)
    portfolio = app_state.portfolio(portfolio_id)
    value = parse_decimal(amount, "AMOUNT")
    if value == 0:
        raise InputError("AMOUNT must not be zero dollars")
    if withdraw:
        value = -abs(value)
    store = app_state.store
    (account,) = stored_accounts(store, [portfolio])
    cash = account.cash or Decimal(0)
    if value < 0 and -value > cash:
        raise InputError(
            f"portfolio {portfolio_id} has only {money(cash)} dollars of cash; sell first or withdraw less"
        )
    with app_state.run("portfolio fund", portfolio=portfolio_id, amount=str(value)) as handle:
        store.add_cash_flow(
            CashFlow(portfolio_id, value, store.clock(), flow_id=f"cf-{handle.run_id}", note=note)
        )
    funded = (account.funded or Decimal(0)) + value
    if as_json:
        print_json(
            {
                "portfolio": portfolio_id,
                "amount": value,
                "funded": funded,
                "note": note,
                "run_id": handle.run_id,
            }
        )
        return
    verb = "deposited" if value > 0 else "withdrew"
    say(f"{verb} {money(abs(value))} for {portfolio_id}; funded total {money(funded)}")
