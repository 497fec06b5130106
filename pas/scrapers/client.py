"""The QuiverQuant REST client: shared rate limit, response cache, retries, pagination.

Everything it touches is injected: the ``requests.Session`` (tests pass one pointed at a
fake server), a response cache and a rate limiter (the store: their state is shared by
every process on it), ``sleep`` and ``clock`` (tests pass fakes, so no test waits real
seconds).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from pas.clock import Clock, system_clock
from pas.errors import PasError
from pas.http import RETRY_STATUSES, RetryPolicy, Sleep, Transient, server_wait, with_retries
from pas.store.interfaces import RateSlots, ResponseCache

if TYPE_CHECKING:
    import requests

# Tries per request before giving up (the first one included).
MAX_TRIES = 6
# Backoff: 2 s, 4 s, 8 s... plus up to 1 s of jitter, at most 120 s; a pause the server
# asks for (Retry-After, or "wait N seconds" in the body) wins, up to 10 minutes.
RETRY_POLICY = RetryPolicy(
    attempts=MAX_TRIES, initial_sec=2.0, max_sec=120.0, jitter_sec=1.0, max_server_wait_sec=600.0
)
# Connecting should be quick even when answering is slow.
CONNECT_TIMEOUT_SEC = 10.0
DEFAULT_PAGE_SIZE = 500
# A paged endpoint that never returns an empty page is cut here rather than looping forever.
MAX_PAGES = 2000
RATE_LIMIT_NAME = "quiver"
# Error bodies are quoted in messages up to this many characters.
BODY_EXCERPT = 120

_SECONDS_RE = re.compile(r"(\d+(?:\.\d+)?)\s*seconds?", re.IGNORECASE)
_OVERLOAD_MARKERS = ("queuepool", "gateway")
_UPGRADE_MARKER = "upgrade your subscription plan"


class QuiverError(PasError):
    """QuiverQuant did not give the data; the message says why and what to do."""


class QuiverAuthError(QuiverError):
    """The API key was refused (401/403): every dataset would fail the same way."""


class QuiverEntitlementError(QuiverError):
    """The subscription plan does not include the dataset (not retried)."""


class QuiverUnavailableError(QuiverError):
    """The endpoint does not exist (404), e.g. a discontinued dataset."""


@dataclass
class ClientStats:
    """What the client did, for the scrape summary."""

    requests: int = 0
    cache_hits: int = 0
    retries: int = 0
    waited_sec: float = 0.0


def wait_for_slot(
    limiter: RateSlots, name: str, interval_sec: float, clock: Clock, sleep: Sleep, stats: ClientStats
) -> None:
    """Takes the next of the rate limit ``name``'s slots, ``interval_sec`` seconds apart
    (shared through the store by every process), and sleeps until it starts."""
    now = clock()
    delay = (limiter.reserve_slot(name, interval_sec, now) - now).total_seconds()
    if delay > 0:
        stats.waited_sec += delay
        sleep(delay)


def retry_sleep(seconds: float, sleep: Sleep, stats: ClientStats) -> None:
    """The pause before a retry, counted in the scrape summary."""
    stats.retries += 1
    stats.waited_sec += seconds
    sleep(seconds)


@dataclass
class QuiverClient:
    """A QuiverQuant API client.

    Args:
        session: the HTTP session (the command builds a real one).
        cache: where responses are cached (the store).
        limiter: where the rate-limit slots shared by every process are taken (the store).
        api_key: ``QUIVER_API_KEY``; never shown in messages.
        base_url: ``QUIVER_BASE_URL``.
        auth_scheme: the word before the key in ``Authorization`` (``Token`` or ``Bearer``).
        rate_sec: minimum seconds between two requests, across processes.
        cache_ttl_sec: how long a response is reused; 0 disables the cache.
        timeout_sec: read timeout of one request (bulk endpoints are slow).
        refresh: bypass the cache for reads (responses are still cached).
        sleep, clock: injected time.
        on_request: called after each request sent or cache hit, for progress display.
        policy: how often a failing request is tried (``pas doctor`` tries once).
    """

    session: requests.Session
    cache: ResponseCache
    limiter: RateSlots
    api_key: str
    base_url: str
    auth_scheme: str = "Token"
    rate_sec: float = 1.1
    cache_ttl_sec: float = 6 * 3600.0
    timeout_sec: float = 60.0
    refresh: bool = False
    sleep: Sleep = field(default=lambda s: None)
    clock: Clock = system_clock
    on_request: Callable[[str], None] | None = None
    stats: ClientStats = field(default_factory=ClientStats)
    rng: random.Random = field(default_factory=random.Random)
    policy: RetryPolicy = RETRY_POLICY

    def get(self, path: str, params: Mapping[str, Any] | None = None, *, dataset: str = "") -> Any:
        """The decoded JSON of ``GET base_url/path?params``, from the cache when fresh.

        Raises:
            QuiverAuthError: the key was refused.
            QuiverEntitlementError: the plan does not include the dataset.
            QuiverUnavailableError: the endpoint answered 404.
            QuiverError: the server kept failing, or answered something that is not JSON.
        """
        url = f"{self.base_url.rstrip('/')}/{path.lstrip('/')}"
        query = {k: str(v) for k, v in sorted((params or {}).items())}
        what = dataset or path
        key = cache_key(url, query)
        if not self.refresh and self.cache_ttl_sec > 0:
            cached = self.cache.cache_get(key, self.clock())
            if cached is not None:
                self.stats.cache_hits += 1
                self._notify(path)
                return json.loads(cached)
        body = self._fetch(url, query, what)
        if self.cache_ttl_sec > 0:
            self.cache.cache_put(key, body, self.clock() + timedelta(seconds=self.cache_ttl_sec))
        return json.loads(body)

    def pages(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        dataset: str = "",
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> Iterator[list[Any]]:
        """The pages of a paged endpoint (``page`` from 1, ``page_size``) until an empty one.

        The caller may stop early (incremental scraping stops at a page of old rows).
        """
        for page in range(1, MAX_PAGES + 1):
            rows = self.get(path, {**(params or {}), "page": page, "page_size": page_size}, dataset=dataset)
            if not isinstance(rows, list):
                raise QuiverError(f"QuiverQuant answered {path} page {page} with {_kind(rows)}, not a list")
            if not rows:
                return
            yield rows

    def _notify(self, path: str) -> None:
        if self.on_request is not None:
            self.on_request(path)

    def _fetch(self, url: str, query: Mapping[str, str], what: str) -> str:
        try:
            return with_retries(
                lambda: self._attempt(url, query, what), self.policy, self._retry_sleep, self.rng
            )
        except Transient as exc:
            raise QuiverError(
                f"QuiverQuant kept failing for {what} ({exc.reason}) after {self.policy.attempts} tries; "
                "try again later (pas scrape resumes where it stopped)"
            ) from None

    def _attempt(self, url: str, query: Mapping[str, str], what: str) -> str:
        import requests

        self._wait_for_slot()
        self.stats.requests += 1
        try:
            response = self.session.get(
                url,
                params=query,
                headers={
                    "Authorization": f"{self.auth_scheme} {self.api_key}",
                    "Accept": "application/json",
                },
                timeout=(CONNECT_TIMEOUT_SEC, self.timeout_sec),
            )
        except requests.Timeout:
            raise Transient(f"no answer within {self.timeout_sec:g} s") from None
        except requests.ConnectionError as exc:
            raise Transient(f"connection failed: {type(exc).__name__}") from None
        finally:
            self._notify(url)
        return _check(response, what, self.clock())

    def _wait_for_slot(self) -> None:
        if self.rate_sec > 0:
            wait_for_slot(self.limiter, RATE_LIMIT_NAME, self.rate_sec, self.clock, self.sleep, self.stats)

    def _retry_sleep(self, seconds: float) -> None:
        retry_sleep(seconds, self.sleep, self.stats)


def cache_key(url: str, query: Mapping[str, str]) -> str:
    """The cache key of a request: its URL and sorted parameters (never the API key)."""
    text = url + "?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in sorted(query.items()))
    return "quiver:" + hashlib.sha256(text.encode()).hexdigest()


def _check(response: requests.Response, what: str, now: datetime) -> str:
    """The body of a usable answer, or the right error for a failed one (``now``: for Retry-After)."""
    status = response.status_code
    text = response.text
    message = _error_text(text)
    lowered = message.lower()
    if _UPGRADE_MARKER in lowered:
        raise QuiverEntitlementError(
            f"QuiverQuant refused the {what} dataset: your subscription plan does not include it "
            "(upgrade the plan at quiverquant.com, or scrape the other datasets)"
        )
    if status in (401, 403):
        raise QuiverAuthError(
            f"QuiverQuant refused the API key (HTTP {status}) for {what}; check QUIVER_API_KEY "
            "(and QUIVER_AUTH_SCHEME: Token or Bearer)"
        )
    if status == 404:
        raise QuiverUnavailableError(
            f"QuiverQuant has no endpoint for {what} (HTTP 404): the dataset may be discontinued"
        )
    if status != 200 or _is_error_string(text):
        seconds = _SECONDS_RE.search(message)
        retry_after = server_wait(response.headers, status, now)
        overloaded = seconds is not None or any(m in lowered for m in _OVERLOAD_MARKERS)
        if status in RETRY_STATUSES or overloaded:
            wait = retry_after if retry_after is not None else (float(seconds.group(1)) if seconds else None)
            raise Transient(f"HTTP {status}: {message[:BODY_EXCERPT]}", wait)
        raise QuiverError(f"QuiverQuant answered {what} with HTTP {status}: {message[:BODY_EXCERPT]}")
    try:
        json.loads(text)
    except ValueError:
        raise QuiverError(
            f"QuiverQuant answered {what} with a body that is not JSON: {text[:BODY_EXCERPT]!r}"
        ) from None
    return text


def _error_text(text: str) -> str:
    """The message of an error body: a JSON string unwrapped, a JSON object's detail, else the text."""
    try:
        decoded = json.loads(text)
    except ValueError:
        return " ".join(text.split())
    if isinstance(decoded, str):
        return decoded
    if isinstance(decoded, dict):
        for name in ("detail", "error", "message"):
            if isinstance(decoded.get(name), str):
                return str(decoded[name])
    return "" if isinstance(decoded, list) else " ".join(text.split())[:1000]


def _is_error_string(text: str) -> bool:
    """Quiver sometimes answers 200 with a bare JSON string: an error, never data."""
    stripped = text.lstrip()
    return stripped.startswith('"')


def _kind(value: Any) -> str:
    return "a JSON " + type(value).__name__


def build_session() -> requests.Session:
    """A plain ``requests`` session (retries are the client's, not urllib3's)."""
    import requests

    session = requests.Session()
    session.headers["User-Agent"] = "pas (portfolio allocation system)"
    return session
