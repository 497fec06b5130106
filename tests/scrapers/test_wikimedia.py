"""The wiki dataset from Wikimedia's Pageviews API: map, normaliser, client, incremental scrape.

Answer shapes, the 404 body, the rate limit and the User-Agent rule come from public
references (tests/fixtures/wikimedia/PROVENANCE); the fake in tests/fakes/wikimedia.py
answers in those shapes.
"""

from __future__ import annotations

import csv
import itertools
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import requests

from pas.config import load_settings
from pas.errors import ConfigError, InputError
from pas.scrapers import wiki, wikimedia
from pas.scrapers.base import Reject
from pas.scrapers.scrape import scrape
from pas.scrapers.wikimedia import WikimediaClient, load_articles, normalise
from pas.store.sqlite import SqliteStore
from tests.conftest import FakeClock
from tests.fakes.wikimedia import FIXTURES, FakeWikimedia, Fault, serve
from tests.scrapers.conftest import Sleeper

TODAY = date(2026, 1, 5)  # the clock fixture's day
ARTICLES = {"AAPL": "Apple_Inc.", "JNJ": "Johnson_&_Johnson", "ZZZZ": "No_such_company_page"}


@pytest.fixture
def wm() -> Iterator[FakeWikimedia]:
    with serve() as server:
        yield server


@pytest.fixture
def wclient(
    wm: FakeWikimedia, sqlite_store: SqliteStore, clock: FakeClock, sleeper: Sleeper
) -> Iterator[WikimediaClient]:
    with requests.Session() as session:
        yield WikimediaClient(
            session=session,
            store=sqlite_store,
            articles=ARTICLES,
            base_url=wm.url,
            sleep=sleeper,
            clock=clock,
        )


def item(**overrides: object) -> dict[str, object]:
    fixture = json.loads((FIXTURES / "per_article_daily.json").read_text())["items"][0]
    return {**fixture, "ticker": "AAPL", **overrides}


# -- the map ---------------------------------------------------------------------------
def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "articles.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_map_loads_and_has_its_provenance() -> None:
    articles = load_articles(wikimedia.bundled_articles())
    assert len(articles) >= 250
    assert articles["AAPL"] == "Apple_Inc." and articles["JNJ"] == "Johnson_&_Johnson"
    sources = (wikimedia.bundled_articles().parent / "wiki_articles_sources.csv").read_text().splitlines()
    assert sources[0] == "ticker,source"
    assert {line.split(",", 1)[0] for line in sources[1:]} == set(articles)
    # Every row says how far its title was checked, never a source it was not checked
    # against (the titles were first written from knowledge, every row citing the S&P 500
    # list); the counts are the README's.
    said = [source for _, source in list(csv.reader(sources))[1:]]
    checked = [
        s for s in said if s.startswith("checked: the title is the company's name in Wikipedia's List")
    ]
    unchecked = [s for s in said if s.startswith("not checked: written from knowledge")]
    assert len(checked) + len(unchecked) == len(said)
    assert (len(checked), len(unchecked)) == (235, 19)


def test_user_map_reads_titles_as_in_their_url(tmp_path: Path) -> None:
    path = write(tmp_path, '\ufeffticker,article\r\nabc,Apple_Inc.\n\nT,AT%26T\nTSLA,"Tesla,_Inc."\n')
    assert load_articles(path) == {"ABC": "Apple_Inc.", "T": "AT&T", "TSLA": "Tesla,_Inc."}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("symbol,page\nAAPL,Apple_Inc.\n", "line 1: the header must be exactly 'ticker,article'"),
        ("", "line 1: the header must be exactly 'ticker,article'"),
        ("ticker,article\nAAPL,Apple_Inc.,x\n", "line 2: expected 2 columns (ticker,article), got 3"),
        ("ticker,article\nAAPL,Apple_Inc.\n$$,Foo\n", "line 3: '$$' is not a ticker symbol such as AAPL"),
        (
            "ticker,article\nAAPL,Apple Inc.\n",
            "line 2: 'Apple Inc.' is not an article title as in its URL (e.g. Apple_Inc.)",
        ),
        ("ticker,article\nAAPL,\n", "line 2: '' is not an article title as in its URL (e.g. Apple_Inc.)"),
        ("ticker,article\nAAPL,A\naapl,B\n", "line 3: AAPL is mapped twice; keep one row per ticker"),
        (
            'ticker,article\nAAPL,"Apple\nInc."\nMSFT,Microsoft\n',
            "line 2: 'Apple\\nInc.' is not an article title as in its URL (e.g. Apple_Inc.)",
        ),
    ],
)
def test_bad_map_names_the_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as caught:
        load_articles(path)
    assert str(caught.value) == f"{path} {message}"
    assert caught.value.exit_code == 2


