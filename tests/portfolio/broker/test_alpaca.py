"""The Alpaca adapter against the fake Alpaca server: parsing, faults, retries, the POST rule."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from pas.config import load_settings
from pas.domain.broker import OrderRequest, OrderStatus
from pas.errors import ConfigError, NotFoundError, PasError
from pas.models import Side
from pas.portfolio.broker.alpaca import (
    DEFAULT_TIMEOUT,
    MAX_ATTEMPTS,
    AlpacaBroker,
    alpaca_from_settings,
    is_live_url,
)
from pas.portfolio.broker.errors import (
    BrokerAuthError,
    BrokerError,
    OrderOutcomeUnknown,
    OrderRejected,
)
from pas.portfolio.pricefetch import last_completed_day
from tests.conftest import FakeClock
from tests.fakes.alpaca import BUYING_POWER, KEY_ID, SECRET, WASH_TRADE, FakeAlpaca, fake_alpaca

__all__ = ["fake_alpaca"]


class Sleeps(list[float]):
    """Records the waits the adapter asks for instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def broker(fake_alpaca: FakeAlpaca, sleeps: Sleeps, clock: FakeClock) -> Iterator[AlpacaBroker]:
    fake_alpaca.set_price("AAPL", "150.25")
    fake_alpaca.set_price("MSFT", "400")
    with requests.Session() as session:
        yield AlpacaBroker(
            session, fake_alpaca.url, fake_alpaca.url, KEY_ID, SECRET, sleep=sleeps, clock=clock
        )


def order(
    symbol: str = "AAPL", qty: str = "2", side: Side = Side.BUY, coid: str = "r1-p1-AAPL"
) -> OrderRequest:
    return OrderRequest(symbol=symbol, side=side, qty=Decimal(qty), client_order_id=coid)


def assert_no_secret(exc: BaseException) -> None:
    text = str(exc) + repr(exc.args)
    assert SECRET not in text and KEY_ID not in text


# -- parsing -------------------------------------------------------------------------------
def test_account(broker: AlpacaBroker, fake_alpaca: FakeAlpaca) -> None:
    fake_alpaca.trading_blocked = True
    account = broker.account()
    assert account.equity == Decimal("100000")
    assert account.cash == Decimal("100000")
    assert account.buying_power == Decimal("100000")
    assert account.blocked is True
    assert account.currency == "USD"
    logged = fake_alpaca.requests[-1]
    assert logged.headers["APCA-API-KEY-ID"] == KEY_ID
    assert logged.headers["APCA-API-SECRET-KEY"] == SECRET


def test_clock(broker: AlpacaBroker, fake_alpaca: FakeAlpaca) -> None:
    fake_alpaca.market_open = False
    market = broker.clock()
    assert market.is_open is False
    assert market.timestamp == datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
    assert market.next_close == datetime(2026, 1, 5, 21, 0, tzinfo=UTC)
    assert market.next_open.tzinfo == UTC
    assert last_completed_day(market) == date(2026, 1, 4)


def test_asset(broker: AlpacaBroker, fake_alpaca: FakeAlpaca) -> None:
    fake_alpaca.set_asset("BRK.A", tradable=True, fractionable=False)
    asset = broker.asset("BRK.A")
    assert (asset.symbol, asset.tradable, asset.fractionable) == ("BRK.A", True, False)
    with pytest.raises(NotFoundError, match="Alpaca has no asset 'NOPE'; check the ticker"):
        broker.asset("NOPE")


