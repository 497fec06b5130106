"""``pas report``: one self-contained HTML file of portfolios' performance."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pas.commands._app import AppState, say, state
from pas.errors import InputError

if TYPE_CHECKING:
    from pas.store import Store


@contextmanager
def open_report_store(app_state: AppState, backtest: bool, run: str | None = None) -> Iterator[Store]:
    """The store a report reads: the live one, or a kept backtest run's (``run``, else the
    newest; closed afterwards).

    Raises:
        InputError: ``backtest`` and no such run has been kept, or it did not finish.
    """
    if not backtest:
        yield app_state.store
        return
    from pas.backtest import completed
    from pas.backtest_runs import resolve_run
    from pas.store import backtest_runs, open_backtest_store

    settings = app_state.settings
    kept = backtest_runs(settings.store)
    if not kept:
        raise InputError("no backtest results to report; run `pas backtest` first")
    run_id = resolve_run(run, kept)
    store = open_backtest_store(settings.store, run_id)
    try:
        # Partial first: a run interrupted before it saved anything has no portfolios yet.
        partial = completed(store)
        if partial is not None:
            raise InputError(
                f"backtest run {run_id}'s results are partial: {partial}; run `pas backtest` again"
            )
        if not store.list_portfolios():
            raise InputError(f"backtest run {run_id} has no results to report; run `pas backtest` again")
        yield store
    finally:
        store.close()


def _check_out(out: Path) -> Path:
    parent = out.parent if str(out.parent) else Path(".")
    if out.is_dir():
        raise InputError(f"--out {out} is a directory; name an HTML file such as {out / 'report.html'}")
    if not parent.is_dir():
        raise InputError(f"--out {out}: directory {parent} does not exist; create it first")
    if not os.access(parent, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise InputError(f"--out {out} is not writable; choose another path")
    return out


def report(
    ctx: typer.Context,
    portfolio_ids: Annotated[
        list[str] | None,
        typer.Argument(metavar="ID...", help="Portfolios to show (default: every one with daily metrics)."),
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="The HTML file to write.")] = Path("report.html"),
    backtest: Annotated[
        bool, typer.Option("--backtest", help="Report a kept `pas backtest` run instead (the newest).")
    ] = False,
    run: Annotated[
        str | None,
        typer.Option("--run", metavar="RUN", help="The kept backtest run to report (implies --backtest)."),
    ] = None,
) -> None:
    """Write an HTML tear sheet (one file, images embedded) and its trades CSV beside it.

    With --backtest, a first ID that names a kept run reports that run (`pas report
    --backtest RUN`), as --run RUN does.

    Example: pas report lobby gov --out report.html; pas report --run RUN
    """
    from pas.report.data import load_report_data
    from pas.report.files import write_report

    app_state = state(ctx)
    target = _check_out(out)
    ids = list(dict.fromkeys(portfolio_ids or []))
    if backtest and run is None and ids:
        from pas.store import backtest_runs

        if ids[0] in backtest_runs(app_state.settings.store):
            run = ids.pop(0)  # `pas report --backtest RUN [ID...]`
    backtest = backtest or run is not None
    with open_report_store(app_state, backtest, run) as store:
        for pid in ids:
            if store.get_portfolio(pid) is None:
                raise InputError(f"no portfolio {pid!r} (see `pas portfolio list`)")
        if not ids:
            ids = [p.id for p in store.list_portfolios() if store.metric_days(p.id)]
            if not ids:
                raise InputError("no portfolio has daily metrics yet; run `pas metrics update --all` first")
        data = load_report_data(store, ids, app_state.settings.data.benchmark, backtest=backtest)
    written = write_report(data, target)
    say(f"wrote {target} ({', '.join(ids)}; {written.size // 1024} KiB) and {written.trades.name}")
