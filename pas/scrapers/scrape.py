"""One scrape of one dataset: fetch what coverage lacks, validate, upsert point-in-time.

A dataset's answers are stored one at a time and, once stored, their part of the
history is added to the dataset's persisted coverage (:mod:`pas.scrapers.coverage`):
an interrupted scrape keeps what it finished and the next one resumes the rest.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from pas.clock import Clock
from pas.errors import PasError
from pas.records import Record, UpsertCounts, natural_key
from pas.schedule import market_day
from pas.scrapers.base import Answer, Dataset, FetchPlan, Reject
from pas.scrapers.client import (
    ClientStats,
    QuiverAuthError,
    QuiverRateLimited,
    QuiverUnavailableError,
)
from pas.scrapers.coverage import Coverage
from pas.store.base import Store


class SourceClient(Protocol):
    """What a scrape needs of a dataset's client (QuiverClient, WikimediaClient)."""

    @property
    def stats(self) -> ClientStats: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def refresh(self) -> bool: ...
    @property
    def cache_ttl_sec(self) -> float: ...


@dataclass
class ScrapeResult:
    """What scraping one dataset did (the summary row and the run record's details).

    ``status`` is ``ok`` (the whole range wanted is stored), ``fresh`` (scraped within the
    cache's TTL), ``partial`` (a rate limit stopped it, or history is still missing: the
    next scrape resumes), ``unavailable`` (404) or ``failed``.
    """

    dataset: str
    status: str = "ok"
    message: str = ""
    requests: int = 0
    cache_hits: int = 0
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    rejected: Counter[str] = field(default_factory=Counter)
    deferred: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "status": self.status,
            "message": self.message,
            "requests": self.requests,
            "cache_hits": self.cache_hits,
            "new": self.counts.new,
            "updated": self.counts.updated,
            "unchanged": self.counts.unchanged,
            "rejected": sum(self.rejected.values()),
            "rejected_reasons": dict(sorted(self.rejected.items())),
            "deferred_today": self.deferred,
            "seconds": round(self.seconds, 3),
        }


def scrape(
    dataset: Dataset,
    client: SourceClient,
    store: Store,
    *,
    tickers: Sequence[str] = (),
    since: datetime | None = None,
    timer: Callable[[], float] = time.monotonic,
) -> ScrapeResult:
    """Scrapes one dataset into the store: what its coverage lacks, or all since ``since``.

    A dataset scraped within the cache's TTL is not asked again (status ``fresh``) unless
    the client refreshes. Whatever goes wrong with this dataset (Quiver refusing it or no
    longer serving it, a rate limit, an answer that cannot be read) ends this dataset
    only, with its status and message; what was stored before stays stored.

    Raises:
        QuiverAuthError: the API key was refused (every other dataset would fail too).
    """
    result = ScrapeResult(dataset.name)
    started = timer()
    requests_before, hits_before = client.stats.requests, client.stats.cache_hits
    now = client.clock()
    # An incremental scrape's requests differ from the last run's (its windows move with
    # coverage), so they miss the response cache; a mark per dataset (and ticker list)
    # says it was scraped within the cache's TTL: nothing to ask then.
    mark = "scraped:" + dataset.name + ":" + ",".join(sorted(tickers))
    incremental = since is None
    reuse = incremental and not client.refresh and client.cache_ttl_sec > 0
    if reuse and store.cache_get(mark, now) is not None:
        result.status = "fresh"
        result.seconds = timer() - started
        return result
    track = dataset.tracks_coverage and not tickers
    coverage = Coverage.from_json(store.coverage_get(dataset.name)) if track else Coverage()
    # The market's day: at 21:00 in New York (02:00 UTC) the day is not over yet.
    today = market_day(now)
    start = since.date() if since is not None else today - timedelta(days=dataset.history_days)
    plan = FetchPlan(tuple(tickers), since, today, start, coverage)
    try:
        for answer in dataset.fetch(client, plan):
            _store_answer(answer, dataset, plan, now, store, result)
            if track and answer.done is not None:
                answer.done(coverage)
                store.coverage_put(dataset.name, coverage.to_json())
        if track and not coverage.covers(start, plan.last_day):
            result.status = "partial"
            result.message = f"history not complete yet: {coverage_text(coverage)}; the next scrape resumes"
        elif incremental and client.cache_ttl_sec > 0:
            store.cache_put(mark, now.isoformat(), now + timedelta(seconds=client.cache_ttl_sec))
    except QuiverAuthError:
        raise
    except QuiverRateLimited as exc:
        result.status, result.message = "partial", str(exc)
    except QuiverUnavailableError as exc:
        result.status, result.message = "unavailable", str(exc)
    except PasError as exc:  # QuiverError, the Wikimedia source's SourceError, a store's error
        result.status, result.message = "failed", str(exc)
    finally:
        result.requests = client.stats.requests - requests_before
        result.cache_hits = client.stats.cache_hits - hits_before
        result.seconds = timer() - started
    return result


def _store_answer(
    answer: Answer, dataset: Dataset, plan: FetchPlan, now: datetime, store: Store, result: ScrapeResult
) -> None:
    """Validates one answer's rows and upserts them, counting rejects and deferred rows."""
    wanted = set(plan.tickers)
    batch: list[Record] = []
    for raw in answer.rows:
        try:
            record = dataset.normalise(raw)
        except Reject as exc:
            result.rejected[str(exc)] += 1
            continue
        if wanted and record.ticker not in wanted:
            continue
        if record.event_date >= plan.today or record.public_at > now:
            result.deferred += 1
            continue
        batch.append(record)
    if batch:
        result.counts = result.counts + store.upsert_records(dataset.name, numbered(batch))


def numbered(answer: Sequence[Record]) -> list[Record]:
    """The records of one answer, each repeated identity numbered apart in its key.

    Records of one identity in one answer are distinct events (two equal trades on a day):
    the second and later get their occurrence number in the key. The count is per answer,
    never across pages, so a row pushed onto the next page by a new filing is the same
    record when it shows up there again.
    """
    seen: Counter[str] = Counter()
    out: list[Record] = []
    for record in answer:
        occurrence = seen[record.key]
        seen[record.key] += 1
        if occurrence:
            record = replace(record, key=natural_key(record.dataset, {"of": record.key, "n": occurrence}))
        out.append(record)
    return out


def coverage_text(coverage: Coverage) -> str:
    """The covered ranges as ``2016-01-01..2026-01-04``, comma-separated ('nothing' when none)."""
    spans = ", ".join(f"{lo.isoformat()}..{hi.isoformat()}" for lo, hi in coverage.spans) or "nothing"
    if coverage.cursor is not None:
        spans += f" (backfill at page {coverage.cursor.page})"
    return spans
