"""The retry policy both HTTP clients share (pas.http)."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from pas.http import (
    RETRY_STATUSES,
    RetryPolicy,
    Transient,
    ratelimit_reset_seconds,
    retry_after_seconds,
    server_wait,
    with_retries,
)

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
POLICY = RetryPolicy(attempts=4, initial_sec=1.0, max_sec=3.0, jitter_sec=0.0, max_server_wait_sec=60.0)


def test_only_rate_limits_and_passing_server_errors_are_retried() -> None:
    assert frozenset({429, 500, 502, 503, 504}) == RETRY_STATUSES


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("17", 17.0),
        ("0.5", 0.5),
        ("-3", 0.0),  # never a negative pause
        # RFC 9110's HTTP-date form, measured from the given now, not the machine's clock.
        ("Mon, 02 Mar 2026 15:00:30 GMT", 30.0),
        ("Mon, 02 Mar 2026 14:59:00 GMT", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after(value: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(value, NOW) == seconds


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (str(int(NOW.timestamp()) + 7), 7.0),
        (str(int(NOW.timestamp()) - 7), 0.0),
        ("later", None),
        (None, None),
    ],
)
def test_ratelimit_reset(value: str | None, seconds: float | None) -> None:
    assert ratelimit_reset_seconds(value, NOW) == seconds


def test_retry_after_wins_over_the_ratelimit_reset() -> None:
    reset = str(int(NOW.timestamp()) + 7)
    assert server_wait({"Retry-After": "3", "X-Ratelimit-Reset": reset}, 429, NOW) == 3.0
    assert server_wait({"Retry-After": "junk", "X-Ratelimit-Reset": reset}, 429, NOW) == 7.0
    assert server_wait({}, 429, NOW) is None


def test_the_ratelimit_reset_counts_on_a_429_only() -> None:
    # Alpaca sends X-Ratelimit-Reset on every answer: on a 5xx it is the end of the rate
    # window, not when the server recovers (issue 12: one 500 stalled a dry run 61 s).
    reset = str(int(NOW.timestamp()) + 61)
    assert server_wait({"X-Ratelimit-Reset": reset}, 500, NOW) is None
    assert server_wait({"X-Ratelimit-Reset": reset, "Retry-After": "2"}, 503, NOW) == 2.0
    assert server_wait({"X-Ratelimit-Reset": reset}, 429, NOW) == 61.0


def test_backoff_doubles_up_to_its_bound_and_jitter_stays_within_its_own() -> None:
    rng = random.Random(1)
    assert [POLICY.delay(Transient("x"), n, rng) for n in (1, 2, 3, 4)] == [1.0, 2.0, 3.0, 3.0]
    jittery = RetryPolicy(attempts=3, initial_sec=1.0, max_sec=3.0, jitter_sec=0.5, max_server_wait_sec=60.0)
    delays = [jittery.delay(Transient("x"), 1, rng) for _ in range(100)]
    assert all(1.0 <= d <= 1.5 for d in delays) and len(set(delays)) > 1


def test_a_server_pause_wins_over_backoff_up_to_its_cap() -> None:
    rng = random.Random(1)
    assert POLICY.delay(Transient("x", wait=9.0), 1, rng) == 9.0
    assert POLICY.delay(Transient("x", wait=3600.0), 1, rng) == 60.0


def test_with_retries_sleeps_between_tries_and_returns_the_first_success() -> None:
    sleeps: list[float] = []
    outcomes: list[object] = [Transient("busy"), Transient("busy", wait=5.0), "done"]

    def attempt() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Transient):
            raise outcome
        return str(outcome)

    assert with_retries(attempt, POLICY, sleeps.append, random.Random(1)) == "done"
    assert sleeps == [1.0, 5.0]


def test_with_retries_raises_the_last_failure_after_the_last_try() -> None:
    sleeps: list[float] = []
    tries: list[int] = []

    def attempt() -> str:
        tries.append(1)
        raise Transient(f"failure {len(tries)}")

    with pytest.raises(Transient, match=r"^failure 4$"):
        with_retries(attempt, POLICY, sleeps.append, random.Random(1))
    assert len(tries) == POLICY.attempts
    assert sleeps == [1.0, 2.0, 3.0]


def test_other_errors_are_not_retried() -> None:
    sleeps: list[float] = []

    def attempt() -> str:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        with_retries(attempt, POLICY, sleeps.append, random.Random(1))
    assert sleeps == []
