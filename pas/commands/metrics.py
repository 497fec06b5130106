"""``pas metrics``: daily returns per portfolio (posted or computed) and trailing statistics."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pas.commands._app import (
    JsonOption,
    err_console,
    note_ignored,
    percent,
    print_json,
    print_table,
    say,
    state,
    stdin_text,
)
from pas.errors import InputError, PasError, StaleDataError

if TYPE_CHECKING:
    from pas.commands._app import AppState
    from pas.models import DailyMetric, Portfolio

app = typer.Typer(
    help="Daily returns per portfolio and the trailing statistics computed from them.\n\n"
    "Example: pas metrics show lobby",
    no_args_is_help=True,
)

# Statistics shown as percentages; the others are ratios, shown as plain numbers.
_PERCENT_STATS = frozenset(
    {
        "cumulative_return",
        "annual_return",
        "annual_volatility",
        "downside_risk",
        "max_drawdown",
        "alpha",
        "tracking_error",
        "value_at_risk",
        "conditional_value_at_risk",
    }
)
SPARK_BLOCKS = "▁▂▃▄▅▆▇█"
SPARK_DAYS = 60


@app.command("post")
def post(
    ctx: typer.Context,
    portfolio_id: Annotated[str, typer.Argument(metavar="ID")],
    day: Annotated[str | None, typer.Option("--date", help="Trading day, YYYY-MM-DD.")] = None,
    ret: Annotated[
        str | None, typer.Option("--return", help="The day's return as a fraction: 0.0125 is +1.25%.")
    ] = None,
    equity: Annotated[str | None, typer.Option(help="Dollars at the close (optional).")] = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", help="CSV with columns date, return[, equity] for many days; - reads stdin."),
    ] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Overwrite days already stored.")] = False,
    backfill: Annotated[
        bool,
        typer.Option(
            "--backfill", help="Accept days before the portfolio existed (a track record kept elsewhere)."
        ),
    ] = False,
) -> None:
    """Post daily performance by hand (one day, or a CSV of many); statistics are recomputed.

    Days must be NYSE trading days, not in the future, and not before the portfolio
    existed unless --backfill.

    Example: pas metrics post lobby --file track-record.csv --backfill
    """
    from pas import metrics as lib
    from pas.models import parse_day
    from pas.schedule import market_day

    app_state = state(ctx)
    if file is not None:
        if day is not None or ret is not None or equity is not None:
            raise InputError("give either --file or --date/--return/--equity, not both")
        read = lib.read_posted_file(file, stdin_text(file))
        rows, ignored = read.items, read.ignored_columns
        note_ignored(file, ignored)
    else:
        if day is None or ret is None:
            raise InputError("give --date and --return (or --file with many days)")
        ignored = ()
        rows = [
            lib.PostedRow(
                parse_day(day, "--date"),
                lib.parse_return(ret, "--return"),
                None if equity is None else lib.parse_equity(equity, "--equity"),
            )
        ]
    portfolio = app_state.portfolio(portfolio_id)
    store = app_state.store
    start = lib.portfolio_start(portfolio, store.fills(portfolio_id, limit=1), store.cash_flows(portfolio_id))
    lib.check_posted(
        rows,
        start=None if backfill else start,
        today=market_day(store.clock()),
        existing=store.metric_days(portfolio_id),
        replace=replace,
    )
    benchmark = app_state.settings.data.benchmark
    closes = store.price_history([benchmark], end=max(r.day for r in rows)).get(benchmark, [])
    metrics = lib.posted_metrics(portfolio_id, rows, [(p.day, p.close) for p in closes])
    first = min(r.day for r in rows)
    details = {"portfolio": portfolio_id, "days": len(rows), "replace": replace, "backfill": backfill}
    if ignored:
        details["ignored_columns"] = ",".join(ignored)
    with app_state.run("metrics post", **details) as handle:
        handle.details["stats"] = lib.recompute_trailing_stats(store, portfolio_id, first, metrics)
        store.put_daily_metrics(metrics)
    say(f"posted {len(rows)} day(s) for {portfolio_id}; statistics recomputed from {first}")


@app.command("update")
def update(
    ctx: typer.Context,
    portfolio_id: Annotated[str | None, typer.Argument(metavar="ID")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every portfolio.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Compute missing days' returns from the ledger and stored closes (run `pas prices fetch` first).

    Example: pas metrics update --all
    """
    app_state = state(ctx)
    if all_ == (portfolio_id is not None):
        raise InputError("give a portfolio ID or --all")
    store = app_state.store
    portfolios = store.list_portfolios() if all_ else [app_state.portfolio(portfolio_id or "")]
    results: list[dict[str, Any]] = []
    with app_state.run("metrics update", portfolios=len(portfolios)) as handle:
        for portfolio in portfolios:
            try:
                results.append(_update_one(app_state, portfolio))
            except PasError as exc:
                if not all_:
                    raise
                results.append({"portfolio": portfolio.id, "written": 0, "error": str(exc)})
        handle.details["results"] = results
        _report_updates(results, as_json)
        failed = [r["portfolio"] for r in results if r.get("error")]
        if failed:
            raise StaleDataError(f"metrics not updated for {', '.join(failed)} (see above)")


