"""One account model: a portfolio's money, computed in one place for every view.

Conventions (all money in dollars, exact ``Decimal``; quantities in shares; weights are
fractions of equity):

- **funded** = capital + the sum of the portfolio's cash flows. Cash flows are the
  deposits and withdrawals of ``pas portfolio fund`` and the allocation transfers that a
  rebalance records (note ``allocation``) when an applied allocation moves money between
  portfolios, so funded already counts them. None when the portfolio has neither a
  capital nor a cash flow: it has no money to speak of.
- **cash** = funded − cost of buys + proceeds of sells − commissions (the ledger's
  ``net_invested``).
- **market value** = Σ quantity × price of the open positions; None when a held symbol
  has no price (the value is then unknowable, not smaller).
- **equity** = cash + market value; None when either is None.
- **weights** = each priced position's market value over equity; over the total market
  value when there is no equity (an unfunded book), empty when neither is positive.

Positions' price dates are kept so that a view can show how old each valuation is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pas.models import CashFlow, Portfolio, Price
from pas.portfolio.ledger import Book, Position, build_book
from pas.store.base import Store


@dataclass(frozen=True)
class PortfolioAccount:
    """A portfolio's money at its prices (see the module docstring for the conventions).

    Attributes:
        portfolio: the portfolio's id.
        capital: its starting dollars, None when it has none.
        funded: dollars put in: capital plus cash flows (allocation transfers included).
        cash: dollars not invested: funded less what the fills consumed.
        positions: open positions by symbol, with their prices attached where known.
        values: market value in dollars per priced position.
        unpriced: held symbols without a price (left out of ``values``).
        market_value: dollars, sum of ``values``; None when any position is unpriced.
        equity: dollars, cash plus market value; None when unknowable.
        weights: fraction of equity per priced position.
        price_dates: the day of the price each position is valued at.
        realized_pnl: dollars realised by sells, before commissions.
        commissions: dollars paid in commissions.
    """

    portfolio: str
    capital: Decimal | None
    funded: Decimal | None
    cash: Decimal | None
    positions: dict[str, Position]
    values: dict[str, Decimal]
    unpriced: tuple[str, ...]
    market_value: Decimal | None
    equity: Decimal | None
    weights: dict[str, Decimal]
    price_dates: dict[str, date]
    realized_pnl: Decimal
    commissions: Decimal


def portfolio_account(
    portfolio: Portfolio, flows: Sequence[CashFlow], book: Book, prices: Mapping[str, Price]
) -> PortfolioAccount:
    """Values a portfolio's ledger book at ``prices``. Pure.

    Args:
        portfolio: the portfolio (its capital in dollars, or None).
        flows: its cash flows in dollars, allocation transfers included.
        book: its ledger folded by :func:`pas.portfolio.ledger.build_book`.
        prices: a price per symbol; symbols it lacks are unpriced.

    Returns:
        The portfolio's funded amount, cash, market value, equity and weights.
    """
    funded = None
    if portfolio.capital is not None or flows:
        funded = (portfolio.capital or Decimal(0)) + sum((f.amount for f in flows), Decimal(0))
    cash = None if funded is None else funded - book.net_invested
    book = book.priced(prices)
    values = {s: p.market_value for s, p in book.positions.items() if p.market_value is not None}
    unpriced = tuple(s for s in book.positions if s not in values)
    market_value = None if unpriced else sum(values.values(), Decimal(0))
    equity = None if cash is None or market_value is None else cash + market_value
    base = equity if funded is not None else market_value
    weights = {s: v / base for s, v in values.items()} if base and base > 0 else {}
    return PortfolioAccount(
        portfolio=portfolio.id,
        capital=portfolio.capital,
        funded=funded,
        cash=cash,
        positions=book.positions,
        values=values,
        unpriced=unpriced,
        market_value=market_value,
        equity=equity,
        weights=weights,
        price_dates={s: prices[s].day for s in values},
        realized_pnl=book.realized_pnl,
        commissions=book.commissions,
    )


def stored_accounts(store: Store, portfolios: Sequence[Portfolio]) -> list[PortfolioAccount]:
    """Each portfolio's account valued at the latest stored closes (one price query)."""
    books = {p.id: build_book(store.ledger_fold(p.id)) for p in portfolios}
    closes = store.latest_prices(sorted({s for b in books.values() for s in b.positions}))
    return [portfolio_account(p, store.cash_flows(p.id), books[p.id], closes) for p in portfolios]
