"""``pas backtest``: the live pipeline over stored history, in its own namespace."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pas.commands._app import AppState, JsonOption, money, print_json, print_table, say, state
from pas.errors import InputError

if TYPE_CHECKING:
    from pas.backtest import BacktestResult, Summary
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
        list[str] | None, typer.Option("--portfolio", "-p", help="A portfolio to backtest (repeatable).")
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
        handle.details.update(builds=result.builds, rebalances=result.rebalances, days=len(result.days))
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


def run(
    app_state: AppState,
    portfolios: Sequence[Portfolio],
    start: date,
    end: date,
    capital: Decimal,
    method: str | None,
    *,
    show_progress: bool,
) -> tuple[BacktestResult, Summary]:
    """Runs a backtest into a fresh backtest namespace and summarises it (shared with `pas demo`)."""
    from pas.backtest import BacktestSpec, SimulatedClock, run_backtest, summarize
    from pas.store import open_backtest_store

    settings = app_state.settings
    spec = BacktestSpec(
        start=start,
        end=end,
        capital=capital,
        benchmark=settings.data.benchmark,
        limits=settings.trading.limits(),
        max_stale_days=settings.data.build_max_stale_days,
        allocation_method=method,
        **settings.allocation.bounds(),
        **settings.sim.costs(),
    )
    clock = SimulatedClock(datetime.now(UTC))
    with open_backtest_store(settings.store, clock, fresh=True) as target, _progress(show_progress) as tick:
        result = run_backtest(app_state.store, target, clock, portfolios, spec, progress=tick)
        summary = summarize(target, result.portfolios, settings.data.benchmark)
    return result, summary


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on a terminal; nothing under cron or with --json."""
    if not (enabled and sys.stderr.isatty()):
        yield None
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task("simulating days", total=None)

        def tick(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield tick


def _figure(label: str, value: float) -> str:
    if math.isnan(value):
        return "—"
    if label.endswith("ratio") or label == "beta":
        return f"{value:.2f}"
    return f"{value * 100:.2f}%"


def show_summary(summary: Summary, result: BacktestResult, as_json: bool) -> None:
    """Prints the statistics table (books as columns) or its JSON."""
    if as_json:
        print_json(
            {
                "portfolios": result.portfolios,
                "start": summary.days[0] if summary.days else None,
                "end": summary.days[-1] if summary.days else None,
                "days": len(result.days),
                "builds": result.builds,
                "allocations": result.allocations,
                "rebalances": result.rebalances,
                "statistics": {
                    label: {c: None if math.isnan(v) else v for c, v in row.items()}
                    for label, row in summary.values.items()
                },
                "final_equity": summary.final_equity,
                "notes": result.notes,
            }
        )
        return
    rows: list[list[Any]] = [
        [label, *(_figure(label, row[c]) for c in summary.columns)] for label, row in summary.values.items()
    ]
    rows.append(["final equity", *(money(summary.final_equity.get(c)) for c in summary.columns)])
    span = f"{summary.days[0]} to {summary.days[-1]}" if summary.days else "no days"
    print_table(
        f"Backtest {span}: {len(result.days)} trading days, {result.builds} builds, "
        f"{result.allocations} allocations, {result.rebalances} trading runs",
        ["statistic", *summary.columns],
        rows,
        right=summary.columns,
    )
    if result.notes:
        say(f"{len(result.notes)} note(s), e.g. {result.notes[0]}")
