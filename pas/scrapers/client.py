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
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from pas.clock import Clock, system_clock
from pas.errors import ConfigError, PasError
from pas.http import (
    RETRY_STATUSES,
    TOO_MANY_REQUESTS,
    RetryPolicy,
    Sleep,
    Transient,
    server_wait,
    with_retries,
)
from pas.scrapers.limits import ENDPOINT_LIMITS, RateLimit, limit_for
from pas.scrapers.transport import get_within
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
# A paged feed with more pages than this is not ending as documented: the scrape fails
# rather than looping forever.
MAX_PAGES = 2000
RATE_LIMIT_NAME = "quiver"
# Error bodies are quoted in messages up to this many characters.
BODY_EXCERPT = 120
# The longest a request waits for its endpoint's next slot; when the slot is further
# away the endpoint's limit is used up for now and the dataset stops as ``partial``.
DEFAULT_MAX_WAIT_SEC = 900.0
# An API key is one token of visible ASCII: anything else (a newline, a space) is a
# copy-and-paste accident and would be sent in a header, or shown in an error.
_KEY_RE = re.compile(r"^[\x21-\x7e]{8,512}$")

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


class QuiverRateLimited(QuiverError):
    """The endpoint's request limit is used up for now: the dataset stops as ``partial``."""


def check_api_key(key: str) -> str:
    """The key when it has the form of a token (8-512 visible ASCII characters).

    Raises:
        ConfigError: another form; the message names the variable, never the value.
    """
    if not _KEY_RE.match(key):
        raise ConfigError(
            "QUIVER_API_KEY is malformed (a token is 8-512 visible ASCII characters, no spaces "
            "or line breaks); copy it again from your QuiverQuant account page"
        )
    return key


def redact(text: str, secret: str) -> str:
    """``text`` with every occurrence of ``secret`` replaced by ``[redacted]``."""
    return text.replace(secret, "[redacted]") if secret else text


@dataclass
class ClientStats:
    """What the client did, for the scrape summary."""

    requests: int = 0
    cache_hits: int = 0
    retries: int = 0
    waited_sec: float = 0.0


def slot_delay(limiter: RateSlots, name: str, interval_sec: float, now: datetime) -> float:
    """Takes the next of the rate limit ``name``'s slots, ``interval_sec`` seconds apart
    (shared through the store by every process); the seconds from ``now`` until it starts."""
    return (limiter.reserve_slot(name, interval_sec, now) - now).total_seconds()


def pause(seconds: float, sleep: Sleep, stats: ClientStats) -> None:
    """Sleeps ``seconds`` when positive, counted in the scrape summary's waiting time."""
    if seconds > 0:
        stats.waited_sec += seconds
        sleep(seconds)


def wait_for_slot(
    limiter: RateSlots, name: str, interval_sec: float, clock: Clock, sleep: Sleep, stats: ClientStats
) -> None:
    """Takes the next of the rate limit ``name``'s slots and sleeps until it starts."""
    pause(slot_delay(limiter, name, interval_sec, clock()), sleep, stats)