def test_submit_sends_alpaca_fields_and_parses_the_fill(
    broker: AlpacaBroker, fake_alpaca: FakeAlpaca
) -> None:
    placed = broker.submit_order(order(qty="1.5"))
    assert fake_alpaca.logged("/v2/orders")[-1].body == {
        "symbol": "AAPL",
        "qty": "1.5",
        "side": "buy",
        "type": "market",
        "time_in_force": "day",
        "client_order_id": "r1-p1-AAPL",
    }
    assert placed.status is OrderStatus.FILLED
    assert placed.filled_qty == Decimal("1.5")
    assert placed.filled_avg_price == Decimal("150.25")
    assert placed.client_order_id == "r1-p1-AAPL"
    assert placed.side is Side.BUY
    assert placed.submitted_at == datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
    assert broker.get_order(placed.id) == placed
    assert broker.order_by_client_id("r1-p1-AAPL") == placed


def test_partial_fill_then_expiry(broker: AlpacaBroker, fake_alpaca: FakeAlpaca) -> None:
    fake_alpaca.fill_mode = "partial"
    placed = broker.submit_order(order(qty="3"))
    assert placed.status is OrderStatus.PARTIALLY_FILLED
    assert placed.filled_qty == Decimal("1.5")
    assert not placed.status.terminal
    fake_alpaca.expire_open()
    done = broker.get_order(placed.id)
    assert done.status is OrderStatus.EXPIRED and done.status.terminal
    assert done.filled_qty == Decimal("1.5")
    [fill] = broker.fills()
    assert (fill.order_id, fill.qty, fill.price) == (placed.id, Decimal("1.5"), Decimal("150.25"))


def test_fill_on_a_later_poll(broker: AlpacaBroker, fake_alpaca: FakeAlpaca) -> None:
    fake_alpaca.fill_mode = "later"
    placed = broker.submit_order(order())
    assert placed.status is OrderStatus.ACCEPTED
    assert placed.filled_avg_price is None
    assert broker.get_order(placed.id).status is OrderStatus.FILLED


@pytest.mark.parametrize(
    ("mode", "status"), [("reject", OrderStatus.REJECTED), ("expire", OrderStatus.EXPIRED)]
)
def test_rejected_and_expired_orders(
    broker: AlpacaBroker, fake_alpaca: FakeAlpaca, mode: str, status: OrderStatus
) -> None:
    fake_alpaca.fill_mode = mode
    placed = broker.submit_order(order())
    assert placed.status is status
    assert placed.filled_qty == 0
    assert broker.fills() == []


def test_market_closed_orders_wait_for_the_open(broker: AlpacaBroker, fake_alpaca: FakeAlpaca) -> None:
    fake_alpaca.market_open = False
    placed = broker.submit_order(order())
    assert placed.status is OrderStatus.ACCEPTED
    assert [o.id for o in broker.list_orders("open")] == [placed.id]
    fake_alpaca.open_market()
    assert broker.get_order(placed.id).status is OrderStatus.FILLED
    assert broker.list_orders("open") == []
    assert [o.id for o in broker.list_orders("closed")] == [placed.id]


def test_list_orders_params_and_order(
    broker: AlpacaBroker, fake_alpaca: FakeAlpaca, clock: FakeClock
) -> None:
    fake_alpaca.clock = clock
    first = broker.submit_order(order(coid="a"))
    clock.advance(60)
    second = broker.submit_order(order(symbol="MSFT", coid="b"))
    assert [o.id for o in broker.list_orders("all")] == [second.id, first.id]
    after = broker.list_orders("all", after=datetime(2026, 1, 5, 15, 0, 30, tzinfo=UTC))
    assert [o.id for o in after] == [second.id]
    assert fake_alpaca.logged("/v2/orders")[-1].query == {
        "status": "all",
        "limit": "500",
        "direction": "desc",
        "after": "2026-01-05T15:00:30Z",
    }


def test_order_by_client_id_unknown_is_none(broker: AlpacaBroker) -> None:
    assert broker.order_by_client_id("never-sent") is None


def test_cancel(broker: AlpacaBroker, fake_alpaca: FakeAlpaca) -> None:
    fake_alpaca.fill_mode = "never"
    placed = broker.submit_order(order())
    broker.cancel_order(placed.id)
    assert broker.get_order(placed.id).status is OrderStatus.CANCELED
    with pytest.raises(BrokerError, match='HTTP 422: order is already in "canceled" state') as info:
        broker.cancel_order(placed.id)
    assert info.value.status == 422


