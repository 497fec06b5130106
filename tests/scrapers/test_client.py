"""The Quiver client against the fake server: auth, cache, retries, errors, paging, rate."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from email.utils import format_datetime

import pytest
import requests

from pas.scrapers.client import (
    MAX_TRIES,
    ClientStats,
    QuiverAuthError,
    QuiverClient,
    QuiverEntitlementError,
    QuiverError,
    QuiverRateLimited,
    QuiverUnavailableError,
)
from pas.scrapers.limits import parse_limits
from tests.conftest import FakeClock
from tests.fakes.quiver import API_KEY, UPGRADE_BODY, FakeQuiver, Fault
from tests.scrapers.conftest import Sleeper

ROWS = [{"Ticker": "AAPL", "Date": "2026-01-02", "Views": 5}]


def test_sends_token_header_and_caches_within_ttl(
    client: QuiverClient, fake: FakeQuiver, clock: FakeClock
) -> None:
    fake.rows["live/wikipedia"] = ROWS
    assert client.get("live/wikipedia") == ROWS
    assert fake.log[0].auth == f"Token {API_KEY}"
    clock.advance(5 * 3600)
    assert client.get("live/wikipedia") == ROWS
    assert len(fake.log) == 1
    assert (client.stats.requests, client.stats.cache_hits) == (1, 1)
    clock.advance(3600 + 1)
    client.get("live/wikipedia")
    assert len(fake.log) == 2


def test_refresh_bypasses_the_cache(client: QuiverClient, fake: FakeQuiver) -> None:
    fake.rows["live/wikipedia"] = ROWS
    client.get("live/wikipedia")
    client.refresh = True
    client.get("live/wikipedia")
    assert len(fake.log) == 2


def test_parameters_are_part_of_the_cache_key(client: QuiverClient, fake: FakeQuiver) -> None:
    fake.rows["live/insiders"] = [{"Ticker": "AAPL"}, {"Ticker": "MSFT"}]
    assert client.get("live/insiders", {"ticker": "AAPL"}) == [{"Ticker": "AAPL"}]
    assert client.get("live/insiders", {"ticker": "MSFT"}) == [{"Ticker": "MSFT"}]
    assert len(fake.log) == 2


def test_both_documented_schemes_are_accepted_and_another_is_refused(
    client: QuiverClient, fake: FakeQuiver
) -> None:
    # Quiver's errors page: "Authentication credentials were not provided." when the header
    # "didn't start with Bearer or Token"; its quickstart sends Bearer, pas's default Token.
    fake.rows["live/wikipedia"] = ROWS
    assert client.get("live/wikipedia") == ROWS
    bearer = dataclasses.replace(client, auth_scheme="Bearer", refresh=True)
    assert bearer.get("live/wikipedia") == ROWS
    assert [e.auth.split()[0] for e in fake.log] == ["Token", "Bearer"]
    basic = dataclasses.replace(client, auth_scheme="Basic", refresh=True)
    with pytest.raises(QuiverAuthError, match="HTTP 401"):
        basic.get("live/wikipedia")


def test_bad_key_names_the_setting_and_is_not_retried(client: QuiverClient, fake: FakeQuiver) -> None:
    client.api_key = "wrong-key-secret"
    with pytest.raises(QuiverAuthError) as info:
        client.get("live/wikipedia", dataset="wiki")
    assert str(info.value) == (
        "QuiverQuant refused the API key (HTTP 401) for wiki; check QUIVER_API_KEY "
        "(and QUIVER_AUTH_SCHEME: Token or Bearer)"
    )
    assert "wrong-key" not in str(info.value)
    assert len(fake.log) == 1


def test_a_403_says_the_key_is_valid_and_names_the_plan(client: QuiverClient, fake: FakeQuiver) -> None:
    # Quiver's errors page: a 403 means "Your key is valid, but your account can't use this
    # endpoint": the dataset is on a higher plan, or there is no active plan. Telling the
    # user to check the key (the 401 advice) sent them to the wrong place.
    fake.fault("live/insiders", Fault(403, {"detail": "You do not have permission to perform this action."}))
    with pytest.raises(QuiverAuthError) as info:
        client.get("live/insiders", dataset="insiders")
    assert str(info.value) == (
        "QuiverQuant refused insiders (HTTP 403): the API key is valid but your account cannot use "
        "this endpoint; check that your plan is active and includes it (quiverquant.com dashboard)"
    )
    assert len(fake.log) == 1


def test_entitlement_body_is_a_clear_error_not_retried(client: QuiverClient, fake: FakeQuiver) -> None:
    fake.fault("live/insiders", Fault(200, UPGRADE_BODY))
    with pytest.raises(QuiverEntitlementError) as info:
        client.get("live/insiders", dataset="insiders")
    assert str(info.value) == (
        "QuiverQuant refused the insiders dataset: your subscription plan does not include it "
        "(upgrade the plan at quiverquant.com, or scrape the other datasets)"
    )
    assert len(fake.log) == 1


def test_404_is_unavailable(client: QuiverClient, fake: FakeQuiver) -> None:
    fake.gone.add("live/wikipedia")
    with pytest.raises(QuiverUnavailableError, match="may be discontinued"):
        client.get("live/wikipedia", dataset="wiki")
    # Quiver's errors page: a 404 is "an HTML 'Not Found' page, not JSON", and so is the fake's.
    answer = requests.get(
        f"{fake.url}/live/wikipedia", headers={"Authorization": f"Token {API_KEY}"}, timeout=5
    )
    assert answer.status_code == 404 and answer.headers["Content-Type"].startswith("text/html")
    assert answer.text.startswith("<!doctype html>")


def test_429_honours_retry_after(client: QuiverClient, fake: FakeQuiver, sleeper: Sleeper) -> None:
    client.rate_sec = 0
    fake.rows["live/wikipedia"] = ROWS
    fake.fault("live/wikipedia", Fault(429, {"detail": "Request was throttled."}, {"Retry-After": "17"}))
    assert client.get("live/wikipedia") == ROWS
    assert sleeper.calls == [17.0]
    assert client.stats.retries == 1


def test_a_retry_after_holds_back_every_process_on_the_store(
    client: QuiverClient, fake: FakeQuiver, sleeper: Sleeper
) -> None:
    """The wait a 429 asks for moves the endpoint's shared slots: another process (on
    MongoDB, another host) asks Quiver no sooner, and this one's own retry waits only once."""
    client.rate_sec = 0
    fake.rows["live/wikipedia"] = ROWS
    fake.fault("live/wikipedia", Fault(429, {"detail": "Request was throttled."}, {"Retry-After": "17"}))
    assert client.get("live/wikipedia") == ROWS
    assert sleeper.calls == [17.0], "the retry waits for the time Quiver gave, not once more"
    client.max_wait_sec = 5
    fake.fault("live/wikipedia", Fault(429, {"detail": "Request was throttled."}, {"Retry-After": "600"}))
    with pytest.raises(QuiverRateLimited):
        client.get("live/wikipedia", {"n": 1})
    other = dataclasses.replace(client, stats=ClientStats())  # another process on the same store
    sent = len(fake.log)
    with pytest.raises(QuiverRateLimited, match=r"is used up for live/wikipedia \(next request in 10 min\)"):
        other.get("live/wikipedia", {"n": 2})
    assert len(fake.log) == sent, "the other process spent no request to learn it again"


