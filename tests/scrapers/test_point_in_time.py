"""Point-in-time truth: public times never early, bare dates at the end of the New York
day, "today" in New York, revisions kept with the time pas first saw them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from pas.scrapers import DATASETS
from pas.scrapers.base import day, timestamp
from pas.scrapers.congress import normalise as congress
from pas.scrapers.contracts import normalise as contracts
from pas.scrapers.insiders import normalise as insiders
from pas.scrapers.lobbying import normalise as lobbying
from pas.scrapers.scrape import scrape
from pas.scrapers.wiki import normalise as wiki
from pas.store.sqlite import SqliteStore
from tests.conftest import FakeClock
from tests.fakes.quiver import FakeQuiver

# The end of 2025-09-17 in New York (EDT, UTC-4): the next midnight there.
END_OF_SEP_17 = datetime(2025, 9, 18, 4, 0, tzinfo=UTC)


def trade(**changes: Any) -> dict[str, Any]:
    """A bulk (V2) congress row, as Quiver's schema names its fields."""
    row: dict[str, Any] = {
        "Ticker": "NVDA",
        "TickerType": "ST",
        "Name": "Jane Doe",
        "BioGuideID": "D000001",
        "Traded": "2025-08-29",
        "Filed": "2025-09-17",
        "Transaction": "Purchase",
        "Trade_Size_USD": "15001.0",
        "Chamber": "Representatives",
        "Party": "D",
    }
    row.update(changes)
    return {k: v for k, v in row.items() if v is not None}


def test_a_trade_is_never_public_before_its_filing_day() -> None:
    # The issue's row: last_modified a week before Filed (QuantConnect's processor calls a
    # report date later than last_modified a data bug). The old rule made it public on 09-10.
    r = congress(trade(last_modified="2025-09-10"))
    assert r.public_at == END_OF_SEP_17
    early_upload = congress(trade(Quiver_Upload_Time="2025-09-12T15:00:00Z"))
    assert early_upload.public_at == END_OF_SEP_17


def test_an_upload_on_or_after_the_filing_day_is_when_it_became_public() -> None:
    r = congress(trade(Quiver_Upload_Time="2025-09-17T18:30:00Z", last_modified="2025-09-20"))
    assert r.public_at == datetime(2025, 9, 17, 18, 30, tzinfo=UTC)


def test_the_2023_08_28_backfill_stamp_is_ignored_for_trades_filed_before() -> None:
    # Quiver began recording Quiver_Upload_Time on 2023-08-28 and gave every older row that
    # date: those trades are public at the end of their own filing day, not in one burst.
    old = congress(trade(Traded="2021-03-01", Filed="2021-03-15", Quiver_Upload_Time="2023-08-28 00:00:00"))
    assert old.public_at == datetime(2021, 3, 16, 4, 0, tzinfo=UTC)
    filed_that_day = congress(
        trade(Traded="2023-08-20", Filed="2023-08-28", Quiver_Upload_Time="2023-08-28T17:00:00Z")
    )
    assert filed_that_day.public_at == datetime(2023, 8, 28, 17, 0, tzinfo=UTC)


def test_a_later_edit_is_a_revision_of_the_same_trade() -> None:
    # An edit by Quiver (last_modified moving) or an amended report (a corrected range, a
    # later Filed) is the same trade: same key, so a re-scrape revises it.
    first = congress(trade(Quiver_Upload_Time="2025-09-17T18:30:00Z"))
    edited = congress(
        trade(Quiver_Upload_Time="2025-09-17T18:30:00Z", last_modified="2025-10-01", Trade_Size_USD="50001.0")
    )
    amended = congress(trade(Filed="2025-10-03", Trade_Size_USD="50001.0"))
    assert first.key == edited.key == amended.key
    assert edited.public_at == first.public_at


def test_a_trade_read_from_the_live_and_the_bulk_feed_is_one_record_with_one_value() -> None:
    # Quiver's schema: live/ and historical/congresstrading answer V1 rows (CongressionalTrade:
    # Representative, TransactionDate, ReportDate, Range, House "Representatives or Senate"),
    # bulk/ V2 rows (Name, Traded, Filed, Trade_Size_USD, Chamber "Senate or House"). One
    # trade read from both was one record whose chamber flipped between "Representatives" and
    # "House" at every scrape that read the other feed: a revision each time, never a change.
    v1 = {
        "Representative": "Jane Doe",
        "BioGuideID": "D000001",
        "ReportDate": "2025-09-17T00:00:00",
        "TransactionDate": "2025-08-29T00:00:00",
        "Ticker": "NVDA",
        "Transaction": "Purchase",
        "Range": "$15,001 - $50,000",
        "House": "Representatives",
        "Amount": "15001.0",
        "Party": "D",
        "TickerType": "ST",
    }
    bulk, live = congress(trade(Chamber="House")), congress(v1)
    assert live.key == bulk.key and live.digest() == bulk.digest()
    assert live.fields["chamber"] == "House"
    senate = congress({**v1, "House": "Senate"})
    assert senate.fields["chamber"] == "Senate" == congress(trade(Chamber="Senate")).fields["chamber"]


