"""``pas build``: run portfolios' strategies, store the new targets, trade."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pas.commands._app import (
    AppState,
    JsonOption,
    as_of_day,
    err_console,
    percent,
    print_json,
    print_table,
    say,
    state,
    warn,
)
from pas.commands._wiring import BrokerOption
from pas.errors import InputError, PasError

if TYPE_CHECKING:
    from datetime import datetime

    from pas.commands._app import AppState
    from pas.models import Portfolio, WeightSet
    from pas.strategies.build import Build
    from pas.workflows import BuildResult


def build(
    ctx: typer.Context,
    portfolio_id: Annotated[str | None, typer.Argument(metavar="ID", help="The portfolio to build.")] = None,
    due: Annotated[
        bool,
        typer.Option("--due", help="Build every portfolio whose schedule is due today and not built yet."),
    ] = False,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Build from the data public by the end of this day in New York."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the new targets; store and trade nothing.")
    ] = False,
    no_trade: Annotated[
        bool, typer.Option("--no-trade", help="Store the new targets; trade nothing.")
    ] = False,
    broker: BrokerOption = None,
    queue: Annotated[
        bool,
        typer.Option("--queue", help="Trade even while the market is closed (orders wait for the open)."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Run a portfolio's strategy, store its new target weights, and trade to them.

    Refused when a dataset the strategy needs is empty or older than BUILD_MAX_STALE_DAYS.
    With --due (for cron) every portfolio whose daily / weekly / monthly schedule is due on
    this trading day is built; one not built yet this period is caught up.

    Example: pas build lobby --dry-run
    """
    from pas.commands._trading import trade_and_show
    from pas.models import format_ts
    from pas.schedule import market_day
    from pas.strategies.build import SOURCE, as_of_time
    from pas.workflows import BUILD_RUN, DUE_BUILD_RUN, TRADING_KEY, build_lock, failed_builds

    app_state = state(ctx)
    if due and portfolio_id is not None:
        raise InputError(f"pass either the portfolio ({portfolio_id}) or --due, not both")
    if not due and portfolio_id is None:
        raise InputError("name the portfolio to build (pas build ID) or pass --due")
    if due and as_of is not None:
        raise InputError("--due builds as of now; drop --as-of")
    trade = not (dry_run or no_trade)
    store = app_state.store
    now = store.clock()
    when = as_of_time(as_of_day(as_of), now)
    # Weights built as of now are what `--due` looks for; an older as-of is marked as such.
    source = SOURCE if when == now else f"{SOURCE} as of {market_day(when)}"
    single = None if due else app_state.portfolio(portfolio_id or "")

    def builds(dry: bool) -> list[BuildResult]:
        return _builds(app_state, single, when, source, dry)

    if dry_run:
        results = builds(dry=True)
        _report(app_state, results, stored=False, traded=False, as_json=as_json, due=due)
        _raise(failed_builds(results))
        return

    with build_lock(store, app_state.lock_owner) as taken_over:
        if taken_over:
            warn(taken_over)
        details: dict[str, Any] = {"as_of": format_ts(when), "trade": trade}
        with app_state.run(DUE_BUILD_RUN if due else BUILD_RUN, **details) as handle:
            results = builds(dry=False)
            built = [p for p, r in results if not isinstance(r, PasError)]
            handle.details["portfolios"] = ",".join(p.id for p, _ in results) if due else portfolio_id
            handle.details["built"] = ",".join(p.id for p in built)
            waiting = _waiting(app_state, built, as_json) if due and trade else []
            to_trade = [*built, *waiting]
            if trade and to_trade:
                handle.details[TRADING_KEY] = ",".join(p.id for p in to_trade)
                trade_and_show(app_state, to_trade, broker, queue=queue, as_json=as_json)
            _report(app_state, results, stored=True, traded=trade and bool(built), as_json=as_json, due=due)
            _raise(failed_builds(results))


