"""A live check of the QuiverQuant key and plan: one small request per dataset.

``pas doctor`` asks, for each Quiver dataset the portfolios' strategies read, the smallest
request of that dataset (one company's history, or one row of a paged list), past the
cache and tried once, so a check never waits out Quiver's retry backoff. A refused key
(HTTP 401 ``Invalid token.``) is refused for every dataset, so the check stops there; an
answer naming the subscription plan says the plan lacks that one dataset.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from pas.http import RetryPolicy
from pas.scrapers.client import QuiverAuthError, QuiverClient, QuiverError

PROBE_TICKER = "AAPL"
"""The company each per-ticker probe asks about (every Quiver dataset covers it)."""
PROBES: dict[str, tuple[str, dict[str, Any]]] = {
    "congress": (f"historical/congresstrading/{PROBE_TICKER}", {}),
    "lobbying": (f"historical/lobbying/{PROBE_TICKER}", {}),
    "contracts": (f"historical/govcontractsall/{PROBE_TICKER}", {}),
    "insiders": ("live/insiders", {"ticker": PROBE_TICKER, "page": 1, "page_size": 1}),
    "wiki": (f"historical/wikipedia/{PROBE_TICKER}", {}),
}
"""The request that proves a dataset answers: its endpoint and query (the smallest it has)."""
PROBE_MAX_WAIT_SEC = 10.0
"""The longest a probe waits for its endpoint's rate-limit slot; beyond it, it is not asked."""
ONE_TRY = RetryPolicy(attempts=1, initial_sec=0.0, max_sec=0.0, jitter_sec=0.0, max_server_wait_sec=0.0)


@dataclass(frozen=True)
class Probe:
    """What Quiver answered for one dataset.

    Attributes:
        dataset: the dataset asked for.
        error: why it gave no data (None: it answered).
    """

    dataset: str
    error: QuiverError | None = None


def probe_datasets(client: QuiverClient, datasets: Sequence[str]) -> list[Probe]:
    """Asks Quiver for a little of each dataset, once each, bypassing the cache.

    Args:
        client: the configured client (``QUIVER_BASE_URL``, the key); for the probe it
            tries once, skips the cache and waits at most :data:`PROBE_MAX_WAIT_SEC` for a
            rate-limit slot (an endpoint's limit used up is reported, not waited out).
        datasets: Quiver datasets (names of :data:`PROBES`).

    Returns:
        One probe per dataset asked, in order, up to the first refusal of the key.
    """
    once = replace(client, policy=ONE_TRY, refresh=True, cache_ttl_sec=0.0, max_wait_sec=PROBE_MAX_WAIT_SEC)
    probes: list[Probe] = []
    for name in datasets:
        path, params = PROBES[name]
        try:
            once.get(path, params, dataset=name)
        except QuiverAuthError as exc:
            return [*probes, Probe(name, exc)]
        except QuiverError as exc:
            probes.append(Probe(name, exc))
            continue
        probes.append(Probe(name))
    return probes
