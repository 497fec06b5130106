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
def open_report_store(app_state: AppState, backtest: bool) -> Iterator[Store]:
    """The store a report reads: the live one, or the backtest's (closed afterwards).

    Raises:
        InputError: ``backtest`` and no backtest has been run (its store does not exist).
    """
    if not backtest:
        yield app_state.store
        return
    from pas.store import BACKTEST_SQLITE, open_backtest_store

    settings = app_state.settings
    if not settings.store.mongo_uri and not (settings.store.home / BACKTEST_SQLITE).is_file():
        raise InputError("no backtest results to report; run `pas backtest` first")
    store = open_backtest_store(settings.store)
    try:
        if not store.list_portfolios():
            raise InputError("no backtest results to report; run `pas backtest` first")
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
        bool, typer.Option("--backtest", help="Report the results of `pas backtest` instead.")
    ] = False,
) -> None:
    """Write an HTML tear sheet (one file, images embedded) and its trades CSV beside it.

    Example: pas report lobby gov --out report.html
    """
    from pas.report.data import load_report_data
    from pas.report.files import write_report

    app_state = state(ctx)
    target = _check_out(out)
    with open_report_store(app_state, backtest) as store:
        ids = list(dict.fromkeys(portfolio_ids or []))
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
