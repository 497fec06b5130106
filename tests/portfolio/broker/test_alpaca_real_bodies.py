"""pas's Alpaca parsers over real bodies from public sources (tests/fixtures/alpaca/).

Each body is served by the fake Alpaca in place of its own answer (an injected ``body``),
so it reaches pas through the public :class:`AlpacaBroker` methods, over HTTP, exactly as
a real answer would. Where pas cannot parse a real body because of a defect issue 12
names, the case is ``xfail(strict=True)``: the fix flips it to a pass.

Bodies pas has no parser for (non-trade activities, latest quotes) are checked against
alpaca-py's models only, so the samples themselves are known to be right.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests
from alpaca.data.models import Bar, Quote, Trade
from alpaca.trading.models import Asset, Clock, NonTradeActivity, Order, Position, TradeAccount, TradeActivity

from pas.domain.broker import OrderStatus
from tests.fakes.alpaca import FINAL_STATUSES, KEY_ID, ORDER_STATUSES, SECRET, FakeAlpaca

if TYPE_CHECKING:
    from pas.portfolio.broker.alpaca import AlpacaBroker

FIXTURES = Path(__file__).parents[2] / "fixtures" / "alpaca"
ORDER_ID = "61e69015-8549-4bfd-b9c3-01e75843f47d"
COID = "eb9e2aaa-f71a-4f51-b5b4-52a6c565dad4"


def sample(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def fake() -> Iterator[FakeAlpaca]:
    with FakeAlpaca() as fake:
        yield fake


@pytest.fixture
def broker(fake: FakeAlpaca) -> Iterator[AlpacaBroker]:
    # Imported here: pas/portfolio/broker/alpaca.py is being split; one place to follow it.
    from pas.portfolio.broker.alpaca import AlpacaBroker

    with requests.Session() as session:
        yield AlpacaBroker(session, fake.url, fake.url, KEY_ID, SECRET, sleep=lambda _: None)


def test_every_fixture_is_listed_in_the_provenance() -> None:
    provenance = (FIXTURES / "PROVENANCE.md").read_text()
    names = sorted(p.name for p in FIXTURES.glob("*.json"))
    assert names and all(f"| {name} |" in provenance for name in names)


def test_account(fake: FakeAlpaca, broker: AlpacaBroker) -> None:
    fake.inject("account", body=raw("account.json"))
    account = broker.account()
    assert (account.equity, account.cash, account.buying_power) == (
        Decimal("103820.56"),
        Decimal("-23140.2"),
        Decimal("262113.632"),
    )
    assert account.blocked is False and account.currency == "USD"


def test_clock(fake: FakeAlpaca, broker: AlpacaBroker) -> None:
    fake.inject("clock", body=raw("clock.json"))
    clock = broker.clock()
    assert clock.is_open is False
    assert clock.timestamp == datetime(2022, 5, 16, 20, 32, 24, 143735, tzinfo=UTC)
    assert clock.next_open == datetime(2022, 5, 17, 13, 30, tzinfo=UTC)


def test_asset(fake: FakeAlpaca, broker: AlpacaBroker) -> None:
    fake.inject("asset", body=raw("asset.json"))
    asset = broker.asset("AAPL")
    assert (asset.symbol, asset.tradable, asset.fractionable) == ("AAPL", True, True)


@pytest.mark.parametrize("endpoint", ["submit", "order", "order_by_client_id"])
def test_an_order_from_each_order_endpoint(fake: FakeAlpaca, broker: AlpacaBroker, endpoint: str) -> None:
    from pas.domain.broker import OrderRequest
    from pas.models import Side

    fake.inject(endpoint, body=raw("order_market_accepted.json"))
    if endpoint == "submit":
        order = broker.submit_order(OrderRequest("AAPL", Side.BUY, Decimal(1), COID))
    elif endpoint == "order":
        order = broker.get_order(ORDER_ID)
    else:
        found = broker.order_by_client_id(COID)
        assert found is not None
        order = found
    assert (order.id, order.client_order_id, order.qty, order.filled_qty) == (
        ORDER_ID,
        COID,
        Decimal(1),
        Decimal(0),
    )
    assert order.filled_avg_price is None and order.status.value == "accepted"
    assert order.submitted_at == datetime(2021, 3, 16, 18, 38, 1, 937734, tzinfo=UTC)


def test_an_order_by_notional_has_no_qty(fake: FakeAlpaca, broker: AlpacaBroker) -> None:
    fake.inject("order", body=raw("order_notional_accepted.json"))
    order = broker.get_order(ORDER_ID)
    assert (order.symbol, order.qty, order.filled_qty) == ("AAPL", Decimal(0), Decimal(0))


def test_orders_list(fake: FakeAlpaca, broker: AlpacaBroker) -> None:
    fake.inject("orders", body=raw("orders_list.json"))
    [order] = broker.list_orders(status="all")
    assert (order.symbol, order.qty, order.filled_avg_price, order.status.value) == (
        "SPY",
        Decimal(1),
        Decimal(0),
        "new",
    )


def test_a_captured_filled_limit_order(fake: FakeAlpaca, broker: AlpacaBroker) -> None:
    fake.inject("orders", body=b"[" + raw("order_limit_filled_capture.json") + b"]")
    [order] = broker.list_orders(status="closed")
    assert (order.symbol, order.qty, order.filled_qty, order.filled_avg_price) == (
        "SPY",
        Decimal(10),
        Decimal(10),
        Decimal("361.92"),
    )
    assert order.status.terminal
    assert order.submitted_at == datetime(2022, 10, 14, 15, 28, 33, 473279, tzinfo=UTC)


@pytest.mark.parametrize("status", ORDER_STATUSES)
def test_every_documented_status_in_a_real_order(fake: FakeAlpaca, broker: AlpacaBroker, status: str) -> None:
    body = {**sample("order_market_accepted.json"), "status": status}
    fake.inject("order", body=json.dumps(body).encode())
    order = broker.get_order(ORDER_ID)
    # Final statuses end polling; every other documented one keeps the order open.
    assert order.status.terminal == (status in FINAL_STATUSES)
    assert (order.status.value, order.status_name) == (status, status)  # each one known by name


def test_a_status_alpaca_may_add_later_keeps_the_order_open(fake: FakeAlpaca, broker: AlpacaBroker) -> None:
    body = {**sample("order_market_accepted.json"), "status": "pending_something_new"}
    fake.inject("order", body=json.dumps(body).encode())
    order = broker.get_order(ORDER_ID)
    assert not order.status.terminal
    assert (order.status, order.status_name) == (OrderStatus.UNRECOGNISED, "pending_something_new")


def test_positions(fake: FakeAlpaca, broker: AlpacaBroker) -> None:
    fake.inject("positions", body=raw("positions.json"))
    [position] = broker.positions()
    assert (position.symbol, position.qty, position.market_value) == ("AAPL", Decimal(5), Decimal(600))


def test_a_captured_position(fake: FakeAlpaca, broker: AlpacaBroker) -> None:
    fake.inject("positions", body=raw("positions_capture.json"))
    [position] = broker.positions()
    assert (position.symbol, position.qty, position.market_value) == ("SPY", Decimal(2), Decimal("723.1"))


def test_fill_activities(fake: FakeAlpaca, broker: AlpacaBroker) -> None:
    fake.inject("activities", body=raw("activities_fill.json"))
    [fill] = broker.fills()
    assert (fill.symbol, fill.qty, fill.price, fill.order_id) == (
        "GOOGL",
        Decimal(9),
        Decimal("2630.95"),
        "b677e464-c2d0-4fdd-a4b1-8830b386aa50",
    )
    assert fill.ts == datetime(2022, 3, 4, 14, 53, 18, 500245, tzinfo=UTC)


def test_latest_trades(fake: FakeAlpaca, broker: AlpacaBroker) -> None:
    fake.inject("trades_latest", body=raw("trades_latest_multi.json"))
    assert broker.latest_prices(["AAPL", "TSLA"]) == {"AAPL": Decimal("161.2958"), "TSLA": Decimal("720.19")}


def test_daily_bars(fake: FakeAlpaca, broker: AlpacaBroker) -> None:
    fake.inject("bars", body=raw("bars_multi.json"))
    bars = broker.daily_bars(["AAPL", "TSLA"], date(2022, 2, 1), date(2022, 3, 9))
    assert [(b.symbol, b.day, b.close) for b in bars] == [
        ("AAPL", date(2022, 3, 9), Decimal("162.95")),
        ("TSLA", date(2022, 3, 9), Decimal("858.97")),
    ]


def test_daily_bars_none(fake: FakeAlpaca, broker: AlpacaBroker) -> None:
    fake.inject("bars", body=raw("bars_multi_empty.json"))
    assert broker.daily_bars(["AAPL"], date(2022, 2, 1)) == []


# -- the samples themselves, against alpaca-py ------------------------------------------------
TRADING_SAMPLES = {
    "account.json": TradeAccount,
    "asset.json": Asset,
    "clock.json": Clock,
    "order_limit_filled_capture.json": Order,
    "order_market_accepted.json": Order,
    "order_notional_accepted.json": Order,
    "orders_list.json": Order,
    "positions.json": Position,
    "positions_capture.json": Position,
    "activities_fill.json": TradeActivity,
}


@pytest.mark.parametrize("name", sorted(TRADING_SAMPLES))
def test_each_trading_sample_is_what_alpaca_py_parses(name: str) -> None:
    data = sample(name)
    for item in data if isinstance(data, list) else [data]:
        TRADING_SAMPLES[name].model_validate(item)


def test_data_samples_are_what_alpaca_py_parses() -> None:
    bars = sample("bars_multi.json")["bars"]
    assert Bar("AAPL", bars["AAPL"][0]).close == 162.95
    trades = sample("trades_latest_multi.json")["trades"]
    assert Trade("TSLA", trades["TSLA"]).price == 720.19


def test_activity_samples_are_alpaca_activities() -> None:
    mixed = sample("activities_mixed.json")
    assert isinstance(NonTradeActivity.model_validate(mixed[0]), NonTradeActivity)
    assert isinstance(TradeActivity.model_validate(mixed[1]), TradeActivity)
    [dividend] = sample("activities_dividend.json")
    assert NonTradeActivity.model_validate(dividend).net_amount == 100


def test_quote_sample_is_an_alpaca_quote() -> None:
    body = sample("quote_latest_single.json")
    quote = Quote(body["symbol"], body["quote"])
    assert (quote.bid_price, quote.ask_price) == (161.1, 161.11)