def test_retry_after_as_a_date_is_measured_on_the_injected_clock(
    client: QuiverClient, fake: FakeQuiver, sleeper: Sleeper, clock: FakeClock
) -> None:
    # Measuring on the machine's clock made the pause depend on when the test ran (and a
    # backtest's simulated time on the real one).
    client.rate_sec = 0
    fake.rows["live/wikipedia"] = ROWS
    when = format_datetime(clock() + timedelta(seconds=40), usegmt=True)
    fake.fault("live/wikipedia", Fault(429, {"detail": "Request was throttled."}, {"Retry-After": when}))
    assert client.get("live/wikipedia") == ROWS
    assert sleeper.calls == [40.0]


@pytest.mark.parametrize(
    ("fault", "expected_wait"),
    [
        (Fault(500, "Please wait 30 seconds and try again"), 30.0),
        (Fault(503, "QueuePool limit of size 5 overflow 10 reached"), None),
        (Fault(502, "<html>502 Bad Gateway</html>", raw=True), None),
        (Fault(500, "Internal server error: database is busy"), None),
        (Fault(200, "Timeout: retry in 4 seconds"), 4.0),
    ],
)
def test_overload_and_5xx_are_retried(
    client: QuiverClient, fake: FakeQuiver, sleeper: Sleeper, fault: Fault, expected_wait: float | None
) -> None:
    client.rate_sec = 0
    fake.rows["live/wikipedia"] = ROWS
    fake.fault("live/wikipedia", fault)
    assert client.get("live/wikipedia") == ROWS
    (waited,) = sleeper.calls
    if expected_wait is None:
        assert 2.0 <= waited <= 3.0  # first backoff step plus jitter
    else:
        assert waited == expected_wait


def test_backoff_grows_then_gives_up(client: QuiverClient, fake: FakeQuiver, sleeper: Sleeper) -> None:
    client.rate_sec = 0
    fake.fault("live/wikipedia", *[Fault(503, "Service Unavailable")] * MAX_TRIES)
    with pytest.raises(QuiverError) as info:
        client.get("live/wikipedia", dataset="wiki")
    assert str(info.value).startswith("QuiverQuant kept failing for wiki (HTTP 503: Service Unavailable)")
    assert len(fake.log) == MAX_TRIES
    assert len(sleeper.calls) == MAX_TRIES - 1
    assert all(b > a for a, b in zip(sleeper.calls, sleeper.calls[1:], strict=False))


