"""``pas positions``: a portfolio's positions from its own fills."""

from __future__ import annotations

from typing import Annotated

import typer

from pas.commands._app import (
    JsonOption,
    money,
    number,
    percent,
    print_json,
    print_table,
    say,
    state,
    warn,
)


def positions(
    ctx: typer.Context,
    portfolio_id: Annotated[str, typer.Argument(metavar="ID")],
    as_json: JsonOption = False,
) -> None:
    """Show a portfolio's positions: quantity, average cost, and value where a price is stored.

    Weights are of the portfolio's equity (capital plus P&L) when it has a capital, else of
    the positions' total market value.

    Example: pas positions lobby --json
    """
    from pas.freshness import describe, stale_closes
    from pas.portfolio.ledger import build_book
    from pas.schedule import market_day

    app_state = state(ctx)
    portfolio = app_state.portfolio(portfolio_id)
    store = app_state.store
    book = build_book(store.ledger(portfolio_id))
    book = book.priced(store.latest_prices(book.positions))
    equity = book.equity(portfolio.capital)
    weights = book.weights(equity)
    today, max_days = market_day(store.clock()), app_state.settings.data.price_max_stale_days
    newest = {s: p.last_price.day for s, p in book.positions.items() if p.last_price is not None}
    stale = stale_closes(newest, today, max_days)
    if stale:
        warn(f"stale closes: {describe(stale, today, max_days)}; run `pas prices fetch`")
    stale_symbols = {c.symbol for c in stale}
    if as_json:
        print_json(
            {
                "portfolio": portfolio_id,
                "capital": portfolio.capital,
                "cash": book.cash(portfolio.capital),
                "equity": equity,
                "market_value": book.market_value,
                "realized_pnl": book.realized_pnl,
                "commissions": book.commissions,
                "positions": [
                    {
                        "symbol": p.symbol,
                        "qty": p.qty,
                        "avg_cost": p.avg_cost,
                        "cost_basis": p.cost_basis,
                        "last_price": None if p.last_price is None else p.last_price.close,
                        "price_date": None if p.last_price is None else p.last_price.day,
                        "price_stale": p.symbol in stale_symbols,
                        "market_value": p.market_value,
                        "weight": weights.get(p.symbol),
                        "unrealized_pnl": p.unrealized_pnl,
                    }
                    for p in book.positions.values()
                ],
            }
        )
        return
    if not book.positions:
        say(f"{portfolio_id} holds no positions (realised P&L {money(book.realized_pnl)})")
        return
    rows = [
        (
            p.symbol,
            number(p.qty),
            money(p.avg_cost, 4),
            "" if p.last_price is None else money(p.last_price.close, 4),
            ""
            if p.last_price is None
            else f"{p.last_price.day}{' stale' if p.symbol in stale_symbols else ''}",
            money(p.market_value),
            percent(weights.get(p.symbol)),
            money(p.unrealized_pnl),
        )
        for p in book.positions.values()
    ]
    print_table(
        f"Positions of {portfolio_id}",
        [
            "symbol",
            "qty",
            "avg cost",
            "last price",
            "price date",
            "market value",
            "weight",
            "unrealised P&L",
        ],
        rows,
        right=["qty", "avg cost", "last price", "market value", "weight", "unrealised P&L"],
    )
    summary = [f"realised P&L {money(book.realized_pnl)}", f"commissions {money(book.commissions)}"]
    if book.market_value is not None:
        summary.insert(0, f"market value {money(book.market_value)}")
    if equity is not None:
        summary.append(f"cash {money(book.cash(portfolio.capital))}, equity {money(equity)}")
    say("; ".join(summary))