def _report_updates(results: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print_json({"portfolios": results})
        return
    for r in results:
        if r.get("error"):
            err_console().print(
                f"{r['portfolio']}: {r['error']}", markup=False, highlight=False, soft_wrap=True
            )
        elif r["written"]:
            say(f"{r['portfolio']}: {r['written']} new day(s), {r['first']} to {r['last']}")
        else:
            say(f"{r['portfolio']}: up to date")


def _update_one(app_state: AppState, portfolio: Portfolio) -> dict[str, Any]:
    from pas.metrics import update_metrics

    data = app_state.settings.data
    done = update_metrics(
        app_state.store, portfolio, data.benchmark, max_stale_days=data.price_max_stale_days
    )
    if not done.written:
        return {"portfolio": portfolio.id, "written": 0}
    return {"portfolio": portfolio.id, "written": done.written, "first": done.first, "last": done.last}


@app.command("show")
def show(
    ctx: typer.Context,
    portfolio_id: Annotated[str, typer.Argument(metavar="ID")],
    window: Annotated[
        str | None, typer.Option(help="One window: 63, 126, 252 or inception. Default: all.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Show a portfolio's latest trailing statistics per window.

    Example: pas metrics show lobby --window 63
    """
    import sys

    from pas import metrics as lib
    from pas.analytics.losses import VAR_CAPTION, shown

    app_state = state(ctx)
    windows = lib.WINDOWS
    if window is not None:
        if window not in lib.WINDOWS:
            raise InputError(f"--window must be one of {', '.join(lib.WINDOWS)}, not {window!r}")
        windows = (window,)
    app_state.portfolio(portfolio_id)
    store = app_state.store
    found = {w: store.trailing_stats(portfolio_id, w) for w in windows}
    values = {w: {} if s is None else {k: shown(k, v) for k, v in s.values.items()} for w, s in found.items()}
    if as_json:
        print_json(
            {
                "portfolio": portfolio_id,
                "windows": {
                    w: None if s is None else {"as_of": s.as_of, "values": _json_values(values[w])}
                    for w, s in found.items()
                },
            }
        )
        return
    if all(s is None for s in found.values()):
        say(f"no statistics for {portfolio_id} yet; run `pas metrics update {portfolio_id}` or post returns")
        return
    as_of = max(s.as_of for s in found.values() if s is not None)
    rows = [
        [name, *("" if s is None else _shown(name, values[w].get(name, math.nan)) for w, s in found.items())]
        for name in lib.STATISTICS
    ]
    print_table(
        f"{portfolio_id}: statistics as of {as_of}",
        ["statistic", *windows],
        rows,
        right=windows,
        caption=VAR_CAPTION,
    )
    if sys.stdout.isatty():
        _sparkline(store.daily_metrics(portfolio_id))


def _sparkline(metrics: list[DailyMetric]) -> None:
    """Equity over the last days in unicode blocks, and the drawdown on the last day."""
    import numpy as np

    from pas import analytics

    if not metrics:
        return
    returns = np.array([m.ret for m in metrics])
    drawdown = float(np.asarray(analytics.drawdown_series(returns))[-1])
    recent = metrics[-SPARK_DAYS:]
    if all(m.equity is not None for m in recent):
        curve = [float(m.equity) for m in recent if m.equity is not None]
    else:
        wealth = analytics.cumulative_returns(returns[-len(recent) :], starting_value=1.0)
        curve = [float(v) for v in np.asarray(wealth)]
    low, high = min(curve), max(curve)
    steps = len(SPARK_BLOCKS) - 1
    spark = "".join(
        SPARK_BLOCKS[0 if high == low else round((v - low) / (high - low) * steps)] for v in curve
    )
    say(f"equity, last {len(recent)} days: {spark}")
    say(f"drawdown on {metrics[-1].day}: {percent(drawdown)}")


def _shown(name: str, value: float) -> str:
    if math.isnan(value):
        return "-"
    if name == "days":
        return str(int(value))
    if name in _PERCENT_STATS:
        return percent(value)
    return f"{value:.2f}"


def _json_values(values: dict[str, float] | Any) -> dict[str, float | int | str | None]:
    """NaN as null; ±inf as the strings "inf"/"-inf" (JSON has no such numbers); the count
    of days as an integer."""
    out: dict[str, float | int | str | None] = {}
    for name, value in values.items():
        if math.isnan(value):
            out[name] = None
        elif name == "days":
            out[name] = int(value)
        elif math.isinf(value):
            out[name] = "inf" if value > 0 else "-inf"
        else:
            out[name] = value
    return out