def test_timeout_is_retried(client: QuiverClient, fake: FakeQuiver) -> None:
    client.rate_sec = 0
    client.timeout_sec = 0.2
    fake.rows["live/wikipedia"] = ROWS
    fake.fault("live/wikipedia", Fault(200, ROWS, delay=0.6))
    assert client.get("live/wikipedia") == ROWS
    assert len(fake.log) == 2


def test_not_json_and_other_statuses_are_errors(client: QuiverClient, fake: FakeQuiver) -> None:
    fake.fault("live/wikipedia", Fault(200, "<html>maintenance</html>", raw=True))
    with pytest.raises(QuiverError, match="not JSON"):
        client.get("live/wikipedia", dataset="wiki")
    fake.fault("live/wikipedia", Fault(400, {"detail": "bad parameter"}))
    with pytest.raises(QuiverError, match=r"HTTP 400: bad parameter"):
        client.get("live/wikipedia", dataset="wiki")


@pytest.mark.parametrize(
    ("rows", "past_end", "pages_asked"),
    [
        (25, 200, ["1", "2", "3"]),  # a page with fewer rows than page_size: the last one, no further request
        (20, 200, ["1", "2", "3"]),  # whole pages: the empty page after them ends the feed
        (20, 404, ["1", "2", "3"]),  # whole pages: a 404 past the last page ends the feed too
    ],
)
def test_pages_stop_on_each_documented_end(
    client: QuiverClient, fake: FakeQuiver, rows: int, past_end: int, pages_asked: list[str]
) -> None:
    # Quiver's docs: "keep requesting the next page until a page comes back with fewer
    # results than page_size"; QuantConnect's downloader loops until `[]`.
    client.rate_sec = 0
    fake.rows["live/insiders"] = [{"n": i} for i in range(rows)]
    fake.past_end["live/insiders"] = past_end
    pages = list(client.pages("live/insiders", page_size=10))
    assert sum(len(p) for p in pages) == rows
    assert [e.query["page"] for e in fake.log] == pages_asked


def test_a_404_on_the_first_page_is_unavailable(client: QuiverClient, fake: FakeQuiver) -> None:
    client.rate_sec = 0
    fake.gone.add("live/insiders")
    with pytest.raises(QuiverUnavailableError):
        list(client.pages("live/insiders", page_size=10))


def test_a_feed_that_ignores_page_is_stopped_at_the_repeat(client: QuiverClient, fake: FakeQuiver) -> None:
    client.rate_sec = 0
    fake.rows["live/insiders"] = [{"n": i} for i in range(30)]
    fake.ignores_page.add("live/insiders")
    seen: list[list[object]] = []
    with pytest.raises(QuiverError, match=r"page 2 with the rows of page 1: the feed ignores `page`"):
        seen.extend(client.pages("live/insiders", page_size=10))
    assert len(seen) == 1 and len(fake.log) == 2


def test_endpoints_with_the_same_limit_share_one_allowance(
    client: QuiverClient, fake: FakeQuiver, sleeper: Sleeper
) -> None:
    # Quiver's rate-limit page: "All endpoints with the same limit draw from one allowance"
    # (150 calls to one 200-per-hour endpoint leave 50 for the rest); "each group is
    # separate". Slots kept per table entry gave each endpoint an allowance of its own.
    client.rate_sec = 0
    client.rate_limits = parse_limits("live/lobbying=200/hour,historical/=200/hour,live/insiders=10/minute")
    fake.rows["live/lobbying"] = fake.rows["live/insiders"] = []
    client.get("live/lobbying")
    client.get("historical/lobbying/AAPL")  # the 200/hour allowance's next slot: 18 s on
    client.get("live/insiders")  # the 10/minute group is untouched
    assert sleeper.calls == [18.0]


def test_rate_limit_spaces_requests(client: QuiverClient, fake: FakeQuiver, sleeper: Sleeper) -> None:
    fake.rows["live/insiders"] = [{"n": i} for i in range(3)]
    list(client.pages("live/insiders", page_size=1))
    assert sleeper.calls == pytest.approx([1.1, 1.1, 1.1])


def test_the_fakes_rows_use_only_the_schemas_field_names() -> None:
    # The fake's rows, generated, would prove nothing if they carried names the real feed
    # never sends: each is held to the property names of its row type in Quiver's schema.
    import json
    from datetime import date
    from pathlib import Path

    from tests.fakes import quiver

    schema = json.loads((Path(__file__).parents[1] / "fixtures/quiver/schema_properties.json").read_text())
    newest = date(2026, 1, 5)
    generated = {
        "CongressionalTradeV2": quiver.congress_rows(40, newest),
        "CongressionalTrade": [quiver.congress_v1(r) for r in quiver.congress_rows(40, newest)],
        "LobbyingRecord": quiver.lobbying_rows(40, newest),
        "GovContractAll": quiver.contract_rows(40, newest),
        "Form4Entry": quiver.insider_rows(40, newest),
    }
    for kind, rows in generated.items():
        extra = {name for row in rows for name in row} - set(schema[kind])
        assert not extra, f"{kind}: {sorted(extra)}"
