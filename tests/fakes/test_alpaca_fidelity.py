"""The fake Alpaca answers as the real one does: every body it serves is checked here.

Each endpoint of :class:`~tests.fakes.alpaca.FakeAlpaca` is called over HTTP and its JSON
body validated against alpaca-py's pydantic models, the ones Alpaca's own SDK parses real
answers with: ``Order``, ``Position``, ``TradeAccount``, ``Clock``, ``Asset``,
``TradeActivity`` on the trading API, and ``Bar``, ``Trade``, ``Quote`` on the data API
(alpaca-py maps the data API's short keys ``t``, ``o``, ``h``… itself, from the raw JSON).
Validation alone lets unknown keys through, so each body's keys must also be ones
alpaca-py models or that a real body of the same endpoint carries
(tests/fixtures/alpaca/, see its PROVENANCE.md): the fake invents no field.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.data.mappings import BAR_MAPPING, QUOTE_MAPPING, TRADE_MAPPING
from alpaca.data.models import Bar, Quote, Trade
from alpaca.trading.enums import OrderStatus as AlpacaOrderStatus
from alpaca.trading.models import Asset, Clock, Order, Position, TradeAccount, TradeActivity
from pydantic import BaseModel

from tests.conftest import FakeClock
from tests.fakes.alpaca import KEY_ID, ORDER_STATUSES, SECRET, FakeAlpaca

FIXTURES = Path(__file__).parent.parent / "fixtures" / "alpaca"


def real_keys(*names: str) -> set[str]:
    """The keys of the real sample bodies (objects, or the objects of a list) named."""
    keys: set[str] = set()
    for name in names:
        data = json.loads((FIXTURES / name).read_text())
        for item in data if isinstance(data, list) else [data]:
            keys |= set(item)
    return keys


def model_keys(model: type[BaseModel]) -> set[str]:
    return {field.alias or name for name, field in model.model_fields.items()}


def check(model: type[BaseModel], body: dict[str, Any], *samples: str) -> BaseModel:
    """Validates one trading API object and checks it carries no invented key."""
    parsed = model.model_validate(body)
    unknown = set(body) - model_keys(model) - real_keys(*samples)
    assert not unknown, f"{model.__name__}: keys neither alpaca-py nor a real body has: {unknown}"
    return parsed


def check_data[M: (Bar, Trade, Quote)](
    model: type[M], symbol: str, raw: dict[str, Any], mapping: dict[str, str]
) -> M:
    """Validates one data API object the way alpaca-py's data clients parse it."""
    assert set(raw) <= set(mapping), f"{model.__name__}: unknown keys {set(raw) - set(mapping)}"
    return model(symbol, raw)


@pytest.fixture
def fake(clock: FakeClock) -> Iterator[FakeAlpaca]:
    with FakeAlpaca(clock=clock) as fake:
        fake.set_price("AAPL", "150.25")
        fake.set_price("MSFT", "400")
        yield fake


@pytest.fixture
def http(fake: FakeAlpaca) -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.headers.update({"APCA-API-KEY-ID": KEY_ID, "APCA-API-SECRET-KEY": SECRET})
        yield session


def call(http: requests.Session, fake: FakeAlpaca, method: str, path: str, **kw: Any) -> requests.Response:
    return http.request(method, fake.url + path, timeout=5, **kw)


def buy(
    http: requests.Session, fake: FakeAlpaca, coid: str, symbol: str = "AAPL", qty: str = "2"
) -> requests.Response:
    body = {"symbol": symbol, "qty": qty, "side": "buy", "type": "market", "time_in_force": "day"}
    return call(http, fake, "POST", "/v2/orders", json={**body, "client_order_id": coid})


# -- trading API ----------------------------------------------------------------------------
def test_account_is_a_trade_account(fake: FakeAlpaca, http: requests.Session) -> None:
    fake.multiplier = 2
    account = check(TradeAccount, call(http, fake, "GET", "/v2/account").json(), "account.json")
    assert isinstance(account, TradeAccount)
    assert account.cash == "100000" and account.buying_power == "200000"
    assert account.non_marginable_buying_power == "100000"


def test_clock(fake: FakeAlpaca, http: requests.Session) -> None:
    clock = check(Clock, call(http, fake, "GET", "/v2/clock").json(), "clock.json")
    assert isinstance(clock, Clock) and clock.is_open


def test_asset(fake: FakeAlpaca, http: requests.Session) -> None:
    fake.set_asset("BRK.A", fractionable=False)
    fake.set_price("BRK.A", "700000")
    asset = check(Asset, call(http, fake, "GET", "/v2/assets/BRK.A").json(), "asset.json")
    assert isinstance(asset, Asset) and asset.fractionable is False


def test_every_order_answer_is_an_order(fake: FakeAlpaca, http: requests.Session) -> None:
    samples = ("order_market_accepted.json", "orders_list.json", "order_limit_filled_capture.json")
    fake.fill_mode = "partial"
    posted = buy(http, fake, "c1").json()
    order = check(Order, posted, *samples)
    assert isinstance(order, Order) and order.status == AlpacaOrderStatus.PARTIALLY_FILLED
    by_id = call(http, fake, "GET", f"/v2/orders/{posted['id']}").json()
    by_coid = call(http, fake, "GET", "/v2/orders:by_client_order_id", params={"client_order_id": "c1"})
    check(Order, by_id, *samples)
    check(Order, by_coid.json(), *samples)
    for status in ("open", "closed", "all"):
        for item in call(http, fake, "GET", "/v2/orders", params={"status": status}).json():
            check(Order, item, *samples)
    canceled = call(http, fake, "DELETE", f"/v2/orders/{posted['id']}")
    assert canceled.status_code == 204 and canceled.content == b""
    check(Order, call(http, fake, "GET", f"/v2/orders/{posted['id']}").json(), *samples)