def test_missing_map_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="fix WIKI_ARTICLES"):
        load_articles(tmp_path / "nope.csv")


# -- the normaliser and the point-in-time rule -----------------------------------------
def test_normaliser_matches_the_quiver_wiki_record() -> None:
    record = normalise(item())
    quiver = wiki.normalise({"Ticker": "AAPL", "Date": "2025-12-01", "Views": 15342})
    assert record == quiver  # same key (ticker + day), fields, event day and public time
    assert record.event_date == date(2025, 12, 1)
    # A day's views are public at the end of the day in New York (EST here), as the Quiver rule.
    assert record.public_at == datetime(2025, 12, 2, 5, 0, tzinfo=UTC)
    assert record.fields["views"] == "15342" and record.fields["pct_change_week"] is None


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"timestamp": "2025-12-01"}, "unparseable timestamp"),
        ({"timestamp": "2025120113"}, "unparseable timestamp"),
        ({"timestamp": "2025133100"}, "unparseable timestamp"),
        ({"timestamp": 2025120100}, "unparseable timestamp"),
        ({"timestamp": "2014010100"}, "timestamp before the API's first day"),
        ({"granularity": "monthly"}, "not daily views"),
        ({"views": None}, "missing views"),
        ({"views": -1}, "views is not a count"),
        ({"views": 1.5}, "views is not a count"),
        ({"views": "many"}, "unparseable views"),
        ({"ticker": "$$"}, "malformed ticker"),
    ],
)
def test_normaliser_rejects_bad_items(overrides: dict[str, object], reason: str) -> None:
    with pytest.raises(Reject, match=f"^{reason}$"):
        normalise(item(**overrides))


# -- the client ------------------------------------------------------------------------
def test_client_asks_the_documented_path_with_a_descriptive_user_agent(
    wm: FakeWikimedia, wclient: WikimediaClient
) -> None:
    wm.add("Johnson_&_Johnson", date(2025, 12, 1), [10, 0, 30])
    items = wclient.daily_views("Johnson_&_Johnson", date(2025, 12, 1), date(2025, 12, 3))
    assert [(i["timestamp"], i["views"]) for i in items] == [("2025120100", 10), ("2025120300", 30)]
    (logged,) = wm.log
    assert (logged.project, logged.access, logged.agent) == ("en.wikipedia", "all-access", "user")
    assert (logged.start, logged.end) == ("2025120100", "2025120300")
    assert logged.user_agent == wikimedia.USER_AGENT
    assert logged.user_agent.startswith("pas/0.1.0 (") and "WIKIMEDIA_CONTACT" in logged.user_agent
    assert "http" not in logged.user_agent, "no address pas does not have"


def test_contact_joins_the_user_agent() -> None:
    agent = wikimedia.user_agent("ops@example.org")
    assert agent == "pas/0.1.0 (Portfolio Allocation System; ops@example.org)"
    assert wikimedia.user_agent(None) == wikimedia.USER_AGENT


def test_fake_refuses_an_anonymous_client(wm: FakeWikimedia, wclient: WikimediaClient) -> None:
    wclient.user_agent = "python-requests/2.32"
    with pytest.raises(wikimedia.WikimediaError, match="HTTP 403"):
        wclient.daily_views("Apple_Inc.", date(2025, 12, 1), date(2025, 12, 1))


