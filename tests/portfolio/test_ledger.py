"""Average-cost positions from fills: hand-computed cases, exactness, invariants."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from pas.models import Price, to_units
from pas.portfolio.ledger import build_book
from pas.store.interfaces import LedgerEntry


def entry(symbol: str, qty: str, price: str, commission: str = "0") -> LedgerEntry:
    return LedgerEntry(
        symbol, to_units(Decimal(qty)), to_units(Decimal(price)), to_units(Decimal(commission))
    )


def test_average_cost_and_realised_pnl_hand_computed() -> None:
    book = build_book(
        [
            entry("AAPL", "10", "150.25", "0.5"),
            entry("AAPL", "5", "152.10"),
            entry("MSFT", "3.5", "410"),
            entry("AAPL", "-4", "160"),
        ]
    )
    aapl = book.positions["AAPL"]
    assert aapl.qty == Decimal("11")
    # (10 × 150.25 + 5 × 152.10) / 15 = 2263 / 15
    # The only rounding is the 10⁻¹⁸-dollar floor when a sale removes part of the cost basis.
    assert abs(aapl.cost_basis - Decimal(2263) * 11 / 15) <= Decimal("1e-18")
    assert abs(aapl.avg_cost - Decimal(2263) / 15) < Decimal("1e-18")
    assert abs(book.realized_pnl - 4 * (160 - Decimal(2263) / 15)) <= Decimal("1e-18")
    assert book.commissions == Decimal("0.5")
    # buys 1502.5 + 760.5 + 1435 − sale 640 + commission 0.5
    assert book.net_invested == Decimal("3058.5")


def test_closed_position_disappears_but_keeps_its_pnl() -> None:
    book = build_book([entry("X", "2", "10"), entry("X", "-2", "12.5")])
    assert book.positions == {}
    assert book.realized_pnl == Decimal(5)


def test_prices_attach_to_positions() -> None:
    book = build_book([entry("A", "10", "10"), entry("B", "5", "20")])
    priced = book.priced({"A": Price("A", date(2026, 1, 2), Decimal("12"))})
    assert priced.positions["A"].market_value == Decimal(120)
    assert priced.positions["A"].unrealized_pnl == Decimal(20)
    assert priced.positions["B"].unrealized_pnl is None


def test_short_crossing_restarts_cost_at_the_crossing_price() -> None:
    book = build_book([entry("X", "2", "10"), entry("X", "-5", "12")])
    x = book.positions["X"]
    assert x.qty == Decimal(-3)
    assert x.avg_cost == Decimal(12)
    assert book.realized_pnl == Decimal(4)


def test_ten_thousand_small_fills_do_not_drift() -> None:
    # 0.1 × 0.1 is the classic float trap; the ledger is exact.
    entries = [entry("X", "0.1", "0.1")] * 10_000 + [entry("X", "-0.1", "0.3")] * 5_000
    book = build_book(entries)
    assert book.positions["X"].qty == Decimal(500)
    assert book.positions["X"].cost_basis == Decimal(50)
    assert book.realized_pnl == Decimal(100)
    assert book.net_invested == Decimal(100) - Decimal(150)


quantities = st.decimals(min_value=Decimal("0.000000001"), max_value=Decimal(1000), places=9)
prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(5000), places=4)


@given(st.lists(st.tuples(st.booleans(), quantities, prices), min_size=1, max_size=40))
def test_cash_identity_holds_for_any_long_only_sequence(trades: list[tuple[bool, Decimal, Decimal]]) -> None:
    # Whatever the order of buys and sells, money is conserved: the cash the fills consumed
    # equals what the open positions cost less the profit already realised.
    entries: list[LedgerEntry] = []
    held = Decimal(0)
    for is_buy, qty, price in trades:
        q = qty if is_buy else -min(qty, held)
        if q == 0:
            continue
        held += q
        entries.append(entry("X", str(q), str(price)))
    book = build_book(entries)
    open_cost = sum((p.cost_basis for p in book.positions.values()), Decimal(0))
    assert abs(book.net_invested - (open_cost - book.realized_pnl)) < Decimal("1e-15")
    assert all(p.qty > 0 for p in book.positions.values())
    assert sum((p.qty for p in book.positions.values()), Decimal(0)) == held
