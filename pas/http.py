"""The retry policy both HTTP clients share (Alpaca's broker, QuiverQuant's scraper).

A client turns a failed attempt that may clear up into a :class:`Transient` (naming the
server's requested pause, if it gave one) and hands the attempt to :func:`with_retries`,
which sleeps between tries: the server's pause when it asked for one (capped), else
bounded exponential backoff with jitter (tenacity runs the loop). ``sleep`` and ``rng``
are injected, so no test waits real seconds.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

from pas.models import utc

TOO_MANY_REQUESTS = 429
# 429: rate limited; the limit resets on its own. 500/502/503/504: the server or a gateway
# in front of it failing for a moment. Every other 4xx (bad request, credentials, not
# found) gives the same answer however often it is asked, so it is never retried.
RETRY_STATUSES = frozenset({TOO_MANY_REQUESTS, 500, 502, 503, 504})

Sleep = Callable[[float], None]


class Transient(Exception):
    """One attempt failed in a way that may clear up (retryable status, timeout, drop).

    Args:
        reason: what went wrong, for the message once the retries are spent.
        wait: the pause the server asked for, in seconds, if it asked.
    """

    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait = wait


@dataclass(frozen=True)
class RetryPolicy:
    """How often to try and how long to wait between tries.

    Attributes:
        attempts: tries in all, the first one included.
        initial_sec: backoff before the second try, in seconds; it doubles after each.
        max_sec: the longest backoff, in seconds (before jitter).
        jitter_sec: up to this many seconds added at random, so several cron jobs that
            failed at the same moment do not retry in step.
        max_server_wait_sec: the longest pause a server may ask for, in seconds; a longer
            request is cut to this.
    """

    attempts: int
    initial_sec: float
    max_sec: float
    jitter_sec: float
    max_server_wait_sec: float

    def delay(self, failure: Transient, attempt: int, rng: random.Random) -> float:
        """Seconds to sleep after the failed try number ``attempt`` (from 1)."""
        if failure.wait is not None:
            return min(failure.wait, self.max_server_wait_sec)
        backoff = min(self.max_sec, self.initial_sec * 2.0 ** (attempt - 1))
        return backoff + rng.uniform(0, self.jitter_sec)


def with_retries[T](attempt: Callable[[], T], policy: RetryPolicy, sleep: Sleep, rng: random.Random) -> T:
    """The result of ``attempt``, tried again after each :class:`Transient` it raises.

    Raises:
        Transient: the last failure, once ``policy.attempts`` tries have failed.
    """
    import tenacity  # imported on the first request, not at every command's start

    def wait(state: tenacity.RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome is not None else None
        assert isinstance(failure, Transient)  # the retry condition lets nothing else through
        return policy.delay(failure, state.attempt_number, rng)

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(policy.attempts),
        wait=wait,
        retry=tenacity.retry_if_exception_type(Transient),
        sleep=sleep,
        reraise=True,
    )
    return retrying(attempt)


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """The pause a ``Retry-After`` header asks for, in seconds (never negative).

    The header is either delay-seconds or an HTTP-date (RFC 9110, section 10.2.3); ``None``
    when it is missing or neither.
    """
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = utc(parsedate_to_datetime(value))
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - now).total_seconds())


def ratelimit_reset_seconds(value: str | None, now: datetime) -> float | None:
    """The seconds until an ``X-Ratelimit-Reset`` time (Unix seconds), never negative."""
    if not value:
        return None
    try:
        return max(0.0, float(value) - now.timestamp())
    except ValueError:
        return None


def server_wait(headers: Mapping[str, str], status: int, now: datetime) -> float | None:
    """The pause the server asked for, in seconds: ``Retry-After``, else, on a 429 only,
    ``X-Ratelimit-Reset``.

    Alpaca sends ``X-Ratelimit-Reset`` (the end of the current rate-limit minute) on every
    answer, so on a 5xx it says nothing about when the server recovers: a 5xx waits for
    ``Retry-After`` or the bounded backoff, never up to a minute for the rate window.
    """
    wait = retry_after_seconds(headers.get("Retry-After"), now)
    if wait is None and status == TOO_MANY_REQUESTS:
        wait = ratelimit_reset_seconds(headers.get("X-Ratelimit-Reset"), now)
    return wait
