"""Netting orders across portfolios and splitting fills back."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pas.domain.broker import BrokerFill
from pas.models import UNITS_PER_ONE, Side, TradeOrder, TradeOrderStatus, parse_ts
from pas.portfolio.netting import client_order_id, net_orders, prorate, split_units
from pas.portfolio.rebalance import PlannedOrder
from pas.portfolio.trading.settle import split_fill

D = Decimal


def test_client_order_ids_are_deterministic_and_at_most_48_characters() -> None:
    assert client_order_id("260105150000abcd", "lobby", "AAPL") == "pas-260105150000abcd-lobby-AAPL"
    long = client_order_id("260105150000abcd", "a-very-long-name", "BRK.B-LONGNAME")
    assert len(long) == 48
    assert long == client_order_id("260105150000abcd", "a-very-long-name", "BRK.B-LONGNAME")
    assert long != client_order_id("260105150000abcd", "a-very-long-name", "BRK.B-LONGNAMF")


def test_split_gives_leftover_units_to_the_largest_remainders() -> None:
    assert split_units(10, {"a": 5, "b": 5, "c": 5}) == {"a": 4, "b": 3, "c": 3}
    assert split_units(
        5 * UNITS_PER_ONE, {"a": 3 * UNITS_PER_ONE, "b": 4 * UNITS_PER_ONE}, UNITS_PER_ONE
    ) == {
        "a": 2 * UNITS_PER_ONE,
        "b": 3 * UNITS_PER_ONE,
    }
    with pytest.raises(ValueError, match="cannot split 8"):
        split_units(8, {"a": 3, "b": 4})


@given(
    st.dictionaries(st.sampled_from("abcdefgh"), st.integers(min_value=0, max_value=10**15), min_size=1),
    st.data(),
)
def test_split_sums_exactly_and_never_exceeds_an_ask(asks: dict[str, int], data: st.DataObject) -> None:
    total = data.draw(st.integers(min_value=0, max_value=sum(asks.values())))
    shares = split_units(total, asks)
    assert sum(shares.values()) == total
    assert all(0 <= shares[k] <= asks[k] for k in asks)


@given(
    st.dictionaries(st.sampled_from("abcde"), st.integers(min_value=1, max_value=10**12), min_size=1),
    st.lists(st.integers(min_value=1, max_value=10**12), min_size=1, max_size=8),
)
def test_partial_fills_split_by_what_is_still_lacking_end_exactly_at_the_asks(
    asks: dict[str, int], chunks: list[int]
) -> None:
    received = dict.fromkeys(asks, 0)
    left = sum(asks.values())
    for chunk in chunks:
        fill = min(chunk, left)
        shares = split_units(fill, {k: asks[k] - received[k] for k in asks})
        assert sum(shares.values()) == fill
        for k, v in shares.items():
            received[k] += v
            assert received[k] <= asks[k]
        left -= fill
    last = split_units(left, {k: asks[k] - received[k] for k in asks})
    assert {k: received[k] + last[k] for k in asks} == asks


def _order(portfolio: str, symbol: str, side: Side, qty: str) -> PlannedOrder:
    return PlannedOrder(portfolio, symbol, side, D(qty), D(10), "test")


def test_opposite_orders_cross_internally_and_the_rest_goes_to_the_broker() -> None:
    orders = [
        _order("a", "AAA", Side.BUY, "10"),
        _order("b", "AAA", Side.SELL, "4"),
        _order("c", "AAA", Side.BUY, "5"),
        _order("a", "BBB", Side.SELL, "2"),
        _order("b", "CCC", Side.SELL, "3"),
        _order("c", "CCC", Side.BUY, "3"),
    ]
    netted = net_orders("260105150000abcd", orders, {"AAA": False})
    by_symbol = {o.symbol: o for o in netted}
    aaa = by_symbol["AAA"]
    u = UNITS_PER_ONE
    # 4 crossed: b sells 4, buyers a and c get 4 split 10:5 in whole shares (3 and 1).
    assert aaa.crosses == (("a", 3 * u), ("b", -4 * u), ("c", 1 * u))
    assert (aaa.side, aaa.qty, aaa.shares) == (Side.BUY, 11 * u, (("a", 7 * u), ("c", 4 * u)))
    assert aaa.client_order_id == "pas-260105150000abcd-net-AAA"
    assert by_symbol["BBB"].client_order_id == "pas-260105150000abcd-a-BBB"
    assert by_symbol["CCC"].qty == 0 and by_symbol["CCC"].status is TradeOrderStatus.CROSSED
    # Sells first, then buys, then fully crossed symbols.
    assert [o.symbol for o in netted] == ["BBB", "AAA", "CCC"]
    assert [o.seq for o in netted] == [0, 1, 2]


def test_a_fractional_leftover_of_a_whole_share_asset_crosses_in_whole_shares() -> None:
    # Issue 12: a (legacy) fractional holding of a non-fractionable asset, sold in full,
    # crossed against a whole-share buy made net_orders raise "cannot split …" and stopped
    # every `rebalance --all`. Whole shares cross; the fraction goes to the broker.
    u = UNITS_PER_ONE
    orders = [_order("a", "AAA", Side.SELL, "2.5"), _order("b", "AAA", Side.BUY, "4")]
    (aaa,) = net_orders("260105150000abcd", orders, {"AAA": False})
    assert aaa.crosses == (("a", -2 * u), ("b", 2 * u))
    assert (aaa.side, aaa.qty, aaa.shares) == (Side.BUY, 2 * u, (("b", 2 * u),))
    sells = [_order("a", "AAA", Side.SELL, "2.5"), _order("b", "AAA", Side.BUY, "1")]
    (sell,) = net_orders("260105150000abcd", sells, {"AAA": False})
    assert sell.crosses == (("a", -1 * u), ("b", 1 * u))
    assert (sell.side, sell.qty, sell.shares) == (Side.SELL, u + u // 2, (("a", u + u // 2),))


def test_money_is_prorated_over_any_weights_without_a_cap() -> None:
    # A commission (nano dollars) larger than the shares it is split over (nano shares).
    assert prorate(10**9, {"a": 2, "b": 1}) == {"a": 666_666_667, "b": 333_333_333}
    assert prorate(50_000_000, {"a": 250_000_000, "b": 125_000_000}) == {"a": 33_333_333, "b": 16_666_667}


def test_a_commission_larger_in_dollars_than_the_fill_in_shares_is_split_in_money() -> None:
    # Issue 12: `cannot split 50000000 over asks totalling 375000000`-style failures: the
    # commission (nano dollars) was split over the shares (nano shares) as if a lot.
    u = UNITS_PER_ONE
    order = TradeOrder(
        "260105150000abcd",
        "pas-260105150000abcd-net-AAA",
        0,
        "AAA",
        Side.BUY,
        u // 4 + u // 8,
        D(10),
        True,
        (("a", u // 4), ("b", u // 8)),
    )
    fill = BrokerFill(
        "f1", "o1", "AAA", Side.BUY, D("0.375"), D(10), parse_ts("2026-01-05T15:00:00Z"), D("1")
    )
    fills = split_fill(order, fill, {})
    assert [(f.portfolio, f.qty, f.commission) for f in fills] == [
        ("a", D("0.25"), D("0.666666667")),
        ("b", D("0.125"), D("0.333333333")),
    ]
    assert sum(f.commission for f in fills) == D(1)
