"""Kept backtest runs on the command line: ``pas backtest list/show/compare/rm``."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from pas.commands._app import AppState, print_json, print_table, say
from pas.commands._backtest import statistics_json, statistics_rows
from pas.errors import InputError

if TYPE_CHECKING:
    from pas.backtest import Summary
    from pas.backtest_runs import KeptRun
    from pas.store import Store


@contextmanager
def open_run(app_state: AppState, wanted: str | None) -> Iterator[tuple[KeptRun, Store]]:
    """A kept run (``wanted``, or the newest) and its namespace's store, closed afterwards.

    Raises:
        InputError: no such run.
    """
    from pas.backtest_runs import kept_run, resolve_run
    from pas.store import backtest_runs, open_backtest_store

    settings = app_state.settings.store
    run_id = resolve_run(wanted, backtest_runs(settings))
    with open_backtest_store(settings, run_id) as store:
        yield kept_run(store, run_id, app_state.host), store


def _summary(app_state: AppState, kept: KeptRun, store: Store) -> Summary:
    from pas.backtest import summarize

    benchmark = kept.parameters.get("benchmark") or app_state.settings.data.benchmark
    return summarize(store, kept.portfolios, str(benchmark))


def _listed(kept: KeptRun) -> dict[str, Any]:
    p = kept.parameters
    return {
        "run": kept.run_id,
        "status": kept.status,
        "start": kept.details.get("first_day"),
        "end": kept.details.get("last_day"),
        "portfolios": kept.portfolios,
        "allocation": p.get("allocation_method"),
        "capital": p.get("capital"),
        "code_version": kept.details.get("code_version"),
        "data_cut": kept.details.get("data_cut"),
        "error": kept.error or None,
    }


def show_list(app_state: AppState, as_json: bool) -> None:
    """Prints the kept runs, oldest first."""
    from pas.backtest_runs import kept_run
    from pas.store import backtest_runs, open_backtest_store

    settings = app_state.settings.store
    rows = []
    for run_id in backtest_runs(settings):
        with open_backtest_store(settings, run_id) as store:
            rows.append(_listed(kept_run(store, run_id, app_state.host)))
    if as_json:
        print_json({"runs": rows})
        return
    if not rows:
        say("no kept backtest run; run `pas backtest --start … --end …`")
        return
    columns = ["run", "status", "start", "end", "portfolios", "allocation", "capital", "code version"]
    print_table(
        f"{len(rows)} kept backtest run(s)",
        columns,
        [
            [
                r["run"],
                r["status"],
                r["start"] or "-",
                r["end"] or "-",
                ", ".join(r["portfolios"]),
                r["allocation"] or "none",
                r["capital"] or "-",
                r["code_version"] or "-",
            ]
            for r in rows
        ],
        right=["capital"],
    )


def show_run(app_state: AppState, wanted: str, as_json: bool) -> None:
    """Prints what a kept run was and its statistics."""
    from pas.analytics.losses import VAR_CAPTION

    with open_run(app_state, wanted) as (kept, store):
        summary = _summary(app_state, kept, store) if kept.status == "ok" else None
    counts = {k: kept.details.get(k) for k in ("builds", "allocations", "rebalances", "refusals", "notes")}
    if as_json:
        print_json(
            {
                **_listed(kept),
                "last_close": kept.details.get("last_close"),
                "parameters": kept.parameters,
                **counts,
                "statistics": None if summary is None else statistics_json(summary),
                "final_equity": None if summary is None else summary.final_equity,
            }
        )
        return
    listed = _listed(kept)
    facts = [
        [k.replace("_", " "), _text(v)] for k, v in listed.items() if k not in ("run",) and v is not None
    ]
    facts += [[k, _text(v)] for k, v in counts.items() if v is not None]
    facts.append(["last close", _text(kept.details.get("last_close"))])
    print_table(f"Backtest run {kept.run_id}", ["", "value"], facts)
    params = {k: v for k, v in kept.parameters.items() if k != "portfolios"}
    print_table("parameters", ["parameter", "value"], [[k, _text(v)] for k, v in params.items()])
    if summary is None:
        say(f"run {kept.run_id} is {kept.status}: its results are partial, so no statistics are shown")
        return
    print_table(
        "statistics",
        ["statistic", *summary.columns],
        statistics_rows(summary),
        right=summary.columns,
        caption=VAR_CAPTION,
    )


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={_text(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    return "-" if value is None else str(value)


def show_comparison(app_state: AppState, first: str, second: str, as_json: bool) -> None:
    """Prints two kept runs' statistics side by side.

    Raises:
        InputError: either run is unknown or did not finish.
    """
    from pas.analytics.losses import VAR_CAPTION
    from pas.backtest_runs import compare

    summaries = []
    for wanted in (first, second):
        with open_run(app_state, wanted) as (kept, store):
            if kept.status != "ok":
                raise InputError(f"run {wanted} is {kept.status}, not finished; compare finished runs only")
            summaries.append(_summary(app_state, kept, store))
    rows = compare(*summaries)
    if as_json:
        print_json(
            {
                "first": first,
                "second": second,
                "rows": [
                    {
                        "book": r.book,
                        "statistic": r.name,
                        "first": _num(r.first),
                        "second": _num(r.second),
                        "difference": _num(r.difference),
                    }
                    for r in rows
                ],
            }
        )
        return
    from pas.commands._backtest import figure

    print_table(
        f"Backtest runs {first} and {second}",
        ["book", "statistic", first, second, "difference"],
        [
            [
                r.book,
                r.statistic,
                figure(r.statistic, r.first),
                figure(r.statistic, r.second),
                figure(r.statistic, r.difference),
            ]
            for r in rows
        ],
        right=[first, second, "difference"],
        caption=VAR_CAPTION,
    )


def _num(value: float) -> float | None:
    return None if math.isnan(value) else value


def remove_runs(app_state: AppState, run_ids: Sequence[str], *, force: bool = False) -> None:
    """Deletes kept runs, after checking that every one exists and, unless ``force``,
    that none is still running.

    Raises:
        InputError: a run is unknown (nothing is deleted).
        LockHeldError: a run is still running (nothing is deleted).
    """
    from pas.backtest_runs import check_removable, kept_run, resolve_run
    from pas.store import backtest_runs, open_backtest_store, remove_backtest

    settings = app_state.settings.store
    kept = backtest_runs(settings)
    chosen = [resolve_run(r, kept) for r in dict.fromkeys(run_ids)]
    if not force:
        records = []
        for run_id in chosen:
            with open_backtest_store(settings, run_id) as store:
                records.append(kept_run(store, run_id, app_state.host))
        check_removable(records)
    for run_id in chosen:
        remove_backtest(settings, run_id)
    say(f"deleted {len(chosen)} backtest run(s): {', '.join(chosen)}")