def test_positions(broker: AlpacaBroker) -> None:
    broker.submit_order(order(qty="4"))
    broker.submit_order(order(side=Side.SELL, qty="1", coid="s1"))
    [position] = broker.positions()
    assert (position.symbol, position.qty, position.market_value) == ("AAPL", Decimal(3), Decimal("450.75"))


def test_fills_follow_every_page_oldest_first(
    broker: AlpacaBroker, fake_alpaca: FakeAlpaca, clock: FakeClock
) -> None:
    fake_alpaca.clock = clock
    placed = []
    for n in range(5):
        clock.advance(1)
        placed.append(broker.submit_order(order(qty="1", coid=f"c{n}")))
    broker.activities_page_size = 2
    fills = broker.fills()
    assert [f.order_id for f in fills] == [o.id for o in placed]
    assert len({f.id for f in fills}) == 5
    pages = fake_alpaca.logged("/v2/account/activities/FILL")
    assert len(pages) == 3
    assert pages[0].query == {"direction": "asc", "page_size": "2"}
    assert pages[1].query["page_token"] == fills[1].id
    later = broker.fills(after=datetime(2026, 1, 5, 15, 0, 3, tzinfo=UTC))
    assert [f.order_id for f in later] == [o.id for o in placed[3:]]


def test_latest_prices_are_exact(broker: AlpacaBroker, fake_alpaca: FakeAlpaca) -> None:
    fake_alpaca.set_price("AAPL", "150.1")
    assert broker.latest_prices(["AAPL", "MSFT", "NONE"]) == {"AAPL": Decimal("150.1"), "MSFT": Decimal(400)}
    assert fake_alpaca.logged("/v2/stocks/trades/latest")[-1].query == {
        "symbols": "AAPL,MSFT,NONE",
        "feed": "iex",
    }


def test_daily_bars_follow_pages(broker: AlpacaBroker, fake_alpaca: FakeAlpaca) -> None:
    fake_alpaca.add_bars("SPY", {date(2026, 1, 2): "580.1", date(2026, 1, 5): "583.9"})
    fake_alpaca.add_bars("AAPL", {date(2026, 1, 2): "150.3", date(2025, 12, 1): "140"})
    broker.bars_page_limit = 2
    bars = broker.daily_bars(["SPY", "AAPL"], date(2026, 1, 1), date(2026, 1, 5))
    assert {(b.symbol, b.day, b.close) for b in bars} == {
        ("SPY", date(2026, 1, 2), Decimal("580.1")),
        ("SPY", date(2026, 1, 5), Decimal("583.9")),
        ("AAPL", date(2026, 1, 2), Decimal("150.3")),
    }
    first, second = fake_alpaca.logged("/v2/stocks/bars")
    assert first.query == {
        "symbols": "SPY,AAPL",
        "timeframe": "1Day",
        "start": "2026-01-01",
        "end": "2026-01-05",
        "feed": "iex",
        "adjustment": "all",
        "limit": "2",
    }
    assert second.query["page_token"] == "2"


# -- the order POST is never retried blindly ------------------------------------------------
def test_lost_response_after_create_finds_the_order(broker: AlpacaBroker, fake_alpaca: FakeAlpaca) -> None:
    fake_alpaca.inject("submit", status=504, after_create=True)
    placed = broker.submit_order(order())
    assert placed.status is OrderStatus.FILLED
    assert fake_alpaca.count("POST", "/v2/orders") == 1
    assert fake_alpaca.count("GET", "/v2/orders:by_client_order_id") == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_5xx_post_not_found_yet_is_unknown_never_resent(
    broker: AlpacaBroker, fake_alpaca: FakeAlpaca, status: int
) -> None:
    # A 5xx may come from a gateway after Alpaca created the order, and Alpaca shows new
    # orders asynchronously: "not found" right after proves nothing (issue 12).
    fake_alpaca.inject("submit", status=status)
    with pytest.raises(OrderOutcomeUnknown) as info:
        broker.submit_order(order())
    assert str(info.value) == (
        f"order r1-p1-AAPL for AAPL: Alpaca answered POST /v2/orders with HTTP {status}, and Alpaca "
        "does not show it (yet); it may exist, so it is never re-sent: run `pas sync` to look it up"
    )
    assert info.value.status == status
    assert fake_alpaca.count("POST", "/v2/orders") == 1
    assert fake_alpaca.orders == {}


