"""Backtest plumbing shared by ``pas backtest`` and ``pas demo``: run one, show its statistics."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pas.commands._app import AppState, money, print_json, print_table, say

if TYPE_CHECKING:
    from pas.backtest import BacktestResult, Summary
    from pas.models import Portfolio


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
    from pas.analytics.losses import VAR_CAPTION
    from pas.backtest import SUMMARY_STATS

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
                # Keyed by the statistic's snake_case name (as `pas metrics show`), not its label.
                "statistics": {name: summary.values[label] for label, name, _ in SUMMARY_STATS},
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
        caption=VAR_CAPTION,
    )
    if result.notes:
        say(f"{len(result.notes)} note(s), every one kept in the run record (`pas jobs --json`), e.g.:")
        say(f"  {result.notes[0]}")