def test_429_honours_retry_after_through_the_injected_sleep(
    wm: FakeWikimedia, wclient: WikimediaClient, sleeper: Sleeper
) -> None:
    wm.add("Apple_Inc.", date(2025, 12, 1), [5])
    wm.fault("Apple_Inc.", Fault(429, {"title": "Too Many Requests"}, {"Retry-After": "7"}), Fault(503))
    items = wclient.daily_views("Apple_Inc.", date(2025, 12, 1), date(2025, 12, 1))
    assert [i["views"] for i in items] == [5]
    assert sleeper.calls[0] == 7.0 and 2.0 <= sleeper.calls[1] <= 3.0  # then the second backoff
    assert wclient.stats.retries == 2 and wclient.stats.requests == 3


def test_a_body_cut_short_is_retried(wm: FakeWikimedia, wclient: WikimediaClient) -> None:
    wm.add("Apple_Inc.", date(2025, 12, 1), [5])
    wm.fault("Apple_Inc.", Fault(200, {"items": [item()] * 50}, truncated=True))
    items = wclient.daily_views("Apple_Inc.", date(2025, 12, 1), date(2025, 12, 1))
    assert [i["views"] for i in items] == [5] and wclient.stats.retries == 1


def test_a_trickled_answer_meets_the_whole_request_deadline(
    wm: FakeWikimedia, wclient: WikimediaClient
) -> None:
    # A body one byte every 10 ms, a 2 s deadline, the injected timer a second further at
    # each look: the read timeout alone (30 s per read) let a trickle hold the request.
    ticks = itertools.count()
    wclient.timer = lambda: float(next(ticks))
    wclient.timeout_sec = 2.0
    wm.add("Apple_Inc.", date(2025, 12, 1), [5])
    wm.fault("Apple_Inc.", Fault(200, {"items": [item()] * 3}, trickle=0.01))
    items = wclient.daily_views("Apple_Inc.", date(2025, 12, 1), date(2025, 12, 1))
    assert [i["views"] for i in items] == [5] and wclient.stats.retries == 1


def test_server_trouble_that_lasts_is_one_clear_error(wm: FakeWikimedia, wclient: WikimediaClient) -> None:
    wm.fault("Apple_Inc.", *[Fault(502)] * wikimedia.RETRY.attempts)
    with pytest.raises(wikimedia.WikimediaError) as caught:
        wclient.daily_views("Apple_Inc.", date(2025, 12, 1), date(2025, 12, 1))
    assert str(caught.value).startswith(f"Wikimedia kept failing for Apple_Inc. (HTTP 502) after {4} tries")
    assert len(wm.log) == wikimedia.RETRY.attempts


def test_requests_share_the_documented_rate_through_the_store(
    wm: FakeWikimedia, wclient: WikimediaClient, sleeper: Sleeper
) -> None:
    wm.add("Apple_Inc.", date(2025, 12, 1), [5])
    for _ in range(3):
        wclient.daily_views("Apple_Inc.", date(2025, 12, 1), date(2025, 12, 1))
    # The clock does not move between requests: each waits for the next 1/100 s slot.
    assert sleeper.calls == pytest.approx([0.01, 0.01])


# -- the scrape ------------------------------------------------------------------------
def test_scrape_backfills_then_resumes_each_ticker_with_an_overlap(
    wm: FakeWikimedia, wclient: WikimediaClient, sqlite_store: SqliteStore
) -> None:
    first_day = TODAY - wikimedia.BACKFILL
    wm.add(
        "Apple_Inc.", first_day - timedelta(days=10), [100] * 376
    )  # up to today (partial: never asked for)
    wm.add("Johnson_&_Johnson", TODAY - timedelta(days=30), [50] * 20)  # stops 10 days ago
    result = scrape(wikimedia.DATASET, wclient, sqlite_store)
    assert result.status == "ok", result.message
    assert result.counts.new == 365 + 20
    # The unknown article is counted, not fatal.
    assert dict(result.rejected) == {wikimedia.NOT_FOUND_REASON: 1}
    asked = {entry.article: (entry.start, entry.end) for entry in wm.log}
    yesterday = f"{TODAY - timedelta(days=1):%Y%m%d}00"
    assert asked["Apple_Inc."] == (f"{first_day:%Y%m%d}00", yesterday)
    stored = sqlite_store.records("wiki", ticker="AAPL")
    assert min(r.event_date for r in stored) == first_day

    wm.log.clear()
    wm.add("Apple_Inc.", TODAY - timedelta(days=2), [120])  # a revised late count
    again = scrape(wikimedia.DATASET, wclient, sqlite_store)
    asked = {entry.article: (entry.start, entry.end) for entry in wm.log}
    newest_jnj = TODAY - timedelta(days=11)
    assert asked["Apple_Inc."] == (f"{TODAY - timedelta(days=1) - wikimedia.OVERLAP:%Y%m%d}00", yesterday)
    assert asked["Johnson_&_Johnson"][0] == f"{newest_jnj - wikimedia.OVERLAP:%Y%m%d}00"
    assert (again.counts.new, again.counts.updated) == (0, 1)
    assert len(sqlite_store.records("wiki", ticker="AAPL")) == 365  # never doubled