def test_bare_dates_are_public_at_the_end_of_the_new_york_day() -> None:
    award = {"Ticker": "LMT", "Date": "2026-01-05", "Agency": "DoD", "Description": "X", "Amount": 5.0}
    # 2026-01-05 ends in New York at 05:00 UTC on the 6th (EST, UTC-5), not at 00:00 UTC on the 5th.
    assert contracts(award).public_at == datetime(2026, 1, 6, 5, 0, tzinfo=UTC)
    filing = {"Ticker": "AAPL", "Date": "2026-01-05", "Amount": "1.0", "Client": "A", "Registrant": "R"}
    assert lobbying(filing).public_at == datetime(2026, 1, 6, 5, 0, tzinfo=UTC)
    views = {"Ticker": "AAPL", "Date": "2026-01-05", "Views": 10}
    assert wiki(views).public_at == datetime(2026, 1, 6, 5, 0, tzinfo=UTC)
    form4 = {
        "Ticker": "AAPL",
        "Date": "2026-01-02",
        "Name": "Tim",
        "TransactionCode": "S",
        "Shares": 10,
        "fileDate": "2026-01-05",
    }
    assert insiders(form4).public_at == datetime(2026, 1, 6, 5, 0, tzinfo=UTC)
    assert insiders({**form4, "fileDate": "2026-01-05T00:00:00"}).public_at == datetime(
        2026, 1, 6, 5, 0, tzinfo=UTC
    )


def test_a_time_without_a_zone_is_read_as_new_york_time() -> None:
    # Quiver does not say which zone its zone-less times are in; New York's is later than
    # UTC, so a time that was UTC becomes public a few hours late, never early.
    assert timestamp("2026-01-05 15:04:05", "t") == datetime(2026, 1, 5, 20, 4, 5, tzinfo=UTC)
    assert timestamp("2026-07-05T15:04:05", "t") == datetime(2026, 7, 5, 19, 4, 5, tzinfo=UTC)
    assert timestamp("2026-01-05T15:04:05Z", "t") == datetime(2026, 1, 5, 15, 4, 5, tzinfo=UTC)
    # A day is the day as written, whatever the zone.
    assert day({"d": "2026-01-05T23:30:00-05:00"}, "d") == date(2026, 1, 5)


def test_today_is_the_new_york_day(
    fake: FakeQuiver, sqlite_store: SqliteStore, clock: FakeClock, client: Any
) -> None:
    # 02:00 UTC on 2026-01-06 is 21:00 on 2026-01-05 in New York: the 5th is still today
    # (Quiver still adds to its awards), so only the days up to the 4th are asked.
    clock.now = datetime(2026, 1, 6, 2, 0, tzinfo=UTC)
    fake.rows["live/govcontractsall"] = [
        {"Ticker": "LMT", "Date": d, "Agency": "DoD", "Description": d, "Amount": 5.0, "action_date": d}
        for d in ("2026-01-04", "2026-01-05")
    ]
    result = scrape(DATASETS["contracts"], client, sqlite_store, since=datetime(2026, 1, 4, tzinfo=UTC))
    assert result.status == "ok", result.message
    assert result.counts.new == 1
    asked = {e.query.get("date") for e in fake.log if e.path == "live/govcontractsall"}
    assert asked == {"20260104"}


def test_a_corrected_filing_is_a_revision_and_totals_never_double(
    fake: FakeQuiver, sqlite_store: SqliteStore, clock: FakeClock, client: Any
) -> None:
    # The issue's case: AAPL's 120,000 filing corrected to 125,000 became a second record
    # (the amount was in the key) and the total read 325,000 instead of 210,000.
    filing = {"Ticker": "AAPL", "Client": "APPLE INC.", "Registrant": "R LLC", "Issue": "Taxation"}
    fake.rows["live/lobbying"] = [
        {**filing, "Date": "2025-12-01", "Amount": "85000.0"},
        {**filing, "Date": "2025-12-10", "Amount": "120000.0", "Specific_Issue": "H.R. 1"},
    ]
    since = datetime(2025, 11, 1, tzinfo=UTC)
    assert scrape(DATASETS["lobbying"], client, sqlite_store, since=since).counts.new == 2
    before = clock.now
    clock.advance(2 * 86400)  # past the response cache's TTL
    fake.rows["live/lobbying"][1].update(Amount="125000.0", Specific_Issue="H.R. 1, H.R. 2")
    again = scrape(DATASETS["lobbying"], client, sqlite_store, since=since)
    assert (again.counts.new, again.counts.updated, again.counts.unchanged) == (0, 1, 1)

    def total(as_of: datetime | None) -> Decimal:
        return sum(
            (Decimal(r.fields["amount"]) for r in sqlite_store.records("lobbying", as_of=as_of)), Decimal(0)
        )

    assert total(before) == 205000  # a backtest as of a day before the correction: the old value
    assert total(clock.now) == total(None) == 210000  # after it: the new one, never both
    (revised,) = [r for r in sqlite_store.records("lobbying") if r.event_date == date(2025, 12, 10)]
    assert revised.public_at == datetime(2025, 12, 11, 5, 0, tzinfo=UTC)