def retry_sleep(seconds: float, sleep: Sleep, stats: ClientStats) -> None:
    """The pause before a retry, counted in the scrape summary."""
    stats.retries += 1
    pause(seconds, sleep, stats)


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
        timeout_sec: the whole-request deadline in seconds: connecting, the headers and
            the last byte of the body (bulk endpoints are slow; a trickled body is cut).
        refresh: bypass the cache for reads (responses are still cached).
        rate_limits: each endpoint's limit (see :mod:`pas.scrapers.limits`).
        max_wait_sec: the longest a request waits for its endpoint's slot.
        sleep, clock: injected time; ``timer`` measures the request deadline (seconds).
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
    rate_limits: Mapping[str, RateLimit] = field(default_factory=lambda: dict(ENDPOINT_LIMITS))
    max_wait_sec: float = DEFAULT_MAX_WAIT_SEC
    sleep: Sleep = field(default=lambda s: None)
    clock: Clock = system_clock
    timer: Callable[[], float] = time.monotonic
    on_request: Callable[[str], None] | None = None
    stats: ClientStats = field(default_factory=ClientStats)
    rng: random.Random = field(default_factory=random.Random)
    policy: RetryPolicy = RETRY_POLICY

    def __post_init__(self) -> None:
        check_api_key(self.api_key)

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
                return decode(cached, what)
        body = self._fetch(path, url, query, what)
        answer = decode(body, what)
        if self.cache_ttl_sec > 0:
            self.cache.cache_put(key, body, self.clock() + timedelta(seconds=self.cache_ttl_sec))
        return answer

    def pages(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        dataset: str = "",
        page_size: int = DEFAULT_PAGE_SIZE,
        first: int = 1,
    ) -> Iterator[list[Any]]:
        """The pages of a paged endpoint (``page`` from ``first``, ``page_size``) to its end.

        The feed ends, as Quiver documents, at a page with fewer rows than ``page_size``
        (no further request), at an empty page, or at a 404 past the last page. A page equal
        to the one before means the feed ignores ``page``: that is an error, never an end.
        The caller may stop early (incremental scraping stops at a page of old rows).

        Raises:
            QuiverError: a page that is not a list, repeats the previous one, or more than
                :data:`MAX_PAGES` pages.
        """
        previous: list[Any] | None = None
        for page in range(first, first + MAX_PAGES):
            query = {**(params or {}), "page": page, "page_size": page_size}
            try:
                rows = self.get(path, query, dataset=dataset)
            except QuiverUnavailableError:
                if page == first:
                    raise
                return
            if not isinstance(rows, list):
                raise QuiverError(f"QuiverQuant answered {path} page {page} with {_kind(rows)}, not a list")
            if rows and rows == previous:
                raise QuiverError(
                    f"QuiverQuant answered {path} page {page} with the rows of page {page - 1}: the "
                    "feed ignores `page`; stopped (the rows of the first page are stored)"
                )
            if not rows:
                return
            yield rows
            if len(rows) < page_size:
                return
            previous = rows
        raise QuiverError(f"QuiverQuant's {path} did not end after {MAX_PAGES} pages; stopped")

    def _notify(self, path: str) -> None:
        if self.on_request is not None:
            self.on_request(path)

    def _fetch(self, path: str, url: str, query: Mapping[str, str], what: str) -> str:
        try:
            return with_retries(
                lambda: self._attempt(path, url, query, what), self.policy, self._retry_sleep, self.rng
            )
        except Transient as exc:
            raise QuiverError(
                redact(
                    f"QuiverQuant kept failing for {what} ({exc.reason}) after {self.policy.attempts} tries; "
                    "try again later (pas scrape resumes where it stopped)",
                    self.api_key,
                )
            ) from None

    def _attempt(self, path: str, url: str, query: Mapping[str, str], what: str) -> str:
        self._wait_for_slot(path, what)
        self.stats.requests += 1
        try:
            status, headers, body = self._send(url, query)
        finally:
            self._notify(url)
        try:
            return _check(status, headers, redact(body, self.api_key), what, self.clock())
        except Transient as exc:
            if status == TOO_MANY_REQUESTS and exc.wait is not None:
                self._defer_slots(path, exc.wait)
                if exc.wait > self.max_wait_sec:
                    raise self._used_up(path, what, exc.wait) from None
            raise

    def _send(self, url: str, query: Mapping[str, str]) -> tuple[int, Mapping[str, str], str]:
        """Status, headers and body of one GET, the whole of it within ``timeout_sec``."""
        reply = get_within(
            self.session,
            url,
            params=query,
            headers={"Authorization": f"{self.auth_scheme} {self.api_key}", "Accept": "application/json"},
            connect_timeout_sec=CONNECT_TIMEOUT_SEC,
            deadline_sec=self.timeout_sec,
            timer=self.timer,
        )
        return reply.status, reply.headers, reply.text

    def _wait_for_slot(self, path: str, what: str) -> None:
        now = self.clock()
        delay = 0.0
        if self.rate_sec > 0:
            delay = slot_delay(self.limiter, RATE_LIMIT_NAME, self.rate_sec, now)
        _, limit = limit_for(path, self.rate_limits)
        delay = max(delay, slot_delay(self.limiter, _slots_of(limit), limit.interval_sec, now))
        if delay > self.max_wait_sec:
            # The slot stays taken: the next run waits a little longer than needed, never less.
            raise self._used_up(path, what, delay)
        pause(delay, self.sleep, self.stats)

    def _defer_slots(self, path: str, wait_sec: float) -> None:
        """Moves the endpoint's shared slots past the wait a 429 asked for (Retry-After), so
        every process on the store (every host on one MongoDB) waits it out, not only this
        one: Quiver's limit may be tighter than pas was told (a key another tool shares)."""
        _, limit = limit_for(path, self.rate_limits)
        free_at = self.clock() + timedelta(seconds=wait_sec)
        # A slot taken one interval before ``free_at`` makes ``free_at`` the next free one
        # (or a later slot, when one is already taken beyond it).
        self.limiter.reserve_slot(_slots_of(limit), 0.0, free_at - timedelta(seconds=limit.interval_sec))

    def _used_up(self, path: str, what: str, wait_sec: float) -> QuiverRateLimited:
        name, limit = limit_for(path, self.rate_limits)
        return QuiverRateLimited(
            f"QuiverQuant's limit of {limit} requests for {name} is used up for {what} (next request "
            f"in {wait_sec / 60:.0f} min); the next pas scrape resumes where this one stopped"
        )

    def _retry_sleep(self, seconds: float) -> None:
        retry_sleep(seconds, self.sleep, self.stats)