def _builds(
    app_state: AppState, single: Portfolio | None, when: datetime, source: str, dry: bool
) -> list[BuildResult]:
    """The due builds (``single`` None), or the one portfolio's, under the settings' limits."""
    from pas.workflows import build_due, build_one

    store, settings = app_state.store, app_state.settings
    stale = settings.data.build_max_stale_days
    heaviest = float(settings.trading.max_position_weight)
    if single is None:
        portfolios = store.list_portfolios()
        return build_due(
            store, store, portfolios, when, max_stale_days=stale, max_position_weight=heaviest, dry_run=dry
        )
    built = build_one(
        store,
        store,
        single,
        when,
        max_stale_days=stale,
        source=source,
        max_position_weight=heaviest,
        dry_run=dry,
    )
    return [built]


def _waiting(app_state: AppState, built: Sequence[Portfolio], as_json: bool) -> list[Portfolio]:
    """The portfolios (other than ``built``) whose targets an earlier build stored but was
    locked out of trading; says which (the JSON output lists them with the trading run's orders)."""
    from pas.workflows import untraded_builds

    done = {p.id for p in built}
    waiting = untraded_builds(
        app_state.store, [p for p in app_state.store.list_portfolios() if p.id not in done]
    )
    if waiting and not as_json:
        say(
            "trading the targets a build stored but could not trade (the trading lock was held): "
            + ", ".join(p.id for p in waiting)
        )
    return waiting


def _raise(error: PasError | None) -> None:
    if error is not None:
        raise error


def _report(
    app_state: AppState, results: list[BuildResult], *, stored: bool, traded: bool, as_json: bool, due: bool
) -> None:
    from pas.strategies.build import describe_params

    store = app_state.store
    previous = {p.id: _previous(store.weights_history(p.id, limit=2), stored) for p, _ in results}
    if as_json:
        items = [_json(p, r, previous[p.id], stored, traded) for p, r in results]
        print_json({"builds": items} if due else items[0])
        return
    if due and not results:
        say("no portfolio is due for a build today")
        return
    for p, result in results:
        if isinstance(result, PasError):
            err_console().print(f"error: {p.id}: {result}", markup=False, highlight=False, soft_wrap=True)
            continue
        before = previous[p.id]
        old = before.weights if before is not None else {}
        symbols = sorted(set(old) | set(result.weights), key=lambda s: (-result.weights.get(s, 0.0), s))
        rows: list[Sequence[str]] = [
            (
                s,
                percent(old.get(s)) if s in old else "",
                percent(result.weights.get(s, 0.0)),
                _change(old, result, s),
            )
            for s in symbols
        ]
        cash_old = before.cash if before is not None else None
        cash_new = max(0.0, 1 - sum(result.weights.values()))
        rows.append(("cash", percent(cash_old), percent(cash_new), ""))
        title = (
            f"{p.id}: {p.strategy} ({describe_params(result.params)}) as of {result.as_of:%Y-%m-%d %H:%M} UTC"
        )
        print_table(title, ["symbol", "current", "new", "change"], rows, right=["current", "new", "change"])
        data = ", ".join(f"{u.name} {u.records} records to {u.newest:%Y-%m-%d}" for u in result.datasets)
        if not stored:
            outcome = "dry run: nothing stored or traded"
        elif traded:
            outcome = "stored and traded"
        else:
            outcome = "stored; not traded (--no-trade)"
        say(f"{len(result.weights)} target weight(s) from {data}; {outcome}")


def _previous(history: list[WeightSet], stored: bool) -> WeightSet | None:
    """The targets before this build: the newest stored ones, or the one before when this
    build's were just stored."""
    index = 1 if stored else 0
    return history[index] if len(history) > index else None


def _change(old: Mapping[str, float], result: Build, symbol: str) -> str:
    delta = result.weights.get(symbol, 0.0) - old.get(symbol, 0.0)
    return "" if abs(delta) < 1e-12 else f"{delta * 100:+.2f}%"


def _json(
    p: Portfolio, result: Build | PasError, old: WeightSet | None, stored: bool, traded: bool
) -> dict[str, Any]:
    if isinstance(result, PasError):
        return {"portfolio": p.id, "strategy": p.strategy, "error": str(result)}
    return {
        "portfolio": p.id,
        "strategy": p.strategy,
        "as_of": result.as_of,
        "params": dict(result.params),
        "weights": result.weights,
        "previous": None
        if old is None
        else {"at": old.at, "source": old.source, "weights": dict(old.weights)},
        "datasets": {u.name: {"records": u.records, "newest_public_at": u.newest} for u in result.datasets},
        "stored": stored,
        "traded": traded,
    }