def test_the_fake_knows_every_status_alpaca_documents() -> None:
    assert set(ORDER_STATUSES) == {status.value for status in AlpacaOrderStatus}


@pytest.mark.parametrize("status", ORDER_STATUSES)
def test_every_documented_status_can_be_set_and_validates(
    fake: FakeAlpaca, http: requests.Session, status: str
) -> None:
    fake.fill_mode = "never"
    order_id = buy(http, fake, f"c-{status}").json()["id"]
    fake.set_status(order_id, status)
    answer = call(http, fake, "GET", f"/v2/orders/{order_id}").json()
    order = check(Order, answer, "order_market_accepted.json")
    assert isinstance(order, Order) and order.status.value == status


def test_an_undocumented_status_is_refused(fake: FakeAlpaca, http: requests.Session) -> None:
    order_id = buy(http, fake, "c1").json()["id"]
    with pytest.raises(ValueError, match="no order status 'done'"):
        fake.set_status(order_id, "done")


def test_positions(fake: FakeAlpaca, http: requests.Session) -> None:
    buy(http, fake, "c1")
    buy(http, fake, "c2", symbol="MSFT", qty="0.5")
    rows = call(http, fake, "GET", "/v2/positions").json()
    assert [check(Position, row, "positions.json", "positions_capture.json").symbol for row in rows] == [
        "AAPL",
        "MSFT",
    ]  # type: ignore[attr-defined]


def test_fill_activities_are_trade_activities(fake: FakeAlpaca, http: requests.Session) -> None:
    fake.fill_mode = "partial"
    order_id = buy(http, fake, "c1").json()["id"]
    fake.fill_open()
    rows = call(http, fake, "GET", "/v2/account/activities/FILL", params={"direction": "asc"}).json()
    parsed = [check(TradeActivity, row, "activities_fill.json") for row in rows]
    assert [a.type.value for a in parsed] == ["partial_fill", "fill"]  # type: ignore[attr-defined]
    assert {str(a.order_id) for a in parsed} == {order_id}  # type: ignore[attr-defined]


def test_error_bodies_parse_as_alpaca_errors(fake: FakeAlpaca, http: requests.Session) -> None:
    buy(http, fake, "c1")
    answers = [
        call(http, fake, "GET", "/v2/orders/no-such-order"),  # 404
        buy(http, fake, "c1"),  # 422 duplicate
        buy(http, fake, "c2", qty="100000"),  # 403 buying power
        requests.get(fake.url + "/v2/account", timeout=5),  # 401
    ]
    assert [a.status_code for a in answers] == [404, 422, 403, 401]
    for answer in answers:
        error = APIError(answer.text)
        assert isinstance(error.code, int) and error.message


# -- data API -------------------------------------------------------------------------------
def test_latest_trades(fake: FakeAlpaca, http: requests.Session) -> None:
    body = call(http, fake, "GET", "/v2/stocks/trades/latest", params={"symbols": "AAPL,MSFT"}).json()
    trades = {s: check_data(Trade, s, raw, TRADE_MAPPING) for s, raw in body["trades"].items()}
    assert trades["AAPL"].price == 150.25


def test_latest_quotes(fake: FakeAlpaca, http: requests.Session) -> None:
    fake.set_quote("AAPL", bid="150.2", ask="150.3")
    body = call(http, fake, "GET", "/v2/stocks/quotes/latest", params={"symbols": "AAPL,MSFT"}).json()
    quotes = {s: check_data(Quote, s, raw, QUOTE_MAPPING) for s, raw in body["quotes"].items()}
    assert (quotes["AAPL"].bid_price, quotes["AAPL"].ask_price) == (150.2, 150.3)
    assert quotes["MSFT"].bid_price == quotes["MSFT"].ask_price == 400


def test_daily_bars(fake: FakeAlpaca, http: requests.Session) -> None:
    fake.add_bars("AAPL", {date(2026, 1, 2): "150", date(2026, 1, 5): Decimal("151.5")})
    params = {"symbols": "AAPL", "timeframe": "1Day", "start": "2026-01-01", "limit": "1"}
    pages = []
    while True:
        body = call(http, fake, "GET", "/v2/stocks/bars", params=params).json()
        bars = [check_data(Bar, s, raw, BAR_MAPPING) for s, items in body["bars"].items() for raw in items]
        pages.append(bars)
        if not body["next_page_token"]:
            break
        params["page_token"] = body["next_page_token"]
    assert [[bar.close for bar in page] for page in pages] == [[150.0], [151.5]]


def test_alpaca_py_is_a_test_only_dependency() -> None:
    # Issue 12: alpaca-py validates the fake; pas itself talks to Alpaca over its own
    # small adapter (DESIGN.md: alpaca-py retries order POSTs blindly and sets no timeouts).
    package = Path(__file__).resolve().parents[2] / "pas"
    importing = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n == "alpaca" or n.startswith("alpaca.") for n in names):
                importing.append(str(path.relative_to(package)))
    assert importing == []
