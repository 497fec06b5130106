"""Hostile answers: each breaks one row or one dataset, never the scrape, and the key never shows."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, date, datetime, timedelta

import mongomock
import pytest

from pas.errors import ConfigError
from pas.scrapers import DATASETS
from pas.scrapers.client import QuiverClient, QuiverError, check_api_key
from pas.scrapers.scrape import scrape
from pas.store.mongo import MongoStore
from pas.store.mongo.control import MAX_CACHED_BODY_BYTES
from pas.store.sqlite import SqliteStore
from tests.conftest import FakeClock, _mongomock_accepts_sort
from tests.fakes.quiver import API_KEY, FakeQuiver, Fault, lobbying_rows, wiki_rows

TODAY = date(2026, 1, 5)  # the FakeClock's day
SINCE = datetime(2025, 12, 20, tzinfo=UTC)  # one lobbying request window


def _lobbying(client: QuiverClient, store: SqliteStore) -> tuple[str, int, dict[str, int]]:
    r = scrape(DATASETS["lobbying"], client, store, since=SINCE)
    return r.status, r.counts.new, dict(r.rejected)


def test_dates_outside_a_sane_range_are_bad_rows_and_never_block_later_scrapes(
    client: QuiverClient, fake: FakeQuiver, sqlite_store: SqliteStore
) -> None:
    good = lobbying_rows(3, TODAY - timedelta(days=3))
    fake.rows["live/lobbying"] = good
    fake.fault(
        "live/lobbying",
        Fault(200, [*good, {**good[0], "Date": "0999-01-06"}, {**good[1], "Date": "0202-01-01"}]),
    )
    assert _lobbying(client, sqlite_store) == ("ok", 3, {"Date out of range": 2})
    client.refresh = True
    again = scrape(DATASETS["lobbying"], client, sqlite_store)
    assert again.status == "ok", again.message


def test_a_body_cut_short_is_retried(
    client: QuiverClient, fake: FakeQuiver, sqlite_store: SqliteStore
) -> None:
    fake.rows["live/lobbying"] = lobbying_rows(3, TODAY - timedelta(days=3))
    fake.fault("live/lobbying", Fault(200, fake.rows["live/lobbying"], truncate=40))
    assert _lobbying(client, sqlite_store) == ("ok", 3, {})
    assert client.stats.retries == 1


def test_a_trickled_body_meets_the_whole_request_deadline(
    client: QuiverClient, fake: FakeQuiver, sqlite_store: SqliteStore
) -> None:
    # One byte every 10 ms with a 2 s deadline: each read of the body advances the
    # injected timer by a second, so the deadline passes on the third piece.
    ticks = itertools.count()
    client.timer = lambda: float(next(ticks))
    fake.rows["live/lobbying"] = lobbying_rows(3, TODAY - timedelta(days=3))
    fake.fault("live/lobbying", Fault(200, fake.rows["live/lobbying"], raw=False, trickle=0.01))
    assert _lobbying(client, sqlite_store) == ("ok", 3, {})
    assert client.stats.retries == 1


def test_a_trickled_head_meets_the_whole_request_deadline(
    client: QuiverClient, fake: FakeQuiver, sqlite_store: SqliteStore
) -> None:
    # The status line and headers one byte every 10 ms, the body at once, a 2 s deadline:
    # each look at the injected timer advances it a second. The deadline was checked only
    # between the body's pieces, so a head trickled within the read timeout held the
    # request as long as the server liked (13.8 s for a 1 s QUIVER_TIMEOUT_SEC).
    ticks = itertools.count()
    client.timer = lambda: float(next(ticks))
    fake.rows["live/lobbying"] = lobbying_rows(3, TODAY - timedelta(days=3))
    fake.fault("live/lobbying", Fault(200, fake.rows["live/lobbying"], trickle_head=0.01))
    assert _lobbying(client, sqlite_store) == ("ok", 3, {})
    assert client.stats.retries == 1


def test_a_lone_surrogate_is_a_counted_reject(
    client: QuiverClient, fake: FakeQuiver, sqlite_store: SqliteStore
) -> None:
    good = lobbying_rows(2, TODAY - timedelta(days=3))
    body = (
        json.dumps(good)[:-1]
        + ', {"Ticker": "AAPL", "Date": "2026-01-02", "Amount": 1, "Client": "\\ud800"}]'
    )
    fake.fault("live/lobbying", Fault(200, body, raw=True))
    assert _lobbying(client, sqlite_store) == ("ok", 2, {"Client is not valid Unicode": 1})


def test_deep_nesting_fails_that_dataset_only(
    client: QuiverClient, fake: FakeQuiver, sqlite_store: SqliteStore
) -> None:
    fake.fault("live/lobbying", Fault(200, "[" * 100_000 + "]" * 100_000, raw=True))
    fake.rows["live/wikipedia"] = wiki_rows(TODAY - timedelta(days=1))
    status, new, _ = _lobbying(client, sqlite_store)
    assert (status, new) == ("failed", 0)
    assert scrape(DATASETS["wiki"], client, sqlite_store).counts.new == 8


def test_nan_optional_numbers_are_missing(
    client: QuiverClient, fake: FakeQuiver, sqlite_store: SqliteStore
) -> None:
    # QuantConnect's tests of the real feed deserialize "pct_change_week":NaN.
    rows = wiki_rows(TODAY - timedelta(days=1))[:1]
    body = json.dumps(rows).replace("1.25", "NaN")
    fake.fault("live/wikipedia", Fault(200, body, raw=True))
    result = scrape(DATASETS["wiki"], client, sqlite_store)
    assert result.counts.new == 1 and not result.rejected
    (stored,) = sqlite_store.records("wiki")
    assert stored.fields["pct_change_week"] is None and stored.fields["pct_change_month"] == "-3.5"


@pytest.mark.parametrize("key", ["zzsec\nretzz", "has space inside", "short", "é" * 20])
def test_a_malformed_key_is_refused_by_name_never_shown(key: str) -> None:
    with pytest.raises(ConfigError) as info:
        check_api_key(key)
    assert "QUIVER_API_KEY" in str(info.value) and key not in str(info.value)


def test_a_body_echoing_the_key_is_redacted(
    client: QuiverClient, fake: FakeQuiver, sqlite_store: SqliteStore
) -> None:
    fake.fault("live/lobbying", Fault(400, {"detail": f"bad query for token {API_KEY}"}))
    result = scrape(DATASETS["lobbying"], client, sqlite_store, since=SINCE)
    assert result.status == "failed"
    assert API_KEY not in result.message and "[redacted]" in result.message
    assert API_KEY not in json.dumps(result.as_dict())


def test_mongo_does_not_cache_an_answer_over_16_mb(clock: FakeClock) -> None:
    _mongomock_accepts_sort()
    store = MongoStore(mongomock.MongoClient(tz_aware=True), "pas_test", where="mongomock", clock=clock)
    big = "x" * (MAX_CACHED_BODY_BYTES + 1)
    store.cache_put("k", big, clock() + timedelta(hours=1))
    assert store.cache_get("k", clock()) is None
    store.cache_put("small", "[]", clock() + timedelta(hours=1))
    assert store.cache_get("small", clock()) == "[]"


def test_quiver_error_message_of_a_cut_body_names_the_cause(client: QuiverClient, fake: FakeQuiver) -> None:
    fake.rows["live/wikipedia"] = wiki_rows(TODAY)
    fake.fault("live/wikipedia", *[Fault(200, fake.rows["live/wikipedia"], truncate=10)] * 6)
    with pytest.raises(QuiverError, match=r"answer cut short|connection failed"):
        client.get("live/wikipedia", dataset="wiki")
