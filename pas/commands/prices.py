"""``pas prices``: daily closes the simulated broker and valuations use."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pas.commands._app import say, state

app = typer.Typer(
    help="Store daily closes (used for valuation and the simulated broker).", no_args_is_help=True
)


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV or JSON with columns date, symbol, close.")],
) -> None:
    """Import daily closes; a close already stored for that day is replaced.

    Example: pas prices import closes.csv
    """
    from pas.portfolio.imports import read_prices

    app_state = state(ctx)
    prices = read_prices(file)
    with app_state.run("prices import", file=str(file), rows=len(prices)):
        written = app_state.store.upsert_prices(prices)
    symbols = len({p.symbol for p in prices})
    say(f"stored {written} close(s) for {symbols} symbol(s)")
