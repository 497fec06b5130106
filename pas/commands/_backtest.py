"""Backtest plumbing shared by ``pas backtest`` and ``pas demo``: run one, show its statistics."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pas.commands._app import AppState, money, print_json, print_table, say
from pas.errors import PasError

if TYPE_CHECKING:
    from pas.backtest import BacktestResult, Summary
    from pas.models import Portfolio
    from pas.walk_forward import WalkForward


@dataclass(frozen=True)
class Ran:
    """A finished backtest as the commands show it: its kept run id, what it did, its
    statistics, and with a walk-forward those of each phase (``in_sample``, ``out_of_sample``)."""

    run_id: str
    result: BacktestResult
    summary: Summary
    phases: dict[str, Summary] = field(default_factory=dict)
    windows: list[tuple[str, date, date]] = field(default_factory=list)


def run(
    app_state: AppState,
    portfolios: Sequence[Portfolio],
    start: date,
    end: date,
    capital: Decimal,
    method: str | None,
    *,
    show_progress: bool,
    walk_forward: WalkForward | None = None,
) -> Ran:
    """Runs a backtest into a namespace of its own, kept under a new run id, and
    summarises it (shared with `pas demo`)."""
    from pas.backtest import BacktestSpec, SimulatedClock, run_backtest, summarize
    from pas.backtest_runs import claimed_run_id, run_details
    from pas.store import backtest_runs, open_backtest_store
    from pas.walk_forward import IN_SAMPLE, OUT_OF_SAMPLE

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
        walk_forward=walk_forward,
    )
    now = datetime.now(UTC)
    record = run_details(spec, portfolios, app_state.store, now)
    clock = SimulatedClock(now)
    benchmark = settings.data.benchmark
    with claimed_run_id(
        app_state.store, now, lambda: backtest_runs(settings.store), owner=app_state.lock_owner
    ) as run_id:
        target = open_backtest_store(settings.store, run_id, clock, fresh=True)
    with target, _progress(show_progress) as tick:
        try:
            result = run_backtest(
                app_state.store,
                target,
                clock,
                portfolios,
                spec,
                progress=tick,
                record=record,
                host=app_state.host,
            )
        except KeyboardInterrupt:
            raise PasError(
                f"interrupted: backtest run {run_id} is kept as failed (interrupted) and no report "
                f"will take it; `pas backtest rm {run_id}` deletes it"
            ) from None
        summary = summarize(target, result.portfolios, benchmark)
        if walk_forward is None:
            return Ran(run_id, result, summary)
        phases = {
            phase: summarize(target, result.portfolios, benchmark, walk_forward.days_of(result.days, phase))
            for phase in (IN_SAMPLE, OUT_OF_SAMPLE)
        }
    return Ran(run_id, result, summary, phases, walk_forward.windows(result.days))


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


def figure(label: str, value: float) -> str:
    """A statistic as shown: ratios and beta as plain numbers, the rest as percentages."""
    if math.isnan(value):
        return "—"
    if label.endswith("ratio") or label == "beta":
        return f"{value:.2f}"
    return f"{value * 100:.2f}%"


def statistics_rows(summary: Summary) -> list[list[Any]]:
    """The statistics table's rows (one per statistic, books as columns), final equity last."""
    rows: list[list[Any]] = [
        [label, *(figure(label, row[c]) for c in summary.columns)] for label, row in summary.values.items()
    ]
    rows.append(["final equity", *(money(summary.final_equity.get(c)) for c in summary.columns)])
    return rows


def statistics_json(summary: Summary) -> dict[str, dict[str, float | None]]:
    """The statistics as JSON: statistic → book → value (null where undefined), keyed by
    the statistic's snake_case name (as `pas metrics show`), not its label."""
    from pas.backtest import SUMMARY_STATS

    return {
        name: {c: None if math.isnan(v) else v for c, v in summary.values[label].items()}
        for label, name, _ in SUMMARY_STATS
    }


def show_summary(ran: Ran, as_json: bool, kept: bool = True) -> None:
    """Prints the statistics table (books as columns) or its JSON, naming the kept run
    (unless ``kept`` is False: the demo deletes its stores); with a walk-forward, the table
    of each phase after it."""
    from pas.analytics.losses import VAR_CAPTION

    summary, result, run_id = ran.summary, ran.result, ran.run_id
    if as_json:
        print_json(
            {
                "run": run_id,
                "portfolios": result.portfolios,
                "start": summary.days[0] if summary.days else None,
                "end": summary.days[-1] if summary.days else None,
                "days": len(result.days),
                "builds": result.builds,
                "allocations": result.allocations,
                "rebalances": result.rebalances,
                "refusals": result.refusals,
                "statistics": statistics_json(summary),
                "final_equity": summary.final_equity,
                "notes": result.notes,
                **_walk_forward_json(ran),
            }
        )
        return
    span = f"{summary.days[0]} to {summary.days[-1]}" if summary.days else "no days"
    print_table(
        f"Backtest {run_id}, {span}: {len(result.days)} trading days, {result.builds} builds, "
        f"{result.allocations} allocations, {result.rebalances} trading runs",
        ["statistic", *summary.columns],
        statistics_rows(summary),
        right=summary.columns,
        caption=VAR_CAPTION,
    )
    for phase, part in ran.phases.items():
        windows = [f"{a} to {b}" for p, a, b in ran.windows if p == phase]
        name = phase.replace("_", "-")
        print_table(
            f"{name}: {len(part.days)} days in {len(windows)} window(s) ({'; '.join(windows)})",
            ["statistic", *part.columns],
            statistics_rows(part)[:-1],  # final equity belongs to the whole run
            right=part.columns,
            caption=VAR_CAPTION,
        )
    if result.notes:
        say(f"{len(result.notes)} note(s), every one kept in the run record (`pas jobs --json`), e.g.:")
        say(f"  {result.notes[0]}")
    if kept:
        say(f"kept as run {run_id}: `pas backtest show {run_id}`, `pas report --run {run_id}`")


def _walk_forward_json(ran: Ran) -> dict[str, Any]:
    if not ran.phases:
        return {}
    return {
        "walk_forward": {
            "windows": [{"phase": p, "start": a, "end": b} for p, a, b in ran.windows],
            **{
                phase: {"days": len(part.days), "statistics": statistics_json(part)}
                for phase, part in ran.phases.items()
            },
        }
    }
