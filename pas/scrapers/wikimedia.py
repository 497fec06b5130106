"""Daily Wikipedia page views from their source: the Wikimedia REST API (Pageviews).

``GET {base}/metrics/pageviews/per-article/{project}/{access}/{agent}/{article}/daily/{start}/{end}``
answers ``{"items": [{"project", "article", "granularity", "timestamp": "2015070100",
"access", "agent", "views"}]}``. Facts of the API this module is built on (see
tests/fixtures/wikimedia/PROVENANCE):

- A 404 (``HyperSwitch/errors/not_found``) means "zero views or not loaded yet": the API
  cannot tell them apart, and days with zero views are left out of a series. An article
  that answers 404 is counted in the scrape's summary, never fatal.
- A day's data is loaded after it ends (usually within hours, sometimes a day or more),
  so the records are public at the end of the day in New York (the rule of the Quiver
  wiki dataset, and of every bare date), and an incremental scrape asks each ticker again
  for the days of the scrape's overlap (:data:`pas.scrapers.coverage.OVERLAP`) before its
  newest stored day.
- The per-article endpoint is documented at 100 requests per second; Wikimedia asks every
  client for a descriptive User-Agent with contact information (:data:`USER_AGENT`).

Records have the shape and the natural key (ticker + day) of the Quiver wiki dataset, so
``wiki_attention`` reads either source unchanged.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from pas import __version__
from pas.clock import Clock, system_clock
from pas.errors import InputError
from pas.http import RETRY_STATUSES, RetryPolicy, Sleep, Transient, retry_after_seconds, with_retries
from pas.models import SYMBOL_RE
from pas.records import Record
from pas.scrapers.base import Answer, Dataset, FetchPlan, Reject, SourceError, as_row, ticker, to_decimal
from pas.scrapers.client import ClientStats, retry_sleep, wait_for_slot
from pas.scrapers.coverage import OVERLAP
from pas.scrapers.transport import get_within
from pas.scrapers.wiki import NAME, views_record
from pas.store.base import Store

if TYPE_CHECKING:
    import requests

# Wikimedia's User-Agent policy: name the client, its version and a way to reach its
# operators; requests without a descriptive one may be blocked without notice. pas has no
# public address to give, so the contact is the operator's own (WIKIMEDIA_CONTACT); until
# one is set the agent says so rather than naming an address nobody reads.
USER_AGENT = f"pas/{__version__} (Portfolio Allocation System; no contact set: WIKIMEDIA_CONTACT)"
PROJECT = "en.wikipedia"
ACCESS = "all-access"
# Human readers only: crawlers and automated traffic are not attention from investors.
AGENT = "user"
# Documented limit of the per-article endpoint: 100 requests per second, across processes
# (the store's shared rate slots).
RATE_LIMIT_PER_SEC = 100.0
RATE_LIMIT_NAME = "wikimedia"
# 429 (the API's storage cannot keep up with this client) and 5xx are retried: 4 tries,
# backoff 1 s, 2 s, 4 s plus up to 1 s of jitter; a Retry-After wins, up to 5 minutes.
RETRY = RetryPolicy(attempts=4, initial_sec=1.0, max_sec=60.0, jitter_sec=1.0, max_server_wait_sec=300.0)
CONNECT_TIMEOUT_SEC = 10.0
DEFAULT_TIMEOUT_SEC = 30.0
# A ticker with nothing stored is backfilled this far (the baseline of wiki_attention is
# 8 weeks; a year leaves room for longer ones). ``pas scrape wiki --since`` goes further.
BACKFILL = timedelta(days=365)
# The Pageviews API has no data before this day.
FIRST_DAY = date(2015, 7, 1)
ARTICLES_HEADER = ("ticker", "article")
# Why a 404 is counted (it is zero views or data not loaded yet, never a bad row).
NOT_FOUND_REASON = "no page views for the article (HTTP 404; check its title in WIKI_ARTICLES)"
UNMAPPED_REASON = "ticker not in the article map (add a row to WIKI_ARTICLES)"
BODY_EXCERPT = 120
_TIMESTAMP_RE = re.compile(r"^(\d{8})(00)?$")


class WikimediaError(SourceError):
    """The Wikimedia API did not give the data; the message says why and what to do."""


class _NotFound(Exception):
    """The article has no data in the window (or is unknown)."""


def bundled_articles() -> Path:
    """The starter map shipped with pas (``ticker,article``)."""
    return Path(str(resources.files("pas.scrapers").joinpath("data/wiki_articles.csv")))


def load_articles(path: Path) -> dict[str, str]:
    """The ticker → article map of a CSV with the header ``ticker,article``.

    The article is its title as in its URL (``Apple_Inc.``, ``Johnson_%26_Johnson``);
    percent escapes are decoded here and the title is re-encoded for each request.

    Raises:
        InputError: the file cannot be read, or a row is malformed (the message names the
            file and the line).
    """
    try:
        # utf-8-sig: a spreadsheet's "CSV UTF-8" starts with a byte-order mark.
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the wiki article map {path} ({exc}); fix WIKI_ARTICLES") from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(c.strip() for c in header) != ARTICLES_HEADER:
        raise InputError(f"{path} line 1: the header must be exactly 'ticker,article'")
    articles: dict[str, str] = {}
    while True:
        number = reader.line_num + 1  # where the row starts (a quoted field may span lines)
        row = next(reader, None)
        if row is None:
            break
        if not row:
            continue
        where = f"{path} line {number}"
        if len(row) != 2:
            raise InputError(f"{where}: expected 2 columns (ticker,article), got {len(row)}")
        symbol, article = row[0].strip().upper(), unquote(row[1].strip())
        if not SYMBOL_RE.match(symbol):
            raise InputError(f"{where}: {row[0]!r} is not a ticker symbol such as AAPL")
        if not article or any(c.isspace() or c in "#<>[]{}|" for c in article):
            raise InputError(f"{where}: {row[1]!r} is not an article title as in its URL (e.g. Apple_Inc.)")
        if symbol in articles:
            raise InputError(f"{where}: {symbol} is mapped twice; keep one row per ticker")
        articles[symbol] = article
    return articles


@dataclass
class WikimediaClient:
    """A Wikimedia Pageviews client for the tickers of a map.

    Args:
        session: the HTTP session (the command builds a real one; tests point it at a fake).
        store: the records (each ticker's newest stored day) and the shared rate slots.
        articles: ticker → article title (decoded).
        base_url: ``WIKIMEDIA_BASE_URL``.
        user_agent: the User-Agent header (:data:`USER_AGENT`, plus the user's contact).
        timeout_sec: the whole-request deadline in seconds (the last byte of the body
            included: a trickled answer is cut and retried).
        sleep, clock: injected time; ``timer`` measures the request deadline (seconds).
    """

    session: requests.Session
    store: Store
    articles: Mapping[str, str]
    base_url: str
    user_agent: str = USER_AGENT
    timeout_sec: float = DEFAULT_TIMEOUT_SEC
    sleep: Sleep = field(default=lambda s: None)
    clock: Clock = system_clock
    timer: Callable[[], float] = time.monotonic
    stats: ClientStats = field(default_factory=ClientStats)
    rng: random.Random = field(default_factory=random.Random)
    # The scrape's response cache and its "fresh" mark are Quiver's; windows here are small.
    refresh: bool = True
    cache_ttl_sec: float = 0.0

    def daily_views(self, article: str, start: date, end: date) -> list[Any]:
        """The ``items`` of one article's daily views from ``start`` to ``end`` (inclusive).

        Raises:
            _NotFound: the API answered 404 (zero views, not loaded, or no such article).
            WikimediaError: the API kept failing or answered something else than items.
        """
        url = (
            f"{self.base_url.rstrip('/')}/metrics/pageviews/per-article/{PROJECT}/{ACCESS}/{AGENT}/"
            f"{quote(article, safe='')}/daily/{start:%Y%m%d}00/{end:%Y%m%d}00"
        )
        try:
            return with_retries(lambda: self._attempt(url, article), RETRY, self._retry_sleep, self.rng)
        except Transient as failure:
            raise WikimediaError(
                f"Wikimedia kept failing for {article} ({failure.reason}) after {RETRY.attempts} "
                "tries; try again later (the next scrape resumes each ticker where it stopped)"
            ) from None

    def _attempt(self, url: str, article: str) -> list[Any]:
        self._wait_for_slot()
        self.stats.requests += 1
        response = get_within(
            self.session,
            url,
            params=None,
            headers={"User-Agent": self.user_agent, "Accept": "application/json"},
            connect_timeout_sec=CONNECT_TIMEOUT_SEC,
            deadline_sec=self.timeout_sec,
            timer=self.timer,
        )
        status = response.status
        if status == 404:
            raise _NotFound(article)
        if status in RETRY_STATUSES:
            raise Transient(
                f"HTTP {status}", retry_after_seconds(response.headers.get("Retry-After"), self.clock())
            )
        body = response.text
        if status != 200:
            raise WikimediaError(
                f"Wikimedia answered {article} with HTTP {status}: {' '.join(body.split())[:BODY_EXCERPT]}"
            )
        try:
            decoded = json.loads(body)
        except (ValueError, RecursionError):
            raise WikimediaError(
                f"Wikimedia answered {article} with a body that is not JSON: {body[:BODY_EXCERPT]!r}"
            ) from None
        items = decoded.get("items") if isinstance(decoded, dict) else None
        if not isinstance(items, list):
            raise WikimediaError(f"Wikimedia answered {article} without a list of items")
        return items

    def _wait_for_slot(self) -> None:
        interval_sec = 1.0 / RATE_LIMIT_PER_SEC
        wait_for_slot(self.store, RATE_LIMIT_NAME, interval_sec, self.clock, self.sleep, self.stats)

    def _retry_sleep(self, seconds: float) -> None:
        retry_sleep(seconds, self.sleep, self.stats)


def user_agent(contact: str | None) -> str:
    """The User-Agent naming pas, its version and the operator's contact
    (``WIKIMEDIA_CONTACT``, an email or URL); :data:`USER_AGENT` when there is none."""
    return USER_AGENT if not contact else f"pas/{__version__} (Portfolio Allocation System; {contact})"


def normalise(raw: Any) -> Record:
    """One ``items`` entry (with the ``ticker`` the fetch added) as a wiki record."""
    row = as_row(raw)
    if row.get("missing"):
        raise Reject(NOT_FOUND_REASON)
    if row.get("unmapped"):
        raise Reject(UNMAPPED_REASON)
    symbol = ticker(row, "ticker")
    stamp = row.get("timestamp")
    match = _TIMESTAMP_RE.match(stamp) if isinstance(stamp, str) else None
    if match is None:
        raise Reject("unparseable timestamp")
    try:
        viewed = datetime.strptime(match.group(1), "%Y%m%d").date()
    except ValueError:
        raise Reject("unparseable timestamp") from None
    if viewed < FIRST_DAY:
        raise Reject("timestamp before the API's first day")
    if row.get("granularity", "daily") != "daily":
        raise Reject("not daily views")
    if "views" not in row or row["views"] is None:
        raise Reject("missing views")
    views = to_decimal(row["views"], "views")
    if views < 0 or views != views.to_integral_value():
        raise Reject("views is not a count")
    return views_record(symbol, viewed, views, None, None)


def windows(client: WikimediaClient, plan: FetchPlan) -> Iterator[tuple[str, str | None, date, date]]:
    """(ticker, article, first day, last day) to ask for, each ticker from its own resume point.

    A ticker resumes :data:`OVERLAP` before its newest stored day, or starts a backfill of
    :data:`BACKFILL` before today; ``--since`` (``plan.since``) reaches further back, never
    less far. The last day asked is yesterday (today's views are not complete). A ticker
    asked for (``--ticker``) that the map lacks comes with the article None.
    """
    end = plan.today - timedelta(days=1)
    wanted = plan.tickers or tuple(client.articles)
    newest: dict[str, date] = {}
    for record in client.store.records(NAME, since=plan.since):
        newest[record.ticker] = max(newest.get(record.ticker, record.event_date), record.event_date)
    for symbol in wanted:
        article = client.articles.get(symbol)
        if symbol not in newest and plan.since is not None:
            stored = [r.event_date for r in client.store.records(NAME, ticker=symbol)]
            if stored:
                newest[symbol] = max(stored)
        resume = newest[symbol] - OVERLAP if symbol in newest else plan.today - BACKFILL
        start = max(FIRST_DAY, min(resume, plan.since.date()) if plan.since else resume)
        if start <= end:
            yield symbol, article, start, end


def fetch(client: WikimediaClient, plan: FetchPlan) -> Iterator[Answer]:
    """One page of rows per ticker of the map (or of ``--ticker``); a 404, or a ticker the
    map lacks, yields a marker row that the normaliser counts (:data:`NOT_FOUND_REASON`,
    :data:`UNMAPPED_REASON`)."""
    for symbol, article, start, end in windows(client, plan):
        if article is None:
            yield Answer([{"ticker": symbol, "unmapped": True}])
            continue
        try:
            items = client.daily_views(article, start, end)
        except _NotFound:
            yield Answer([{"ticker": symbol, "article": article, "missing": True}])
            continue
        yield Answer([{**item, "ticker": symbol} for item in items if isinstance(item, Mapping)])


# Each article resumes from its own newest stored day (see :func:`windows`), so the
# dataset keeps no coverage of its own.
DATASET = Dataset(
    NAME, (), "Wikipedia page views (Wikimedia Pageviews API)", fetch, normalise, tracks_coverage=False
)
