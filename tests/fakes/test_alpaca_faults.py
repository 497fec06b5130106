"""The fake Alpaca's fault modes and limits: each one shown doing what the real API does.

These answers are what issue 12's trading fixes are tested against, so each knob is shown
here on the wire, without pas in between. No test sleeps: the fake's clock is a
:class:`~tests.conftest.FakeClock` moved by hand, and a held answer is released by an event.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests

from tests.conftest import FakeClock
from tests.fakes.alpaca import DUPLICATE, KEY_ID, SECRET, WASH_TRADE, FakeAlpaca


@pytest.fixture
def fake(clock: FakeClock) -> Iterator[FakeAlpaca]:
    with FakeAlpaca(clock=clock) as fake:
        fake.set_price("AAPL", "100")
        yield fake


@pytest.fixture
def http(fake: FakeAlpaca) -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.headers.update({"APCA-API-KEY-ID": KEY_ID, "APCA-API-SECRET-KEY": SECRET})
        yield session


def get(http: requests.Session, fake: FakeAlpaca, path: str, **params: str) -> requests.Response:
    return http.get(fake.url + path, params=params, timeout=5)


def order(
    http: requests.Session, fake: FakeAlpaca, coid: str, side: str = "buy", timeout: float = 5
) -> requests.Response:
    body = {"symbol": "AAPL", "qty": "1", "side": side, "type": "market", "time_in_force": "day"}
    return http.post(fake.url + "/v2/orders", json={**body, "client_order_id": coid}, timeout=timeout)


def by_coid(http: requests.Session, fake: FakeAlpaca, coid: str) -> requests.Response:
    return get(http, fake, "/v2/orders:by_client_order_id", client_order_id=coid)


def error(answer: requests.Response) -> tuple[int, int, str]:
    body: dict[str, Any] = answer.json()
    return answer.status_code, body["code"], body["message"]


# -- lost and late answers ------------------------------------------------------------------
def test_a_post_answered_after_the_client_timeout_is_created_and_seen_only_later(
    fake: FakeAlpaca, http: requests.Session, clock: FakeClock
) -> None:
    fake.visible_after = timedelta(seconds=5)
    fake.inject("submit", after_create=True, hold=True)
    with pytest.raises(requests.Timeout):
        order(http, fake, "late-1", timeout=0.2)
    assert len(fake.orders) == 1  # Alpaca has the order although the client saw no answer
    assert by_coid(http, fake, "late-1").status_code == 404  # not visible yet
    assert get(http, fake, "/v2/orders", status="all").json() == []
    clock.advance(5)
    assert by_coid(http, fake, "late-1").json()["status"] == "filled"
    assert [o["client_order_id"] for o in get(http, fake, "/v2/orders", status="all").json()] == ["late-1"]
    fake.release()


def test_a_held_answer_comes_once_released(fake: FakeAlpaca, http: requests.Session) -> None:
    fake.inject("account", hold=True)
    with pytest.raises(requests.Timeout):
        http.get(fake.url + "/v2/account", timeout=0.2)
    fake.release()
    fake.inject("account", hold=True)  # holds again after a release
    with pytest.raises(requests.Timeout):
        http.get(fake.url + "/v2/account", timeout=0.2)
    fake.release()
    assert get(http, fake, "/v2/account").status_code == 200


def test_504_after_create_then_look_ups_fail(fake: FakeAlpaca, http: requests.Session) -> None:
    fake.inject("submit", status=504, message="gateway timeout", after_create=True, lookups_fail=3)
    assert error(order(http, fake, "lost-1")) == (504, 50400000, "gateway timeout")
    order_id = next(iter(fake.orders))
    failing = [
        by_coid(http, fake, "lost-1"),
        get(http, fake, f"/v2/orders/{order_id}"),
        get(http, fake, "/v2/orders", status="all"),
    ]
    assert [a.status_code for a in failing] == [503, 503, 503]
    assert get(http, fake, "/v2/account").status_code == 200  # other endpoints still answer
    assert by_coid(http, fake, "lost-1").json()["id"] == order_id


def test_orders_can_wait_in_any_status(fake: FakeAlpaca, http: requests.Session) -> None:
    fake.new_status = "pending_review"
    posted = order(http, fake, "review-1").json()
    assert posted["status"] == "pending_review" and posted["filled_qty"] == "0"
    fake.open_market()
    assert by_coid(http, fake, "review-1").json()["status"] == "pending_review"
    fake.set_status(posted["id"], "canceled")
    answer = by_coid(http, fake, "review-1").json()
    assert answer["status"] == "canceled" and answer["canceled_at"] is not None


# -- refusals -------------------------------------------------------------------------------
@pytest.mark.parametrize(("status", "code"), [(403, 40310000), (422, 42210000)])
def test_wash_trade_refusal_either_way(
    fake: FakeAlpaca, http: requests.Session, status: int, code: int
) -> None:
    fake.wash_trade_status = status
    fake.positions["AAPL"] = Decimal(5)
    fake.fill_mode = "never"
    order(http, fake, "buy-1")
    assert error(order(http, fake, "sell-1", side="sell")) == (status, code, WASH_TRADE)


def test_a_client_order_id_is_unique_forever_even_after_cancel(
    fake: FakeAlpaca, http: requests.Session
) -> None:
    fake.fill_mode = "never"
    order_id = order(http, fake, "once").json()["id"]
    assert http.delete(f"{fake.url}/v2/orders/{order_id}", timeout=5).status_code == 204
    assert error(order(http, fake, "once")) == (422, 40010001, DUPLICATE)
    assert len(fake.orders) == 1


# -- buying power and limit prices ----------------------------------------------------------
def limit_buy(http: requests.Session, fake: FakeAlpaca, coid: str, qty: str, limit: str) -> requests.Response:
    body = {"symbol": "AAPL", "qty": qty, "side": "buy", "type": "limit", "limit_price": limit}
    return http.post(
        fake.url + "/v2/orders", json={**body, "time_in_force": "day", "client_order_id": coid}, timeout=5
    )


def test_a_limit_buy_holds_quantity_times_limit_of_the_buying_power_until_it_fills(
    fake: FakeAlpaca, http: requests.Session
) -> None:
    # Alpaca's "Buying Power" (Orders docs): an opening buy's value is its limit price x its
    # quantity, and open buy orders reduce the buying power until they execute.
    fake.cash = Decimal(1_000)
    assert error(limit_buy(http, fake, "too-dear", "9", "112")) == (
        403,
        40310000,
        "insufficient buying power",
    )
    resting = limit_buy(http, fake, "rests", "5", "90").json()  # below the price of 100
    assert (resting["status"], resting["filled_qty"]) == ("new", "0")
    account = get(http, fake, "/v2/account").json()
    assert (account["cash"], account["buying_power"], account["non_marginable_buying_power"]) == (
        "1000",
        "550",
        "550",
    )
    assert error(limit_buy(http, fake, "no-room", "5", "111")) == (403, 40310000, "insufficient buying power")
    filled = limit_buy(http, fake, "fits", "4", "110").json()  # 440 of the 550 left
    assert (filled["status"], filled["filled_avg_price"]) == ("filled", "100")  # at the price, not the limit


def test_margin_buying_power_is_alpacas_formula(fake: FakeAlpaca, http: requests.Session) -> None:
    # Alpaca's account docs: multiplier 2: max(equity - initial margin, 0) x 2, the Reg T
    # initial margin being half the long value; 1: the cash.
    fake.cash, fake.multiplier = Decimal(1_000), 2
    fake.positions["AAPL"] = Decimal(4)  # 400 long, bought with cash: equity 1,400
    assert get(http, fake, "/v2/account").json()["buying_power"] == "2400"  # (1,400 - 200) x 2
    fake.multiplier = 1
    assert get(http, fake, "/v2/account").json()["buying_power"] == "1000"


# -- rate limits ----------------------------------------------------------------------------
def test_rate_limit_headers_on_every_answer(
    fake: FakeAlpaca, http: requests.Session, clock: FakeClock
) -> None:
    answers = [
        get(http, fake, "/v2/account"),
        get(http, fake, "/v2/orders/missing"),  # 404
        order(http, fake, "c1"),
        requests.get(fake.url + "/v2/clock", timeout=5),  # 401
        get(http, fake, "/v2/stocks/trades/latest", symbols="AAPL"),
    ]
    window_end = str((int(clock().timestamp()) // 60 + 1) * 60)
    assert [a.headers["X-Ratelimit-Limit"] for a in answers] == ["200"] * 5
    assert [a.headers["X-Ratelimit-Remaining"] for a in answers] == ["199", "198", "197", "196", "195"]
    assert {a.headers["X-Ratelimit-Reset"] for a in answers} == {window_end}
    clock.advance(60)
    assert get(http, fake, "/v2/account").headers["X-Ratelimit-Remaining"] == "199"


def test_429_once_the_window_is_used_up(fake: FakeAlpaca, http: requests.Session, clock: FakeClock) -> None:
    fake.rate_limit, fake.rate_limit_enforced = 2, True
    assert [get(http, fake, "/v2/clock").status_code for _ in range(3)] == [200, 200, 429]
    limited = get(http, fake, "/v2/clock")
    assert error(limited) == (429, 42910000, "rate limit exceeded")
    assert limited.headers["X-Ratelimit-Remaining"] == "0"
    assert int(limited.headers["X-Ratelimit-Reset"]) > clock().timestamp()
    clock.advance(float(limited.headers["X-Ratelimit-Reset"]) - clock().timestamp())
    assert get(http, fake, "/v2/clock").status_code == 200


def test_an_injected_429_carries_the_headers(fake: FakeAlpaca, http: requests.Session) -> None:
    fake.inject("positions", status=429, message="rate limit exceeded", headers={"Retry-After": "3"})
    limited = get(http, fake, "/v2/positions")
    assert limited.status_code == 429
    assert limited.headers["X-Ratelimit-Remaining"] == "0" and limited.headers["Retry-After"] == "3"
    assert "X-Ratelimit-Reset" in limited.headers


# -- paging limits --------------------------------------------------------------------------
def test_fill_activities_page_by_token_at_most_100(fake: FakeAlpaca, http: requests.Session) -> None:
    fake.cash *= 10
    with fake.lock:
        for n in range(250):
            body = {"symbol": "AAPL", "qty": "1", "side": "buy", "client_order_id": f"c{n}"}
            assert fake.handle("POST", "/v2/orders", {}, body)[0] == 200
    pages: list[list[str]] = []
    params = {"direction": "asc", "page_size": "500"}
    while True:
        page = get(http, fake, "/v2/account/activities/FILL", **params).json()
        pages.append([a["id"] for a in page])
        if len(page) < 100:
            break
        params["page_token"] = page[-1]["id"]
    assert [len(p) for p in pages] == [100, 100, 50]
    ids = [i for p in pages for i in p]
    assert ids == sorted(set(ids))
    newest_first = get(http, fake, "/v2/account/activities/FILL").json()
    assert [a["id"] for a in newest_first] == ids[::-1][:100]


def test_orders_list_at_most_500_with_after_until_direction(
    fake: FakeAlpaca, http: requests.Session, clock: FakeClock
) -> None:
    fake.cash *= 10
    start = clock()
    with fake.lock:
        for n in range(600):
            clock.advance(1)
            body = {"symbol": "AAPL", "qty": "1", "side": "buy", "client_order_id": f"c{n:03d}"}
            assert fake.handle("POST", "/v2/orders", {}, body)[0] == 200

    def coids(**params: str) -> list[str]:
        return [o["client_order_id"] for o in get(http, fake, "/v2/orders", status="all", **params).json()]

    assert len(coids()) == 50  # Alpaca's default page
    newest = coids(limit="1000")
    assert len(newest) == 500 and newest[0] == "c599" and newest[-1] == "c100"
    assert coids(limit="500", direction="asc")[:2] == ["c000", "c001"]
    # after and until are exclusive, by submission time (order n was submitted at start + n + 1 s)
    after = (start + timedelta(seconds=10)).isoformat().replace("+00:00", "Z")
    until = (start + timedelta(seconds=13)).isoformat().replace("+00:00", "Z")
    assert coids(after=after, until=until, direction="asc") == ["c010", "c011"]
    assert get(http, fake, "/v2/orders", status="nonsense").status_code == 422
