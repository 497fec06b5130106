"""Books to measure: each portfolio's holdings from its ledger, and the account's.

The account is the sum of every portfolio's holdings (the ledgers), valued at the latest
stored closes; its equity and cash are the sums of the portfolios'. A portfolio's cash is
its capital plus deposits less withdrawals less what its fills consumed; its equity is
cash plus the market value of its priced positions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from pas.models import Portfolio
from pas.portfolio.ledger import build_book
from pas.store.base import Store

ACCOUNT = "account"


@dataclass(frozen=True)
class BookView:
    """Holdings of a portfolio (or the account) with what is known of their value.

    Attributes:
        quantities: shares per symbol, zero positions left out.
        values: market value in dollars per symbol with a stored close.
        unpriced: held symbols without any stored close (left out of ``values``).
        equity: dollars; None when the book has neither capital nor deposits.
        cash: dollars; None likewise.
    """

    name: str
    quantities: dict[str, Decimal]
    values: dict[str, Decimal]
    unpriced: tuple[str, ...]
    equity: Decimal | None
    cash: Decimal | None


def load_books(store: Store, portfolios: Sequence[Portfolio]) -> list[BookView]:
    """Each portfolio's book, valued at the latest stored closes (one price query)."""
    books = {p.id: build_book(store.ledger(p.id)) for p in portfolios}
    symbols = sorted({s for b in books.values() for s in b.positions})
    closes = store.latest_prices(symbols)
    views = []
    for p in portfolios:
        book = books[p.id]
        flows = store.cash_flows(p.id)
        funded = None
        if p.capital is not None or flows:
            funded = (p.capital or Decimal(0)) + sum((f.amount for f in flows), Decimal(0))
        quantities = {s: pos.qty for s, pos in book.positions.items()}
        values = {s: q * closes[s].close for s, q in quantities.items() if s in closes}
        cash = None if funded is None else funded - book.net_invested
        invested = sum(values.values(), Decimal(0))
        views.append(
            BookView(
                name=p.id,
                quantities=quantities,
                values=values,
                unpriced=tuple(s for s in quantities if s not in closes),
                equity=None if cash is None else cash + invested,
                cash=cash,
            )
        )
    return views


def account_book(books: Sequence[BookView]) -> BookView:
    """The whole account: holdings summed over portfolios; equity and cash summed over
    the portfolios that have them."""
    quantities: dict[str, Decimal] = {}
    values: dict[str, Decimal] = {}
    for b in books:
        for s, q in b.quantities.items():
            quantities[s] = quantities.get(s, Decimal(0)) + q
        for s, v in b.values.items():
            values[s] = values.get(s, Decimal(0)) + v
    quantities = {s: q for s, q in sorted(quantities.items()) if q != 0}
    funded = [b for b in books if b.equity is not None]
    return BookView(
        name=ACCOUNT,
        quantities=quantities,
        values={s: v for s, v in values.items() if s in quantities},
        unpriced=tuple(sorted({s for b in books for s in b.unpriced if s in quantities})),
        equity=sum((b.equity for b in funded if b.equity is not None), Decimal(0)) if funded else None,
        cash=sum((b.cash for b in funded if b.cash is not None), Decimal(0)) if funded else None,
    )
