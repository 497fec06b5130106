"""``pas positions``: a portfolio's positions from its own fills."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

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

if TYPE_CHECKING:
    from pas.portfolio.account import PortfolioAccount


def positions(
    ctx: typer.Context,
    portfolio_id: Annotated[str, typer.Argument(metavar="ID")],
    as_json: JsonOption = False,
) -> None:
    """Show a portfolio's positions: quantity, average cost, and value where a price is stored.

    Weights are of the portfolio's equity (cash plus market value, where cash is capital plus
    cash flows less what the fills consumed) when it has money, else of the positions'
    total market value.

    Example: pas positions lobby --json
    """
    from pas.freshness import describe, stale_closes
    from pas.portfolio.account import stored_accounts
    from pas.schedule import market_day

    app_state = state(ctx)
    store = app_state.store
    (account,) = stored_accounts(store, [app_state.portfolio(portfolio_id)])
    today, max_days = market_day(store.clock()), app_state.settings.data.price_max_stale_days
    newest = {s: p.last_price.day for s, p in account.positions.items() if p.last_price is not None}
    stale = stale_closes(newest, today, max_days)
    if stale:
        warn(f"stale closes: {describe(stale, today, max_days)}; run `pas prices fetch`")
    stale_symbols = {c.symbol for c in stale}
    if as_json:
        print_json(_json(account, stale_symbols))
    else:
        _show(account, stale_symbols)


def _json(account: PortfolioAccount, stale_symbols: set[str]) -> dict[str, Any]:
    weights = account.weights
    return {
        "portfolio": account.portfolio,
        "capital": account.capital,
        "funded": account.funded,
        "cash": account.cash,
        "equity": account.equity,
        "market_value": account.market_value,
        "realized_pnl": account.realized_pnl,
        "commissions": account.commissions,
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
                "weight": _fraction(weights.get(p.symbol)),
                "unrealized_pnl": p.unrealized_pnl,
            }
            for p in account.positions.values()
        ],
    }


def _show(account: PortfolioAccount, stale_symbols: set[str]) -> None:
    portfolio_id, weights = account.portfolio, account.weights
    if not account.positions:
        say(f"{portfolio_id} holds no positions (realised P&L {money(account.realized_pnl)})")
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
        for p in account.positions.values()
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
    summary = [f"realised P&L {money(account.realized_pnl)}", f"commissions {money(account.commissions)}"]
    if account.market_value is not None:
        summary.insert(0, f"market value {money(account.market_value)}")
    if account.equity is not None:
        summary.append(f"cash {money(account.cash)}, equity {money(account.equity)}")
    say("; ".join(summary))


def _fraction(value: Decimal | None) -> float | None:
    """A weight as a JSON number: fractions are numbers, money and quantities strings."""
    return None if value is None else float(value)
