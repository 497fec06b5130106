"""``pas prices``: daily closes the simulated broker and valuations use."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pas.commands._app import JsonOption, note_ignored, print_json, say, state, stdin_text
from pas.errors import StaleDataError
from pas.models import check_symbol, parse_ts

if TYPE_CHECKING:
    from pas.portfolio.pricefetch import FetchResult

app = typer.Typer(
    help="Store daily closes (used for valuation and the simulated broker).\n\nExample: pas prices fetch",
    no_args_is_help=True,
)


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(metavar="FILE", help="CSV or JSON with columns date, symbol, close; - reads stdin."),
    ],
    as_json: JsonOption = False,
) -> None:
    """Import daily closes; a close already stored for that day is replaced.

    Example: pas prices import closes.csv
    """
    from pas.portfolio.imports import read_prices

    app_state = state(ctx)
    read = read_prices(file, now=app_state.store.clock(), text=stdin_text(file))
    prices = read.items
    details = {"file": str(file), "rows": len(prices), "ignored_columns": ",".join(read.ignored_columns)}
    with app_state.run("prices import", **details) as handle:
        written = app_state.store.upsert_prices(prices)
    note_ignored(file, read.ignored_columns)
    symbols = sorted({p.symbol for p in prices})
    if as_json:
        print_json(
            {
                "file": str(file),
                "rows": len(prices),
                "written": written,
                "symbols": symbols,
                "ignored_columns": list(read.ignored_columns),
                "run_id": handle.run_id,
            }
        )
        return
    say(f"stored {written} close(s) for {len(symbols)} symbol(s)")


def _symbols(values: list[str]) -> list[str]:
    """Tickers from repeated and comma-separated option values, upper-cased, in order."""
    found = [check_symbol(part) for value in values for part in value.split(",") if part.strip()]
    return list(dict.fromkeys(found))


@app.command("fetch")
def fetch(
    ctx: typer.Context,
    symbols: Annotated[
        list[str] | None,
        typer.Option(
            "--symbols",
            "-s",
            metavar="SYMBOLS",
            help="Tickers, comma-separated or repeated. Default: every symbol a portfolio holds or "
            "targets, plus BENCHMARK.",
        ),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            help="First day (YYYY-MM-DD) for every symbol, replacing stored closes. Default: the day "
            "after each symbol's newest stored close."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Download daily closes from Alpaca: only the completed days not stored yet.

    Example: pas prices fetch --symbols AAPL,MSFT --start 2025-01-02
    """
    import requests

    from pas.freshness import describe, stale_closes
    from pas.portfolio.broker.alpaca import alpaca_from_settings
    from pas.portfolio.pricefetch import fetch_closes, tracked_symbols

    app_state = state(ctx)
    first = None if start is None else parse_ts(start).date()
    wanted = _symbols(symbols or [])
    settings = app_state.settings
    with requests.Session() as session:
        broker = alpaca_from_settings(settings.alpaca, session=session)
        store = app_state.store
        if not wanted:
            wanted = tracked_symbols(store, settings.data.benchmark)
        details = {"symbols": len(wanted), "start": start or "incremental"}
        with app_state.run("prices fetch", **details) as handle:
            result = fetch_closes(broker, store, wanted, first)
            handle.details.update(written=result.written, end=result.end.isoformat(), missing=result.missing)
    if as_json:
        print_json(
            {
                "written": result.written,
                "end": result.end,
                "fetched": result.fetched,
                "up_to_date": result.up_to_date,
                "missing": result.missing,
                "newest": result.newest,
            }
        )
    else:
        _report(result)
    max_days = settings.data.price_max_stale_days
    stale = stale_closes(result.newest, result.end, max_days)
    if stale:
        raise StaleDataError(
            f"closes still stale after fetching: {describe(stale, result.end, max_days)}; "
            "check the tickers and ALPACA_FEED (a delisted ticker gets no new bars: sell it or drop it "
            "from the targets)"
        )


def _report(result: FetchResult) -> None:
    by_day: dict[date, list[str]] = {}
    for symbol, day in sorted(result.newest.items()):
        by_day.setdefault(day, []).append(symbol)
    newest = "; ".join(
        f"{day}: {', '.join(symbols)}" for day, symbols in sorted(by_day.items(), reverse=True)
    )
    say(
        f"stored {result.written} close(s) for {len(result.fetched)} symbol(s), asked through "
        f"{result.end.isoformat()}; newest close stored {newest or 'none'}"
    )
    if result.up_to_date:
        say(f"already up to date: {', '.join(result.up_to_date)}")
    if result.missing:
        say(f"no bars from Alpaca for: {', '.join(result.missing)} (check the tickers and ALPACA_FEED)")