def test_a_failed_look_up_after_a_lost_answer_is_unknown(
    broker: AlpacaBroker, fake_alpaca: FakeAlpaca, sleeps: Sleeps
) -> None:
    fake_alpaca.inject("submit", status=504, after_create=True, lookups_fail=MAX_ATTEMPTS)
    with pytest.raises(OrderOutcomeUnknown, match=r"and looking it up failed too \(Alpaca answered GET"):
        broker.submit_order(order())
    assert fake_alpaca.count("POST", "/v2/orders") == 1
    assert len(fake_alpaca.orders) == 1  # it exists: pas must never call it failed


def test_a_429_on_a_post_is_retried_with_the_same_client_order_id(
    broker: AlpacaBroker, fake_alpaca: FakeAlpaca, sleeps: Sleeps
) -> None:
    fake_alpaca.inject(
        "submit", status=429, message="rate limit exceeded", headers={"Retry-After": "2"}, times=2
    )
    placed = broker.submit_order(order())
    assert placed.status is OrderStatus.FILLED
    posts = [r.body["client_order_id"] for r in fake_alpaca.logged("/v2/orders") if r.method == "POST"]
    assert posts == ["r1-p1-AAPL"] * 3
    assert sleeps == [2.0, 2.0]
    assert len(fake_alpaca.orders) == 1


def test_a_post_rate_limited_at_every_attempt_is_refused(
    broker: AlpacaBroker, fake_alpaca: FakeAlpaca, sleeps: Sleeps
) -> None:
    fake_alpaca.inject("submit", status=429, message="rate limit exceeded", times=MAX_ATTEMPTS)
    with pytest.raises(OrderRejected) as info:
        broker.submit_order(order())
    assert info.value.reason == "rate_limited"
    assert fake_alpaca.count("POST", "/v2/orders") == MAX_ATTEMPTS and fake_alpaca.orders == {}


def test_post_timeout_after_create_finds_the_order(fake_alpaca: FakeAlpaca, sleeps: Sleeps) -> None:
    fake_alpaca.set_price("AAPL", "150")
    fake_alpaca.inject("submit", delay=2.0, after_create=True)
    with requests.Session() as session:
        quick = AlpacaBroker(
            session, fake_alpaca.url, fake_alpaca.url, KEY_ID, SECRET, timeout=0.1, sleep=sleeps
        )
        placed = quick.submit_order(order())
    assert placed.status is OrderStatus.FILLED
    assert fake_alpaca.count("POST", "/v2/orders") == 1


def test_duplicate_client_order_id_returns_the_existing_order(
    broker: AlpacaBroker, fake_alpaca: FakeAlpaca
) -> None:
    first = broker.submit_order(order())
    again = broker.submit_order(order())
    assert again.id == first.id
    assert fake_alpaca.count("POST", "/v2/orders") == 2
    assert len(fake_alpaca.orders) == 1


