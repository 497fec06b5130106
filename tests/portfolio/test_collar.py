"""The price collar and marketable limit orders (issue 12, "Price protection")."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pas.domain.broker import Quote
from pas.errors import RefusedError
from pas.models import UNITS_PER_ONE, Side, TradeOrder
from pas.portfolio.trading.collar import check_collar, limit_price, reference_prices

D = Decimal
COLLAR = D("0.1")


def test_the_reference_is_the_quote_midpoint_else_the_last_trade() -> None:
    quotes = {"AAA": Quote("AAA", D("9.9"), D("10.1")), "BBB": Quote("BBB", D(0), D(0))}
    assert reference_prices({"AAA": D("10.05"), "BBB": D(20)}, quotes) == {"AAA": D(10), "BBB": D(20)}


def test_a_stale_print_far_from_the_quote_is_refused() -> None:
    # The case: a $20 last trade of a $200 stock.
    quotes = {"AAA": Quote("AAA", D("199.9"), D("200.1"))}
    with pytest.raises(
        RefusedError, match=r"^AAA: the quote midpoint \$200.0000 is more than PRICE_COLLAR \(10%\)"
    ):
        check_collar(["AAA"], {"AAA": D(20)}, quotes, {}, COLLAR)
    with pytest.raises(RefusedError, match="away from its last stored close"):
        check_collar(["AAA"], {"AAA": D(200)}, quotes, {"AAA": D(150)}, COLLAR)
    check_collar(["AAA"], {"AAA": D(205)}, quotes, {"AAA": D(181)}, COLLAR)  # within 10%: fine


@pytest.mark.parametrize("quote", [None, Quote("AAA", D(0), D(200)), Quote("AAA", D(201), D(200))])
def test_no_valid_quote_means_no_order(quote: Quote | None) -> None:
    quotes = {} if quote is None else {"AAA": quote}
    with pytest.raises(RefusedError, match=r"^AAA has no current quote"):
        check_collar(["AAA"], {"AAA": D(200)}, quotes, {}, COLLAR)


def _order(side: Side, price: str) -> TradeOrder:
    return TradeOrder("r", "c", 0, "AAA", side, UNITS_PER_ONE, D(price), True, (("a", UNITS_PER_ONE),))


def test_limits_move_against_the_trader_by_the_collar_on_alpacas_tick() -> None:
    assert limit_price(_order(Side.BUY, "200"), COLLAR) == D("220.00")
    assert limit_price(_order(Side.SELL, "200"), COLLAR) == D("180.00")
    assert limit_price(_order(Side.BUY, "10.005"), COLLAR) == D("11.00")  # 11.0055 floored
    assert limit_price(_order(Side.SELL, "10.005"), COLLAR) == D("9.01")  # 9.0045 raised
    assert limit_price(_order(Side.BUY, "0.5"), COLLAR) == D("0.5500")  # sub-dollar: 1/100 cent
