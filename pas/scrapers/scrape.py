"""One scrape of one dataset: fetch, validate, skip today's rows, upsert point-in-time."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from pas.clock import Clock
from pas.records import Record, UpsertCounts, natural_key
from pas.scrapers.base import Dataset, FetchPlan, Reject, SourceError
from pas.scrapers.client import (
    ClientStats,
    QuiverAuthError,
    QuiverError,
    QuiverUnavailableError,
)
from pas.store.base import Store

# An incremental scrape asks again for rows public up to this long before the newest one
# stored: Quiver adds late rows and revises recent ones (and Wikimedia loads days late).
OVERLAP = timedelta(days=7)


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
    """What scraping one dataset did (the summary row and the run record's details)."""

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
    """Scrapes one dataset into the store; incremental unless ``since`` is given.

    A dataset scraped incrementally within the cache's TTL is not asked again (status
    ``fresh``) unless the client refreshes. A dataset Quiver refuses or no longer serves
    ends with status ``unavailable`` or ``failed`` and its message; pages stored before a failure stay stored.

    Raises:
        QuiverAuthError: the API key was refused (every other dataset would fail too).
    """
    result = ScrapeResult(dataset.name)
    started = timer()
    requests_before, hits_before = client.stats.requests, client.stats.cache_hits
    now = client.clock()
    # An incremental scrape asks for a window that moves with what is stored, so its
    # requests differ from the last run's and miss the response cache; a mark per dataset
    # (and ticker list) says it was scraped within the cache's TTL: nothing to ask then.
    mark = "scraped:" + dataset.name + ":" + ",".join(sorted(tickers))
    incremental = since is None
    reuse = incremental and not client.refresh and client.cache_ttl_sec > 0
    if reuse and store.cache_get(mark, now) is not None:
        result.status = "fresh"
        result.seconds = timer() - started
        return result
    if since is None:
        latest = store.latest_public_at(dataset.name)
        since = None if latest is None else latest - OVERLAP
    plan = FetchPlan(tuple(tickers), since, now.date())
    wanted = set(tickers)
    seen: Counter[str] = Counter()
    try:
        for page in dataset.fetch(client, plan):
            batch: list[Record] = []
            for raw in page:
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
                # Identical rows in one answer are distinct events (two equal trades on a
                # day): the second and later get their occurrence number in the key.
                occurrence = seen[record.key]
                seen[record.key] += 1
                if occurrence:
                    record = replace(
                        record, key=natural_key(dataset.name, {"of": record.key, "n": occurrence})
                    )
                batch.append(record)
            if batch:
                result.counts = result.counts + store.upsert_records(dataset.name, batch)
        if incremental and client.cache_ttl_sec > 0:
            store.cache_put(mark, now.isoformat(), now + timedelta(seconds=client.cache_ttl_sec))
    except QuiverAuthError:
        raise
    except QuiverUnavailableError as exc:
        result.status, result.message = "unavailable", str(exc)
    except (QuiverError, SourceError) as exc:
        result.status, result.message = "failed", str(exc)
    finally:
        result.requests = client.stats.requests - requests_before
        result.cache_hits = client.stats.cache_hits - hits_before
        result.seconds = timer() - started
    return result