@pytest.mark.parametrize(
    ("setup", "reason", "message"),
    [
        ("wash", "wash_trade", WASH_TRADE),
        ("cash", "buying_power", BUYING_POWER),
        ("short", "insufficient_qty", "insufficient qty available for order (requested: 2, available: 0)"),
    ],
)
def test_refusals(
    broker: AlpacaBroker, fake_alpaca: FakeAlpaca, setup: str, reason: str, message: str
) -> None:
    request = order()
    if setup == "wash":
        fake_alpaca.fill_mode = "never"
        broker.submit_order(order(coid="open-sell-first", qty="1"))
        fake_alpaca.positions["AAPL"] = Decimal(5)
        request = order(side=Side.SELL, coid="sell")
    elif setup == "cash":
        fake_alpaca.cash = Decimal(100)
    else:
        request = order(side=Side.SELL)
    with pytest.raises(OrderRejected) as info:
        broker.submit_order(request)
    assert str(info.value) == f"Alpaca rejected the order (HTTP 403: {message})"
    assert (info.value.status, info.value.reason, info.value.broker_message) == (403, reason, message)
    assert fake_alpaca.count("GET", "/v2/orders:by_client_order_id") == 0


def test_injected_wash_trade_and_other_422(broker: AlpacaBroker, fake_alpaca: FakeAlpaca) -> None:
    fake_alpaca.inject("submit", status=403, message=WASH_TRADE)
    with pytest.raises(OrderRejected) as wash:
        broker.submit_order(order())
    assert wash.value.reason == "wash_trade"
    fake_alpaca.inject("submit", status=422, message="qty must be > 0")
    with pytest.raises(OrderRejected, match=r"HTTP 422: qty must be > 0") as invalid:
        broker.submit_order(order())
    assert invalid.value.reason == "invalid"
    assert fake_alpaca.count("POST", "/v2/orders") == 2


# -- retries of reads -------------------------------------------------------------------------
def test_429_waits_as_retry_after_says(broker: AlpacaBroker, fake_alpaca: FakeAlpaca, sleeps: Sleeps) -> None:
    fake_alpaca.inject(
        "account", status=429, message="rate limit exceeded", headers={"Retry-After": "3"}, times=2
    )
    assert broker.account().cash == Decimal("100000")
    assert sleeps == [3.0, 3.0]
    assert fake_alpaca.count("GET", "/v2/account") == 3


def test_429_waits_until_the_rate_limit_resets(
    broker: AlpacaBroker, fake_alpaca: FakeAlpaca, sleeps: Sleeps, clock: FakeClock
) -> None:
    reset = int(clock().timestamp()) + 7
    fake_alpaca.inject("positions", status=429, headers={"X-Ratelimit-Reset": str(reset)})
    assert broker.positions() == []
    assert sleeps == [7.0]


# The fake, like Alpaca, sends X-Ratelimit-Reset (the end of the rate-limit minute) on every
# answer; a 5xx must not wait for it (issue 12: "one 500 stalled a dry run 61 s").
@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_reads_back_off_and_succeed(
    broker: AlpacaBroker, fake_alpaca: FakeAlpaca, sleeps: Sleeps, status: int
) -> None:
    fake_alpaca.inject("clock", status=status, times=2)
    assert broker.clock().is_open is True
    assert len(sleeps) == 2
    # exponential: 0.5 s then 1 s, each plus up to 0.5 s of jitter
    assert 0.5 <= sleeps[0] <= 1.0 and 1.0 <= sleeps[1] <= 1.5


def test_reads_give_up_after_the_last_attempt(
    broker: AlpacaBroker, fake_alpaca: FakeAlpaca, sleeps: Sleeps
) -> None:
    fake_alpaca.inject("account", status=503, message="service unavailable", times=99)
    with pytest.raises(BrokerError) as info:
        broker.account()
    assert (
        str(info.value)
        == f"Alpaca answered GET /v2/account with HTTP 503 ({MAX_ATTEMPTS} attempts); try again later"
    )
    assert fake_alpaca.count("GET", "/v2/account") == MAX_ATTEMPTS
    assert len(sleeps) == MAX_ATTEMPTS - 1


