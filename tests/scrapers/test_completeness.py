"""Completeness against the fake Quiver: every page, resumable history, rate limits, page shifts.

The paging parameters and ends come from Quiver's OpenAPI schema and QuantConnect's
downloader of the real feeds (tests/fixtures/quiver/PROVENANCE).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from pas.scrapers import DATASETS
from pas.scrapers.client import QuiverClient
from pas.scrapers.coverage import Coverage
from pas.scrapers.limits import ENDPOINT_LIMITS
from pas.scrapers.scrape import scrape
from pas.store.sqlite import SqliteStore
from tests.conftest import FakeClock
from tests.fakes.quiver import FakeQuiver, Fault, congress_rows, contract_rows, lobbying_rows

TODAY = date(2026, 1, 5)  # the FakeClock's day


def test_contracts_are_asked_per_day_and_every_page_is_read(
    client: QuiverClient, fake: FakeQuiver, sqlite_store: SqliteStore
) -> None:
    # 1,200 awards announced on one day: the old single request kept only the first page.
    rows = [dict(r, Date="2026-01-02") for r in contract_rows(1200, TODAY)]
    fake.rows["live/govcontractsall"] = rows
    result = scrape(DATASETS["contracts"], client, sqlite_store, since=datetime(2026, 1, 2, tzinfo=UTC))
    assert result.status == "ok" and result.counts.new == 1200
    asked = [(e.query["date"], e.query["page"]) for e in fake.log]
    assert asked == [
        ("20260102", "1"),
        ("20260102", "2"),
        ("20260102", "3"),
        ("20260103", "1"),
        ("20260104", "1"),
    ]


def test_historical_lobbying_is_paged(
    client: QuiverClient, fake: FakeQuiver, sqlite_store: SqliteStore
) -> None:
    fake.rows["live/lobbying"] = [
        dict(r, Ticker="AAPL") for r in lobbying_rows(1200, TODAY - timedelta(days=1))
    ]
    result = scrape(DATASETS["lobbying"], client, sqlite_store, tickers=["AAPL"])
    assert result.counts.new == 1200
    assert [e.query["page"] for e in fake.log] == ["1", "2", "3"]


def test_an_interrupted_first_scrape_is_resumed_not_left_with_a_hole(
    client: QuiverClient, fake: FakeQuiver, sqlite_store: SqliteStore, clock: FakeClock
) -> None:
    # 1,200 filings over the last 300 days; a 400 on the newest request window stops the
    # first scrape after the older windows are stored.
    rows = lobbying_rows(1200, TODAY - timedelta(days=1))
    fake.rows["live/lobbying"] = [
        dict(r, Date=(TODAY - timedelta(days=1 + i // 4)).isoformat()) for i, r in enumerate(rows)
    ]
    lobbying = DATASETS["lobbying"]
    windows = -(-lobbying.history_days // 92)
    calls = {"n": 0}

    def fail_second_window(path: str, query: dict[str, str]) -> None:
        if query.get("page") == "1":
            calls["n"] += 1
            if calls["n"] == windows:
                fake.fault(path, Fault(400, {"detail": "bad request"}))

    fake.before_answer = fail_second_window
    first = scrape(lobbying, client, sqlite_store)
    assert first.status == "failed"
    stored_after_first = len(sqlite_store.records("lobbying"))
    assert 0 < stored_after_first < 1200
    fake.before_answer = None
    clock.advance(7 * 3600)  # past the cache's TTL
    second = scrape(lobbying, client, sqlite_store)
    assert second.status == "ok", second.message
    assert len(sqlite_store.records("lobbying")) == 1200
    coverage = Coverage.from_json(sqlite_store.coverage_get("lobbying"))
    assert coverage.covers(TODAY - timedelta(days=lobbying.history_days), TODAY - timedelta(days=1))
    # The window finished by the first scrape is not asked again.
    finished = {e.query["date_from"] for e in fake.log[: windows - 1]}
    asked_again = [e.query["date_from"] for e in fake.log[windows:] if e.query["date_from"] in finished]
    assert asked_again == [], asked_again


def test_a_backfill_stopped_by_the_bulk_limit_is_partial_and_resumes_at_its_page(
    client: QuiverClient, fake: FakeQuiver, sqlite_store: SqliteStore, clock: FakeClock
) -> None:
    # Bulk congress trading: 5 requests an hour. A scrape that would wait longer than it
    # may stops as partial; the next run asks for the next page, not the first.
    client.rate_limits = dict(ENDPOINT_LIMITS)
    client.max_wait_sec = 60
    client.rate_sec = 0
    fake.rows["bulk/congresstrading"] = congress_rows(25_000, TODAY - timedelta(days=1))
    congress = DATASETS["congress"]
    first = scrape(congress, client, sqlite_store)
    assert first.status == "partial" and "5/hour" in first.message, first.message
    assert [e.query["page"] for e in fake.log] == ["1"]
    clock.advance(3600)
    second = scrape(congress, client, sqlite_store)
    assert second.status == "partial"
    assert [e.query["page"] for e in fake.log] == ["1", "2"]
    clock.advance(3600)
    third = scrape(congress, client, sqlite_store)
    assert third.status == "ok", third.message
    assert [e.query["page"] for e in fake.log] == ["1", "2", "3"]
    assert len(sqlite_store.records("congress")) == 25_000


def test_a_row_pushed_onto_the_next_page_is_one_record(
    client: QuiverClient, fake: FakeQuiver, sqlite_store: SqliteStore
) -> None:
    # 600 filings of one day, two of them identical on page 1; a new filing arrives after
    # page 1 is served and pushes page 1's last row onto page 2. An occurrence counter over
    # the whole scrape stored that row twice (602 records for 601 filings).
    day = (TODAY - timedelta(days=2)).isoformat()
    rows = [dict(r, Date=day) for r in lobbying_rows(600, TODAY)]
    rows[1] = dict(rows[0])
    fake.rows["live/lobbying"] = rows
    new_filing = {**rows[5], "Specific_Issue": "new"}

    def shift(path: str, query: dict[str, str]) -> None:
        if query.get("page") == "2" and fake.rows["live/lobbying"][0] is not new_filing:
            fake.rows["live/lobbying"] = [new_filing, *fake.rows["live/lobbying"]]

    fake.before_answer = shift
    since = datetime(2025, 12, 1, tzinfo=UTC)
    result = scrape(DATASETS["lobbying"], client, sqlite_store, since=since)
    assert result.status == "ok"
    # The pushed row, met again on page 2, is the record of page 1 (the new filing went
    # onto page 1, already read: the next scrape gets it).
    assert len(sqlite_store.records("lobbying")) == 600
    client.refresh = True
    scrape(DATASETS["lobbying"], client, sqlite_store, since=since)
    assert len(sqlite_store.records("lobbying")) == 601


def test_a_feed_that_ignores_page_stops_after_one_repeat(
    client: QuiverClient, fake: FakeQuiver, sqlite_store: SqliteStore
) -> None:
    fake.rows["live/insiders"] = [{**r, "Name": f"Insider {i}"} for i, r in enumerate(_insiders(3000))]
    fake.ignores_page.add("live/insiders")
    result = scrape(DATASETS["insiders"], client, sqlite_store)
    assert result.status == "failed" and "ignores `page`" in result.message
    assert len(fake.log) == 2
    assert result.counts.new == 1000  # the first page, once


def _trade(name: str, filed: date, chamber: str) -> dict[str, Any]:
    """A V2 congress row filed on ``filed``, uploaded that evening (New York time)."""
    return {
        "Ticker": "NVDA",
        "TickerType": "ST",
        "Name": name,
        "Traded": (filed - timedelta(days=20)).isoformat(),
        "Filed": filed.isoformat(),
        "Transaction": "Purchase",
        "Trade_Size_USD": "1001.0",
        "Chamber": chamber,
        "Quiver_Upload_Time": f"{filed.isoformat()} 18:00:00",
    }


def test_the_live_congress_feed_spares_the_bulk_feed_only_when_each_chamber_reaches_back(
    client: QuiverClient, fake: FakeQuiver, sqlite_store: SqliteStore, clock: FakeClock
) -> None:
    # Quiver's quickstart: live/congresstrading returns "up to 500 from the House and 500
    # from the Senate", newest first. A busy House's rows can end days after the Senate's
    # reach a month back, so the oldest row of the answer says nothing about the House: a
    # House trade filed four days ago, in the bulk feed only, was never fetched.
    days = [TODAY - timedelta(days=d) for d in range(1, 31)]
    bulk = [_trade(f"{chamber} member {d:%d}", d, chamber) for d in days for chamber in ("House", "Senate")]
    fake.rows["bulk/congresstrading"] = bulk
    assert scrape(DATASETS["congress"], client, sqlite_store).status == "ok"
    clock.advance(12 * 3600)  # 22:00 in New York, past the cache's TTL
    late = _trade("House member filed late", TODAY - timedelta(days=4), "House")
    fake.rows["bulk/congresstrading"] = [*bulk[:6], late, *bulk[6:]]
    house = [_trade(f"House member new {i}", TODAY - timedelta(days=i % 2), "House") for i in range(8)]
    fake.rows["live/congresstrading"] = [*house, *(r for r in bulk if r["Chamber"] == "Senate")]
    fake.log.clear()
    result = scrape(DATASETS["congress"], client, sqlite_store)
    assert result.status == "ok", result.message
    assert "bulk/congresstrading" in fake.paths()
    # The fake's live feed keeps Quiver's caps: the newest 500 of each chamber, in V1 rows.
    many = [
        _trade(f"{c} {i}", TODAY - timedelta(days=1 + i // 50), c)
        for i in range(600)
        for c in ("House", "Senate")
    ]
    fake.rows["live/congresstrading"] = many
    answered = client.get("live/congresstrading", {"n": 1})
    names = [r["Name"] for r in many if int(r["Name"].split()[1]) < 500]
    assert [r["Representative"] for r in answered] == names  # in the V1 shape of the live feed
    assert any(r.fields["name"] == "House member filed late" for r in sqlite_store.records("congress"))


def _insiders(n: int) -> list[dict[str, Any]]:
    from tests.fakes.quiver import insider_rows

    return insider_rows(n, TODAY - timedelta(days=1))
