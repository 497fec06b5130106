"""``pas backtest``: the live pipeline over stored history, in its own namespace."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from pas.commands._app import AppState, JsonOption, state
from pas.commands._backtest import run, show_summary
from pas.errors import InputError
from pas.walk_forward import DEFAULT_IN_SAMPLE, DEFAULT_OUT_OF_SAMPLE, WalkForward

if TYPE_CHECKING:
    from pas.models import Portfolio

DEFAULT_CAPITAL = "100000"
NO_ALLOCATION = "none"
# A strategy given with --strategy is backtested as a portfolio rebuilt on this schedule.
STRATEGY_SCHEDULE = "monthly"


app = typer.Typer(
    help="Backtests over stored history, each kept as a run (list, show, compare, rm).\n\n"
    "Example: pas backtest --start 2024-01-02 --end 2025-12-31 --allocation score"
)


@app.callback(invoke_without_command=True)
def backtest(
    ctx: typer.Context,
    start: Annotated[str | None, typer.Option("--start", help="First day (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Last day (YYYY-MM-DD).")] = None,
    portfolio: Annotated[
        list[str] | None,
        typer.Option("--portfolio", "-p", metavar="ID", help="A portfolio to backtest (repeatable)."),
    ] = None,
    strategy: Annotated[
        str | None, typer.Option("--strategy", help="Backtest one strategy with its default parameters.")
    ] = None,
    capital: Annotated[str, typer.Option(help="Dollars the book starts with.")] = DEFAULT_CAPITAL,
    allocation: Annotated[
        str | None,
        typer.Option(help="Weekly allocation method (score, inverse_vol, risk_parity, equal) or none."),
    ] = None,
    walk_forward: Annotated[
        bool,
        typer.Option(
            "--walk-forward",
            help="Alternate in-sample and out-of-sample windows; the allocation is held out of sample.",
        ),
    ] = False,
    in_sample: Annotated[
        int, typer.Option(metavar="DAYS", help="Trading days of each in-sample window.")
    ] = DEFAULT_IN_SAMPLE,
    out_of_sample: Annotated[
        int, typer.Option(metavar="DAYS", help="Trading days of each out-of-sample window.")
    ] = DEFAULT_OUT_OF_SAMPLE,
    as_json: JsonOption = False,
) -> None:
    """Backtest portfolios over stored datasets and prices, keep the run, show its statistics.

    Every portfolio (or those named, or one strategy) is rebuilt on its schedule as of each
    simulated day, allocated weekly, and traded through the simulated broker at stored
    closes. Each run is kept apart from live data and from other runs
    (PAS_HOME/backtests/RUN.db) under the id it prints; `pas backtest list` shows them,
    `pas report --run RUN` plots one. With --walk-forward the period alternates in-sample and
    out-of-sample windows; the allocation is refitted weekly in sample and held out of
    sample, and the statistics of both are shown.

    Example: pas backtest --start 2024-01-02 --end 2025-12-31 --allocation score
    """
    from pas.models import parse_day, parse_decimal

    if ctx.invoked_subcommand is not None:
        return
    if start is None or end is None:
        raise InputError("pas backtest needs --start and --end (YYYY-MM-DD), or a command such as `list`")
    app_state = state(ctx)
    first, last = parse_day(start, "--start"), parse_day(end, "--end")
    cash = parse_decimal(capital, "--capital")
    method = _method(app_state, allocation)
    chosen = _portfolios(app_state, portfolio or [], strategy)
    walk = WalkForward(in_sample, out_of_sample) if walk_forward else None
    with app_state.run("backtest", start=str(first), end=str(last), portfolios=len(chosen)) as handle:
        ran = run(app_state, chosen, first, last, cash, method, show_progress=not as_json, walk_forward=walk)
        handle.details.update(
            run=ran.run_id,
            builds=ran.result.builds,
            rebalances=ran.result.rebalances,
            days=len(ran.result.days),
            notes=ran.result.notes,
        )
    show_summary(ran, as_json)


RunArgument = Annotated[str, typer.Argument(metavar="RUN", help="A kept run's id (`pas backtest list`).")]


@app.command("list")
def list_runs(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List the kept backtest runs, oldest first: id, status, period, portfolios, code version.

    Example: pas backtest list --json
    """
    from pas.commands._backtest_runs import show_list

    show_list(state(ctx), as_json)


@app.command("show")
def show(ctx: typer.Context, run_id: RunArgument, as_json: JsonOption = False) -> None:
    """Show what a kept run was (parameters, code version, data cut) and its statistics.

    Example: pas backtest show 261201224355ab12
    """
    from pas.commands._backtest_runs import show_run

    show_run(state(ctx), run_id, as_json)


@app.command("compare")
def compare(
    ctx: typer.Context, run_id: RunArgument, other_run_id: RunArgument, as_json: JsonOption = False
) -> None:
    """Compare two kept runs: each book's statistics side by side, and the difference.

    Example: pas backtest compare 261201224355ab12 261201230102cd34
    """
    from pas.commands._backtest_runs import show_comparison

    show_comparison(state(ctx), run_id, other_run_id, as_json)


@app.command("rm")
def remove(
    ctx: typer.Context,
    run_ids: Annotated[list[str], typer.Argument(metavar="RUN...", help="Kept runs to delete.")],
    force: Annotated[
        bool, typer.Option("--force", help="Delete runs recorded as running too (exit 4 without it).")
    ] = False,
) -> None:
    """Delete kept backtest runs (their namespaces); live data is never touched. A run
    still running is refused (exit 4) unless --force.

    Example: pas backtest rm 261201224355ab12
    """
    from pas.commands._backtest_runs import remove_runs

    remove_runs(state(ctx), run_ids, force=force)


def _method(app_state: AppState, given: str | None) -> str | None:
    from pas.config import ALLOCATION_METHODS

    name = (given or app_state.settings.allocation.method).lower()
    if name == NO_ALLOCATION:
        return None
    if name not in ALLOCATION_METHODS:
        raise InputError(
            f"--allocation must be one of {', '.join(ALLOCATION_METHODS)} or none, got {given!r}"
        )
    return name


def _portfolios(app_state: AppState, ids: Sequence[str], strategy: str | None) -> list[Portfolio]:
    from pas.models import Portfolio, Schedule
    from pas.strategies import MANUAL, get_strategy

    if ids and strategy:
        raise InputError("give --portfolio or --strategy, not both")
    if strategy:
        get_strategy(strategy)
        pid = strategy.replace(".", "_").replace(":", "_").lower()[:16]
        return [Portfolio(pid, strategy, Schedule(STRATEGY_SCHEDULE), datetime.now(UTC))]
    if ids:
        return [app_state.portfolio(pid) for pid in dict.fromkeys(ids)]
    found = [p for p in app_state.store.list_portfolios() if p.strategy != MANUAL]
    if not found:
        raise InputError(
            "no portfolio with a strategy to backtest; add one with `pas portfolio add` or pass --strategy"
        )
    return found