def _slots_of(limit: RateLimit) -> str:
    """The shared rate slots of every endpoint with this limit: Quiver's endpoints with the
    same limit draw from one allowance (its rate-limit page), so the slots are the limit's,
    not the endpoint's (see :func:`pas.scrapers.limits.limit_for`)."""
    return f"{RATE_LIMIT_NAME}:{limit}"


def cache_key(url: str, query: Mapping[str, str]) -> str:
    """The cache key of a request: its URL and sorted parameters (never the API key)."""
    text = url + "?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in sorted(query.items()))
    return "quiver:" + hashlib.sha256(text.encode()).hexdigest()


def _check(status: int, headers: Mapping[str, str], text: str, what: str, now: datetime) -> str:
    """The body of a usable answer, or the right error for a failed one (``now``: for Retry-After)."""
    message = _error_text(text)
    lowered = message.lower()
    if _UPGRADE_MARKER in lowered:
        raise QuiverEntitlementError(
            f"QuiverQuant refused the {what} dataset: your subscription plan does not include it "
            "(upgrade the plan at quiverquant.com, or scrape the other datasets)"
        )
    if status == 401:
        raise QuiverAuthError(
            f"QuiverQuant refused the API key (HTTP {status}) for {what}; check QUIVER_API_KEY "
            "(and QUIVER_AUTH_SCHEME: Token or Bearer)"
        )
    if status == 403:
        # Quiver's errors page: the key is valid, the account cannot use the endpoint (a
        # higher plan, or no active plan); every other dataset would likely fail the same way.
        raise QuiverAuthError(
            f"QuiverQuant refused {what} (HTTP 403): the API key is valid but your account cannot use "
            "this endpoint; check that your plan is active and includes it (quiverquant.com dashboard)"
        )
    if status == 404:
        raise QuiverUnavailableError(
            f"QuiverQuant has no endpoint for {what} (HTTP 404): the dataset may be discontinued"
        )
    if status != 200 or _is_error_string(text):
        seconds = _SECONDS_RE.search(message)
        retry_after = server_wait(headers, status, now)
        overloaded = seconds is not None or any(m in lowered for m in _OVERLOAD_MARKERS)
        if status in RETRY_STATUSES or overloaded:
            wait = retry_after if retry_after is not None else (float(seconds.group(1)) if seconds else None)
            raise Transient(f"HTTP {status}: {message[:BODY_EXCERPT]}", wait)
        raise QuiverError(f"QuiverQuant answered {what} with HTTP {status}: {message[:BODY_EXCERPT]}")
    return text


def decode(text: str, what: str) -> Any:
    """The JSON of a body; a body that is not JSON, or nested too deep to read, is an error.

    Bare ``NaN`` (which Quiver sends for missing numbers) is read as a float NaN.

    Raises:
        QuiverError: the body cannot be read.
    """
    try:
        return json.loads(text)
    except ValueError:
        raise QuiverError(
            f"QuiverQuant answered {what} with a body that is not JSON: {text[:BODY_EXCERPT]!r}"
        ) from None
    except RecursionError:
        raise QuiverError(f"QuiverQuant answered {what} with JSON nested too deep to read") from None


def _error_text(text: str) -> str:
    """The message of an error body: a JSON string unwrapped, a JSON object's detail, else the text."""
    try:
        decoded = json.loads(text)
    except (ValueError, RecursionError):
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
