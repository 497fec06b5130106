"""``pas trades``: import historical fills and list a portfolio's ledger."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from pas.commands._app import (
    JsonOption,
    money,
    note_ignored,
    number,
    print_json,
    print_table,
    say,
    state,
    stdin_text,
)
from pas.errors import NotFoundError


class _ListByDefault(TyperGroup):
    """``pas trades ID`` is short for ``pas trades list ID``."""

    def resolve_command(self, ctx: typer.Context, args: list[str]) -> Any:  # type: ignore[override]
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["list", *args]
        return super().resolve_command(ctx, args)


app = typer.Typer(
    cls=_ListByDefault,
    help="Import fills and list a portfolio's trades (`pas trades ID` lists them).\n\n"
    "Example: pas trades import fills.csv",
    no_args_is_help=True,
)


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(metavar="FILE", help="CSV or JSON of fills (columns in the README); - reads stdin."),
    ],
    portfolio: Annotated[
        str | None,
        typer.Option(help="Portfolio of the rows with no portfolio of their own (another one is an error)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Import historical fills; a bad row rejects the whole file.

    Re-importing the same rows is a no-op (fills are unique by fill_id, derived from the
    row when the file has none). Columns pas does not read are named on stderr.

    Example: pas trades import fills.csv --portfolio lobby
    """
    from pas.portfolio.imports import read_fills

    app_state = state(ctx)
    store = app_state.store
    read = read_fills(file, default_portfolio=portfolio, now=store.clock(), text=stdin_text(file))
    fills = read.items
    known = {p.id for p in store.list_portfolios()}
    missing = sorted({f.portfolio for f in fills} - known)
    if missing:
        raise NotFoundError(
            f"{file}: no portfolio {', '.join(repr(m) for m in missing)} (add it with `pas portfolio add`)"
        )
    details = {"file": str(file), "rows": len(fills), "ignored_columns": ",".join(read.ignored_columns)}
    with app_state.run("trades import", **details) as run:
        new = store.append_fills(fills)
        run.details["new"] = new
    note_ignored(file, read.ignored_columns)
    portfolios = sorted({f.portfolio for f in fills})
    if as_json:
        print_json(
            {
                "file": str(file),
                "rows": len(fills),
                "new": new,
                "already_recorded": len(fills) - new,
                "portfolios": portfolios,
                "ignored_columns": list(read.ignored_columns),
                "run_id": run.run_id,
            }
        )
        return
    say(
        f"imported {new} new fill(s) into {len(portfolios)} portfolio(s); {len(fills) - new} already recorded"
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    portfolio_id: Annotated[str, typer.Argument(metavar="ID")],
    since: Annotated[str | None, typer.Option(help="Only fills at or after this date/time (UTC).")] = None,
    symbol: Annotated[str | None, typer.Option(help="Only this symbol.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List a portfolio's fills, oldest first.

    Example: pas trades lobby --since 2026-01-01 --symbol AAPL
    """
    from pas.models import check_symbol, parse_ts

    app_state = state(ctx)
    app_state.portfolio(portfolio_id)
    fills = app_state.store.fills(
        portfolio_id,
        since=None if since is None else parse_ts(since),
        symbol=None if symbol is None else check_symbol(symbol),
    )
    if as_json:
        from dataclasses import asdict

        print_json([asdict(f) for f in fills])  # its fields: never a value cached beside them
        return
    rows = [
        (
            f.ts.strftime("%Y-%m-%d %H:%M:%S"),
            f.symbol,
            f.side.value,
            number(f.qty),
            money(f.price, 4),
            money(f.qty * f.price),
            money(f.commission),
            f.client_order_id or f.broker_order_id,
        )
        for f in fills
    ]
    print_table(
        f"Fills of {portfolio_id} (UTC)",
        ["time", "symbol", "side", "qty", "price", "notional", "commission", "order"],
        rows,
        right=["qty", "price", "notional", "commission"],
    )