def test_slow_read_times_out_and_is_retried(fake_alpaca: FakeAlpaca, sleeps: Sleeps) -> None:
    fake_alpaca.inject("positions", delay=2.0)
    with requests.Session() as session:
        quick = AlpacaBroker(
            session, fake_alpaca.url, fake_alpaca.url, KEY_ID, SECRET, timeout=0.1, sleep=sleeps
        )
        assert quick.positions() == []
    assert len(sleeps) == 1
    assert DEFAULT_TIMEOUT == 10.0


def test_timeouts_every_time(fake_alpaca: FakeAlpaca, sleeps: Sleeps) -> None:
    fake_alpaca.inject("clock", delay=2.0, times=MAX_ATTEMPTS)
    with requests.Session() as session:
        quick = AlpacaBroker(
            session, fake_alpaca.url, fake_alpaca.url, KEY_ID, SECRET, timeout=0.05, sleep=sleeps
        )
        with pytest.raises(
            BrokerError, match=r"^Alpaca did not answer GET /v2/clock within 0.05s \(5 attempts\)"
        ):
            quick.clock()


def test_malformed_json(broker: AlpacaBroker, fake_alpaca: FakeAlpaca) -> None:
    fake_alpaca.inject("account", body=b"{not json")
    with pytest.raises(BrokerError) as info:
        broker.account()
    assert (
        str(info.value) == "Alpaca answered GET /v2/account with a malformed body (HTTP 200); try again later"
    )


# -- credentials and the live guard -----------------------------------------------------------
def test_bad_credentials_name_the_settings_and_hide_the_secret(fake_alpaca: FakeAlpaca) -> None:
    with requests.Session() as session:
        wrong = AlpacaBroker(session, fake_alpaca.url, fake_alpaca.url, KEY_ID, SECRET + "x")
        with pytest.raises(BrokerAuthError) as info:
            wrong.account()
    assert str(info.value).startswith(
        "Alpaca refused the credentials (HTTP 401: request is not authorized); check ALPACA_API_KEY and "
        "ALPACA_API_SECRET"
    )
    assert info.value.exit_code == 2
    assert_no_secret(info.value)


def test_forbidden_is_an_auth_error(broker: AlpacaBroker, fake_alpaca: FakeAlpaca) -> None:
    fake_alpaca.inject("account", status=403, message="forbidden")
    with pytest.raises(BrokerAuthError, match="HTTP 403: forbidden"):
        broker.account()


def test_no_error_message_carries_a_secret(broker: AlpacaBroker, fake_alpaca: FakeAlpaca) -> None:
    fake_alpaca.inject("submit", status=503)
    fake_alpaca.inject("order", status=404, message="order not found")
    for call in (lambda: broker.submit_order(order()), lambda: broker.get_order("nope")):
        with pytest.raises(PasError) as info:
            call()
        assert_no_secret(info.value)


def settings(tmp_path: Path, **env: str) -> object:
    return load_settings({"PAS_HOME": str(tmp_path), **env})