def test_since_reaches_further_back_and_tickers_narrow(
    wm: FakeWikimedia, wclient: WikimediaClient, sqlite_store: SqliteStore
) -> None:
    wm.add("Apple_Inc.", date(2020, 1, 1), [7] * 10)
    result = scrape(
        wikimedia.DATASET, wclient, sqlite_store, tickers=["AAPL"], since=datetime(2020, 1, 1, tzinfo=UTC)
    )
    assert result.counts.new == 10
    assert [entry.article for entry in wm.log] == ["Apple_Inc."]
    assert wm.log[0].start == "2020010100"


def test_a_failing_article_fails_the_dataset_and_keeps_what_was_stored(
    wm: FakeWikimedia, wclient: WikimediaClient, sqlite_store: SqliteStore
) -> None:
    wm.add("Apple_Inc.", TODAY - timedelta(days=5), [10] * 5)
    wm.fault("Johnson_&_Johnson", Fault(400, {"title": "Bad Request"}))
    result = scrape(wikimedia.DATASET, wclient, sqlite_store)
    assert result.status == "failed"
    assert result.message.startswith("Wikimedia answered Johnson_&_Johnson with HTTP 400")
    assert result.counts.new == 5


def test_a_ticker_the_map_lacks_is_counted(
    wm: FakeWikimedia, wclient: WikimediaClient, sqlite_store: SqliteStore
) -> None:
    wm.add("Apple_Inc.", TODAY - timedelta(days=3), [10] * 2)
    result = scrape(wikimedia.DATASET, wclient, sqlite_store, tickers=["AAPL", "MSFT"])
    assert result.counts.new == 2
    assert dict(result.rejected) == {wikimedia.UNMAPPED_REASON: 1}
    assert [entry.article for entry in wm.log] == ["Apple_Inc."]


# -- settings ----------------------------------------------------------------------------
def test_settings_default_to_the_source_that_works() -> None:
    settings = load_settings({}).wiki
    assert settings.source == "wikimedia"
    assert settings.wikimedia_base_url == "https://wikimedia.org/api/rest_v1"
    assert settings.articles is None and settings.contact is None
    chosen = load_settings(
        {"WIKI_SOURCE": "Quiver", "WIKIMEDIA_BASE_URL": "http://127.0.0.1:9/api/", "WIKI_ARTICLES": "a.csv"}
    ).wiki
    assert (chosen.source, chosen.wikimedia_base_url) == ("quiver", "http://127.0.0.1:9/api")
    assert chosen.articles == Path("a.csv")


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("WIKI_SOURCE", "twitter", "WIKI_SOURCE must be one of wikimedia, quiver, got 'twitter'"),
        ("WIKIMEDIA_BASE_URL", "wikimedia.org", "WIKIMEDIA_BASE_URL must be an http(s) URL"),
        ("WIKIMEDIA_CONTACT", "me@x.org\r\nX-Evil: 1", "WIKIMEDIA_CONTACT must be one line"),
    ],
)
def test_bad_settings_name_the_variable(name: str, raw: str, message: str) -> None:
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}"):
        load_settings({name: raw})
