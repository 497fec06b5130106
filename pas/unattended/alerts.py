"""Alerts: a notification when a scheduled job fails or is refused, quiet on success.

The body is one JSON object with the message under both ``text`` (read by Slack's incoming
webhooks and the many receivers compatible with them: Mattermost, Rocket.Chat, Teams
workflows) and ``content`` (read by Discord's webhooks, at most 2,000 characters); each
service ignores the other's key. Every secret of the settings is replaced by ``***``
before anything is sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from pas.errors import EXIT_LOCKED, PasError
from pas.models import Run
from pas.schedule import MARKET_TZ
from pas.unattended.tick import JobResult, summary

DISCORD_MAX_CHARS = 2000
"""Discord refuses a ``content`` longer than this."""
WEBHOOK_TIMEOUT_SEC = 10.0
REDACTED = "***"
CAUSES = {1: "failed", 2: "bad input", 3: "refused", 4: "locked"}
"""The cause of an alert, by the job's exit code (1: an error, stale data, or the daily
reconcile finding a difference; 3: the breaker, a collar, or a rebalance refused over a
reconcile difference)."""


class AlertError(PasError):
    """The alert could not be delivered (the webhook is unreachable or refused it)."""


def cause(result: JobResult) -> str:
    """Why a job alerts: ``failed``, ``bad input``, ``refused`` or ``locked``."""
    return CAUSES.get(result.exit_code, "failed")


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every (non-empty) secret replaced by ``***``, longest first."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def message(result: JobResult, host: str) -> str:
    """The alert's text: the job, its slot in New York, its cause and its last line."""
    slot = result.slot.strftime("%Y-%m-%d %H:%M %Z")
    last = summary(result.output) or f"exit code {result.exit_code}"
    why = cause(result)
    if result.exit_code == EXIT_LOCKED:
        why += f" at two ticks in a row (not run again in this slot: run `pas {' '.join(result.job.args)}`)"
    return (
        f"pas on {host}: {result.job.name} ({' '.join(result.job.args)}) of {slot} {why}, "
        f"exit {result.exit_code}, run {result.run_id}: {last}"
    )


def tick_failed(host: str, at: datetime, error: str) -> str:
    """The alert of a tick that ran no job because it stopped first (its store cannot be
    opened): the time in New York and the error line."""
    return f"pas on {host}: the tick of {at.astimezone(MARKET_TZ):%Y-%m-%d %H:%M %Z} ran no job: {error}"


def abandoned(host: str, runs: Sequence[Run]) -> str:
    """The alert of runs found abandoned: which, started when (New York), and what settles them."""
    listed = ", ".join(
        f"{run.command} (run {run.run_id}, started {run.started_at.astimezone(MARKET_TZ):%Y-%m-%d %H:%M %Z})"
        for run in runs
    )
    found = (
        "1 run found abandoned, its process"
        if len(runs) == 1
        else f"{len(runs)} runs found abandoned, their processes"
    )
    return (
        f"pas on {host}: {found} gone (killed by kill -9, out of memory or a reboot): {listed}; "
        "`pas sync` settles what a trading run sent (the unsent rest of its plan is never sent), "
        "then run the job by hand (`pas jobs` shows them)"
    )


def body(text: str) -> dict[str, Any]:
    """The JSON body Slack- and Discord-compatible webhooks accept."""
    return {"text": text, "content": text[:DISCORD_MAX_CHARS]}


def send(session: Any, url: str, text: str, secrets: Iterable[str | None]) -> None:
    """Posts one alert to the webhook.

    Args:
        session: a ``requests.Session`` (tests pass one aimed at a receiver on 127.0.0.1).
        url: the webhook (``ALERT_WEBHOOK_URL``); it holds a token, so it is never shown.
        text: the alert.
        secrets: values that must not leave the machine (the webhook's own URL among them).

    Raises:
        AlertError: the webhook did not answer 2xx.
    """
    import requests

    clean = redact(text, [*secrets, url])
    try:
        response = session.post(url, json=body(clean), timeout=WEBHOOK_TIMEOUT_SEC)
    except requests.RequestException as exc:
        raise AlertError(
            f"alert not delivered: the webhook is unreachable ({type(exc).__name__}); check ALERT_WEBHOOK_URL"
        ) from None
    if not 200 <= response.status_code < 300:
        raise AlertError(
            f"alert not delivered: the webhook answered HTTP {response.status_code}; check ALERT_WEBHOOK_URL"
        )
