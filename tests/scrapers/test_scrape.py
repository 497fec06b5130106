"""Scraping against the fake server: point-in-time storage, cache, incremental, faults."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from pas.scrapers import DATASETS
from pas.scrapers.client import QuiverAuthError, QuiverClient
from pas.scrapers.scrape import scrape
from pas.store.sqlite import SqliteStore
from tests.conftest import FakeClock
from tests.fakes.quiver import (
    UPGRADE_BODY,
    FakeQuiver,
    Fault,
    congress_rows,
    insider_rows,
    load_all,
    lobbying_rows,
)

TODAY = date(2026, 1, 5)  # the FakeClock's day


@pytest.fixture(autouse=True)
def no_rate(client: QuiverClient) -> None:
    client.rate_sec = 0


def scrape_all(client: QuiverClient, store: SqliteStore) -> dict[str, dict[str, object]]:
    return {name: scrape(d, client, store).as_dict() for name, d in DATASETS.items()}


def test_first_scrape_stores_every_dataset_and_skips_today(
    client: QuiverClient, fake: FakeQuiver, sqlite_store: SqliteStore
) -> None:
    load_all(fake, TODAY)
    results = scrape_all(client, sqlite_store)
    assert all(r["status"] == "ok" for r in results.values())
    congress = results["congress"]
    # 1200 rows, 4 filed per day: the 4 filed today are deferred (their trade days are earlier,
    # but Quiver uploads them at 18:xx, after the clock's 15:00).
    assert congress["new"] == 1196 and congress["deferred_today"] == 4
    assert congress["requests"] == 1  # one bulk page of up to 10,000 rows, shorter: the end
    assert results["lobbying"]["new"] == 995  # 5 dated today skipped
    assert results["wiki"]["new"] == 0 and results["wiki"]["deferred_today"] == 8
    stored = sqlite_store.records("congress")
    assert len(stored) == 1196
    assert all(r.first_seen == datetime(2026, 1, 5, 15, tzinfo=UTC) for r in stored)


def test_second_scrape_within_ttl_sends_no_request(
    client: QuiverClient, fake: FakeQuiver, sqlite_store: SqliteStore
) -> None:
    load_all(fake, TODAY)
    scrape_all(client, sqlite_store)
    sent = len(fake.log)
    again = scrape_all(client, sqlite_store)
    assert len(fake.log) == sent
    assert all(r["requests"] == 0 and r["new"] == 0 for r in again.values())


def test_incremental_scrape_reads_only_pages_with_new_rows(
    client: QuiverClient, fake: FakeQuiver, sqlite_store: SqliteStore, clock: FakeClock
) -> None:
    rows = insider_rows(3012, TODAY + timedelta(days=1))  # 6 filed per day, newest first
    fake.rows["live/insiders"] = rows[12:]
    first = scrape(DATASETS["insiders"], client, sqlite_store).as_dict()
    assert first["new"] == 3000 and first["requests"] == 4  # three full pages of 1000, then []
    clock.advance(12 * 3600)  # past the cache's TTL: 22:00 today in New York (03:00 UTC)
    fake.log.clear()
    fake.rows["live/insiders"] = rows
    second = scrape(DATASETS["insiders"], client, sqlite_store).as_dict()
    # Page 1 holds the new rows and reaches back past the 7-day overlap: nothing more to read.
    assert second["requests"] == 1
    assert second["new"] == 6  # filed today at 21:30
    assert second["deferred_today"] == 6  # filed tomorrow: not public yet
    assert second["unchanged"] == 1000 - 12


def test_incremental_scrape_reads_every_page_when_pages_run_oldest_first(
    client: QuiverClient, fake: FakeQuiver, sqlite_store: SqliteStore, clock: FakeClock
) -> None:
    # Quiver does not document page order; if it ever serves oldest rows first, stopping
    # at the first old page would miss every new row on the later pages.
    rows = insider_rows(3012, TODAY + timedelta(days=1))
    fake.rows["live/insiders"] = list(reversed(rows[12:]))
    assert scrape(DATASETS["insiders"], client, sqlite_store).as_dict()["new"] == 3000
    clock.advance(12 * 3600)
    fake.log.clear()
    fake.rows["live/insiders"] = list(reversed(rows))
    second = scrape(DATASETS["insiders"], client, sqlite_store).as_dict()
    assert second["new"] == 6
    assert second["requests"] == 4  # all pages: three of 1000, then a short one


def test_rescrape_updates_in_place_and_keeps_first_seen(
    client: QuiverClient, fake: FakeQuiver, sqlite_store: SqliteStore, clock: FakeClock
) -> None:
    fake.rows["live/lobbying"] = lobbying_rows(10, TODAY - timedelta(days=3))
    scrape(DATASETS["lobbying"], client, sqlite_store)
    first_seen = {r.key: r.first_seen for r in sqlite_store.records("lobbying")}
    clock.advance(3600)
    client.refresh = True
    result = scrape(DATASETS["lobbying"], client, sqlite_store, since=datetime(2025, 1, 1, tzinfo=UTC))
    assert (result.counts.new, result.counts.updated, result.counts.unchanged) == (0, 0, 10)
    assert {r.key: r.first_seen for r in sqlite_store.records("lobbying")} == first_seen


def test_identical_rows_are_kept_apart_and_never_duplicated(
    client: QuiverClient, fake: FakeQuiver, sqlite_store: SqliteStore
) -> None:
    row = lobbying_rows(1, TODAY - timedelta(days=3))[0]
    fake.rows["live/lobbying"] = [row, dict(row)]
    assert scrape(DATASETS["lobbying"], client, sqlite_store).counts.new == 2
    client.refresh = True
    assert scrape(DATASETS["lobbying"], client, sqlite_store).counts.unchanged == 2
    assert len(sqlite_store.records("lobbying")) == 2


def test_bad_and_hostile_rows_are_counted_and_the_run_goes_on(
    client: QuiverClient, fake: FakeQuiver, sqlite_store: SqliteStore
) -> None:
    good = lobbying_rows(4, TODAY - timedelta(days=3))
    fake.rows["live/lobbying"] = [
        *good[:3],
        {**good[0], "Ticker": None},
        {**good[0], "Amount": "n/a"},
        {**good[0], "Date": {"$gt": ""}},
        {**good[0], "Client": "x" * 100_000},
        "not a row",
        {**good[3], "$where": "1", "Client.name": {"$ne": None}},
    ]
    # One request window (since a month ago): each bad row is met once.
    result = scrape(DATASETS["lobbying"], client, sqlite_store, since=datetime(2025, 12, 5, tzinfo=UTC))
    assert result.counts.new == 4
    assert dict(result.rejected) == {
        "Client too long": 1,
        "missing ticker": 1,
        "not an object": 1,
        "unparseable Amount": 1,
        "unparseable Date": 1,
    }
    for r in sqlite_store.records("lobbying"):
        assert not any(k.startswith("$") or "." in k for k in r.fields)


def test_wiki_gone_and_entitlement_are_reported_and_others_continue(
    client: QuiverClient, fake: FakeQuiver, sqlite_store: SqliteStore
) -> None:
    load_all(fake, TODAY)
    fake.gone.add("live/wikipedia")
    fake.fault("live/govcontractsall", Fault(403, UPGRADE_BODY))
    results = scrape_all(client, sqlite_store)
    assert results["wiki"]["status"] == "unavailable"
    assert "may be discontinued" in str(results["wiki"]["message"])
    assert results["contracts"]["status"] == "failed"
    assert "subscription plan" in str(results["contracts"]["message"])
    assert results["insiders"]["status"] == "ok" and results["insiders"]["new"] == 994


def test_bad_key_stops_everything(client: QuiverClient, fake: FakeQuiver, sqlite_store: SqliteStore) -> None:
    client.api_key = "nope"
    with pytest.raises(QuiverAuthError):
        scrape(DATASETS["congress"], client, sqlite_store)


def test_ticker_scrape_uses_the_historical_endpoints(
    client: QuiverClient, fake: FakeQuiver, sqlite_store: SqliteStore
) -> None:
    load_all(fake, TODAY)
    for name in ("congress", "lobbying", "contracts", "wiki"):
        scrape(DATASETS[name], client, sqlite_store, tickers=["NVDA"])
    assert {e.path for e in fake.log} == {
        "historical/congresstrading/NVDA",
        "historical/lobbying/NVDA",
        "historical/govcontractsall/NVDA",
        "historical/wikipedia/NVDA",
    }
    assert {r.ticker for r in sqlite_store.records("congress")} == {"NVDA"}


def test_congress_incremental_uses_the_live_feed_when_it_reaches_back(
    client: QuiverClient, fake: FakeQuiver, sqlite_store: SqliteStore, clock: FakeClock
) -> None:
    rows = congress_rows(660, TODAY + timedelta(days=1))  # 4 filed per day, newest first
    fake.rows["bulk/congresstrading"] = rows[12:]
    scrape(DATASETS["congress"], client, sqlite_store)
    clock.advance(12 * 3600)  # 22:00 today in New York (03:00 UTC)
    fake.log.clear()
    fake.rows["live/congresstrading"] = rows[:60]
    result = scrape(DATASETS["congress"], client, sqlite_store)
    assert fake.paths() == ["live/congresstrading"]
    # The live feed's V1 rows carry no upload time: filed yesterday are new (public at the
    # end of their filing day), filed today and tomorrow are not public yet; the trades
    # stored from the bulk feed's V2 rows are unchanged (one record, one value).
    assert (result.counts.new, result.deferred, result.counts.unchanged) == (4, 8, 48)


def test_point_in_time_view_hides_rows_not_yet_public(
    client: QuiverClient, fake: FakeQuiver, sqlite_store: SqliteStore
) -> None:
    fake.rows["live/lobbying"] = lobbying_rows(10, TODAY - timedelta(days=1))
    scrape(DATASETS["lobbying"], client, sqlite_store)
    as_of = datetime(2026, 1, 4, 12, tzinfo=UTC)
    visible = sqlite_store.records("lobbying", as_of=as_of)
    assert visible and all(r.event_date < date(2026, 1, 4) for r in visible)
    assert json.loads(json.dumps(visible[0].fields))  # plain JSON values
