"""The one account model: hand-computed values and the identities that tie it together."""

from __future__ import annotations

import operator
from datetime import UTC, date, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from pas.models import CashFlow, Portfolio, Price, Schedule, to_units
from pas.portfolio.account import portfolio_account
from pas.portfolio.ledger import build_book
from pas.store.interfaces import LedgerEntry

T0 = datetime(2026, 1, 5, 15, tzinfo=UTC)
DAY = date(2026, 1, 2)


def _portfolio(capital: Decimal | None) -> Portfolio:
    return Portfolio("lobby", "manual", Schedule.DAILY, T0, capital)


def _flow(amount: str, flow_id: str, note: str = "") -> CashFlow:
    return CashFlow("lobby", Decimal(amount), T0, flow_id, note)


def _entry(symbol: str, qty: str, price: str, commission: str = "0") -> LedgerEntry:
    return LedgerEntry(
        symbol, to_units(Decimal(qty)), to_units(Decimal(price)), to_units(Decimal(commission))
    )


def _price(symbol: str, close: str, day: date = DAY) -> Price:
    return Price(symbol, day, Decimal(close))


def test_hand_computed_account() -> None:
    # Capital 10,000; deposit 5,000; withdrawal 1,000; an allocation transfer of −500.
    flows = [_flow("5000", "d"), _flow("-1000", "w"), _flow("-500", "a", "allocation")]
    # Buy 50 A at 100 (commission 1), buy 20 B at 50, sell 10 A at 110 (commission 1).
    book = build_book(
        [_entry("A", "50", "100", "1"), _entry("B", "20", "50"), _entry("A", "-10", "110", "1")]
    )
    older = date(2025, 12, 31)
    account = portfolio_account(
        _portfolio(Decimal(10000)), flows, book, {"A": _price("A", "120"), "B": _price("B", "40", older)}
    )
    assert account.funded == Decimal(13500)
    # 13,500 − 5,000 − 1,000 + 1,100 − 2
    assert account.cash == Decimal(8598)
    assert account.values == {"A": Decimal(4800), "B": Decimal(800)}
    assert account.market_value == Decimal(5600)
    assert account.equity == Decimal(14198)
    assert account.weights == {"A": Decimal(4800) / 14198, "B": Decimal(800) / 14198}
    assert account.price_dates == {"A": DAY, "B": older}
    assert account.realized_pnl == Decimal(100)
    assert account.commissions == Decimal(2)
    assert account.unpriced == ()


def test_no_money_and_no_price() -> None:
    book = build_book([_entry("A", "10", "10"), _entry("B", "5", "20")])
    unfunded = portfolio_account(_portfolio(None), [], book, {"A": _price("A", "12"), "B": _price("B", "20")})
    assert (unfunded.funded, unfunded.cash, unfunded.equity) == (None, None, None)
    assert unfunded.market_value == Decimal(220)
    assert unfunded.weights == {"A": Decimal(120) / 220, "B": Decimal(100) / 220}, "of the market value"
    unpriced = portfolio_account(_portfolio(Decimal(1000)), [], book, {"A": _price("A", "12")})
    assert unpriced.cash == Decimal(800)
    assert unpriced.unpriced == ("B",)
    assert (unpriced.market_value, unpriced.equity, unpriced.weights) == (None, None, {})
    only_flows = portfolio_account(_portfolio(None), [_flow("300", "d")], build_book([]), {})
    assert (only_flows.funded, only_flows.cash, only_flows.equity) == (
        Decimal(300),
        Decimal(300),
        Decimal(300),
    )


_money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10**6), places=2)
_qty = st.decimals(min_value=Decimal("0.001"), max_value=Decimal(1000), places=3)
_symbol = st.sampled_from(["A", "B", "C"])


@given(
    capital=st.none() | _money,
    flows=st.lists(_money | _money.map(operator.neg), max_size=4),
    trades=st.lists(st.tuples(_symbol, _qty, _money, st.booleans(), _money), max_size=8),
    closes=st.dictionaries(_symbol, _money, min_size=3),
)
def test_cash_is_funded_less_the_fills_and_equity_is_cash_plus_value(
    capital: Decimal | None,
    flows: list[Decimal],
    trades: list[tuple[str, Decimal, Decimal, bool, Decimal]],
    closes: dict[str, Decimal],
) -> None:
    # Sells only what is held, as pas does (it never sells short).
    held: dict[str, Decimal] = {}
    entries = []
    spent = Decimal(0)
    for symbol, qty, price, sell, commission in trades:
        signed = -min(qty, held.get(symbol, Decimal(0))) if sell else qty
        if signed == 0:
            continue
        held[symbol] = held.get(symbol, Decimal(0)) + signed
        entries.append(_entry(symbol, str(signed), str(price), str(commission / 100)))
        spent += signed * price + commission / 100
    cash_flows = [_flow(str(amount), f"f{i}") for i, amount in enumerate(flows)]
    prices = {s: _price(s, str(c)) for s, c in closes.items()}
    account = portfolio_account(_portfolio(capital), cash_flows, build_book(entries), prices)
    if capital is None and not flows:
        assert account.equity is None
        return
    funded = (capital or Decimal(0)) + sum(flows, Decimal(0))
    # Why: cash is what was put in less what the buys cost plus what the sells brought,
    # less commissions; and equity counts every dollar once, as cash or as a holding.
    assert account.funded == funded
    assert account.cash == funded - spent
    assert account.equity == account.cash + sum((q * closes[s] for s, q in held.items()), Decimal(0))
    assert account.market_value is not None and account.equity == account.cash + account.market_value
    if account.equity > 0:  # weights are quotients: exact to Decimal's 28 digits
        invested = sum(account.weights.values(), Decimal(0)) * account.equity
        assert abs(invested - account.market_value) <= Decimal("1e-15") * max(account.equity, Decimal(1))
