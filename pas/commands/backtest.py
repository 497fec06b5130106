"""``pas backtest``: the live pipeline over stored history, in its own namespace."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from pas.commands._app import AppState, JsonOption, state
from pas.commands._backtest import run, show_summary
from pas.errors import InputError

if TYPE_CHECKING:
    from pas.models import Portfolio

DEFAULT_CAPITAL = "100000"
NO_ALLOCATION = "none"
# A strategy given with --strategy is backtested as a portfolio rebuilt on this schedule.
STRATEGY_SCHEDULE = "monthly"


def backtest(
    ctx: typer.Context,
    start: Annotated[str, typer.Option("--start", help="First day (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option("--end", help="Last day (YYYY-MM-DD).")],
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
    as_json: JsonOption = False,
) -> None:
    """Backtest portfolios over stored datasets and prices, and show their statistics.

    Every portfolio (or those named, or one strategy) is rebuilt on its schedule as of each
    simulated day, allocated weekly, and traded through the simulated broker at stored
    closes. The result lives apart from live data (PAS_HOME/backtest.db); `pas report
    --backtest` plots it.

    Example: pas backtest --start 2024-01-02 --end 2025-12-31 --allocation score
    """
    from pas.models import parse_day, parse_decimal

    app_state = state(ctx)
    first, last = parse_day(start, "--start"), parse_day(end, "--end")
    cash = parse_decimal(capital, "--capital")
    method = _method(app_state, allocation)
    chosen = _portfolios(app_state, portfolio or [], strategy)
    with app_state.run("backtest", start=str(first), end=str(last), portfolios=len(chosen)) as handle:
        result, summary = run(app_state, chosen, first, last, cash, method, show_progress=not as_json)
        handle.details.update(
            builds=result.builds, rebalances=result.rebalances, days=len(result.days), notes=result.notes
        )
    show_summary(summary, result, as_json)


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