def test_factory_needs_key_and_secret(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        alpaca_from_settings(load_settings({"PAS_HOME": str(tmp_path), "ALPACA_API_KEY": KEY_ID}).alpaca)
    assert str(info.value) == (
        "Alpaca needs ALPACA_API_KEY and ALPACA_API_SECRET; set both in the environment or .env"
    )
    assert info.value.exit_code == 2


def test_live_url_needs_consent(tmp_path: Path) -> None:
    env = {
        "PAS_HOME": str(tmp_path),
        "ALPACA_API_KEY": KEY_ID,
        "ALPACA_API_SECRET": SECRET,
        "ALPACA_BASE_URL": "https://api.alpaca.markets",
    }
    with pytest.raises(ConfigError) as info:
        alpaca_from_settings(load_settings(env).alpaca)
    assert str(info.value) == (
        "ALPACA_BASE_URL https://api.alpaca.markets is not the paper API and would trade real money; "
        "set PAS_ALLOW_LIVE=1 to allow live trading, or use https://paper-api.alpaca.markets"
    )
    assert_no_secret(info.value)
    live = alpaca_from_settings(load_settings({**env, "PAS_ALLOW_LIVE": "1"}).alpaca)
    assert live.name == "alpaca"
    assert SECRET not in repr(live)
    paper = alpaca_from_settings(
        load_settings({**env, "ALPACA_BASE_URL": "https://paper-api.alpaca.markets"}).alpaca
    )
    assert paper.feed == "iex"


@pytest.mark.parametrize(
    ("url", "live"),
    [
        ("https://paper-api.alpaca.markets", False),
        ("http://127.0.0.1:8080", False),
        ("http://localhost:1", False),
        ("https://api.alpaca.markets", True),
        ("https://proxy.example.com", True),
    ],
)
def test_is_live_url(url: str, live: bool) -> None:
    assert is_live_url(url) is live


def test_settings_validate_the_new_variables(tmp_path: Path) -> None:
    base = {"PAS_HOME": str(tmp_path)}
    defaults = load_settings(base)
    assert (
        defaults.alpaca.data_url,
        defaults.alpaca.feed,
        defaults.alpaca.allow_live,
        defaults.data.benchmark,
    ) == (
        "https://data.alpaca.markets",
        "iex",
        False,
        "SPY",
    )
    custom = load_settings({**base, "ALPACA_FEED": "SIP", "PAS_ALLOW_LIVE": "yes", "BENCHMARK": "qqq"})
    assert (custom.alpaca.feed, custom.alpaca.allow_live, custom.data.benchmark) == ("sip", True, "QQQ")
    with pytest.raises(ConfigError, match="ALPACA_FEED must be one of iex, sip, delayed_sip"):
        load_settings({**base, "ALPACA_FEED": "nasdaq"})
    with pytest.raises(ConfigError, match="PAS_ALLOW_LIVE must be 1 or 0"):
        load_settings({**base, "PAS_ALLOW_LIVE": "maybe"})
    with pytest.raises(ConfigError, match="BENCHMARK must be a ticker symbol such as SPY, got '\\$\\$'"):
        load_settings({**base, "BENCHMARK": "$$"})
    with pytest.raises(ConfigError, match="ALPACA_DATA_URL must be an http"):
        load_settings({**base, "ALPACA_DATA_URL": "ftp://x"})


def test_order_403_that_is_not_about_keys_is_a_rejection(
    broker: AlpacaBroker, fake_alpaca: FakeAlpaca
) -> None:
    # A blocked account answers an order with 403 too; blaming the keys would mislead.
    fake_alpaca.inject("submit", status=403, message="account is not allowed to trade")
    with pytest.raises(OrderRejected, match=r"HTTP 403: account is not allowed to trade") as refused:
        broker.submit_order(order())
    assert refused.value.reason == "invalid"
    fake_alpaca.inject("submit", status=403, message="forbidden.")
    with pytest.raises(BrokerAuthError, match="check ALPACA_API_KEY"):
        broker.submit_order(order())


def test_list_orders_follows_every_page(
    broker: AlpacaBroker, fake_alpaca: FakeAlpaca, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Alpaca answers at most ORDERS_LIMIT orders; more come with `until` set to the oldest.
    monkeypatch.setattr("pas.portfolio.broker.alpaca.ORDERS_LIMIT", 5)
    fake_alpaca.clock = clock
    fake_alpaca.fill_mode = "never"
    placed = []
    for n in range(12):
        placed.append(broker.submit_order(order(symbol="AAPL", qty="1", coid=f"c{n}")))
        clock.advance(1)
    listed = broker.list_orders("open")
    assert [o.id for o in listed] == [o.id for o in reversed(placed)]
    pages = fake_alpaca.logged("/v2/orders")[-3:]
    assert [p.query.get("until") for p in pages] == [None, "2026-01-05T15:00:07Z", "2026-01-05T15:00:02Z"]
