"""Books to measure: each portfolio's holdings from its ledger, and the account's.

The account is the sum of every portfolio's holdings (the ledgers), valued at the latest
stored closes; its equity and cash are the sums of the portfolios'. A portfolio's cash and
equity are those of the one account model (:mod:`pas.portfolio.account`): equity is
unknown while a held symbol has no stored close.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from pas.models import Portfolio
from pas.portfolio.account import stored_accounts
from pas.store.base import Store

ACCOUNT = "account"


@dataclass(frozen=True)
class BookView:
    """Holdings of a portfolio (or the account) with what is known of their value.

    Attributes:
        quantities: shares per symbol, zero positions left out.
        values: market value in dollars per symbol with a stored close.
        unpriced: held symbols without any stored close (left out of ``values``).
        equity: dollars; None when the book has neither capital nor cash flows, or holds an
            unpriced symbol.
        cash: dollars; None likewise.
    """

    name: str
    quantities: dict[str, Decimal]
    values: dict[str, Decimal]
    unpriced: tuple[str, ...]
    equity: Decimal | None
    cash: Decimal | None


def load_books(store: Store, portfolios: Sequence[Portfolio]) -> list[BookView]:
    """Each portfolio's book, valued at the latest stored closes by the one account model
    (:func:`pas.portfolio.account.stored_accounts`)."""
    return [
        BookView(
            name=a.portfolio,
            quantities={s: pos.qty for s, pos in a.positions.items()},
            values=a.values,
            unpriced=a.unpriced,
            equity=a.equity,
            cash=a.cash,
        )
        for a in stored_accounts(store, portfolios)
    ]


def account_book(books: Sequence[BookView]) -> BookView:
    """The whole account: holdings summed over portfolios; equity and cash summed over
    the portfolios that have money. The equity is unknown while one of them has an unknown
    equity (an unpriced holding): leaving it out would understate the account."""
    quantities: dict[str, Decimal] = {}
    values: dict[str, Decimal] = {}
    for b in books:
        for s, q in b.quantities.items():
            quantities[s] = quantities.get(s, Decimal(0)) + q
        for s, v in b.values.items():
            values[s] = values.get(s, Decimal(0)) + v
    quantities = {s: q for s, q in sorted(quantities.items()) if q != 0}
    funded = [b for b in books if b.cash is not None]
    equities = [b.equity for b in funded]
    return BookView(
        name=ACCOUNT,
        quantities=quantities,
        values={s: v for s, v in values.items() if s in quantities},
        unpriced=tuple(sorted({s for b in books for s in b.unpriced if s in quantities})),
        equity=None
        if not funded or None in equities
        else sum((e for e in equities if e is not None), Decimal(0)),
        cash=sum((b.cash for b in funded if b.cash is not None), Decimal(0)) if funded else None,
    )
