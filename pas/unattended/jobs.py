"""The schedule: which job runs when, in New York wall time, whatever the server's zone.

Cron runs one line, ``*/5 * * * * pas tick``, in whatever zone the server keeps (Debian's
and Ubuntu's cron ignore ``CRON_TZ``); the tick asks this module which jobs are due. A
job's *slot* is its New York time on one of its days. At a tick, a job is due when the
latest slot at or before now lies on the same New York day and the run records show no
run of the job for that slot. So a slot missed while the machine was off is caught up at
the next tick of the same New York day, once; a slot of an earlier day is not (the
afternoon jobs of Monday make no sense on Tuesday morning, and Tuesday has its own).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from pas.schedule import DECISION_TIME, MARKET_TZ, is_trading_day

# A job's next slot is searched this many days ahead (a long weekend plus holidays fits).
_LOOKAHEAD_DAYS = 14


class Days(StrEnum):
    """The days a job runs on."""

    TRADING = "trading days"
    WEEK_FIRST = "first trading day of the week"


@dataclass(frozen=True)
class Job:
    """One scheduled job.

    Attributes:
        name: short name, used in run records (``tick NAME``).
        at: New York wall time of its slot.
        days: the days it runs on.
        args: the pas command line it runs (without root options).
        what: one line saying what it does.
    """

    name: str
    at: time
    days: Days
    args: tuple[str, ...]
    what: str

    def runs_on(self, day: date) -> bool:
        """Whether ``day`` (a New York date) has a slot of this job."""
        if not is_trading_day(day):
            return False
        if self.days is Days.TRADING:
            return True
        monday = day - timedelta(days=day.weekday())
        return all(not is_trading_day(monday + timedelta(days=i)) for i in range(day.weekday()))

    def slot_on(self, day: date) -> datetime:
        """The slot of ``day`` as an aware time in New York."""
        return datetime.combine(day, self.at, tzinfo=MARKET_TZ)


JOBS: tuple[Job, ...] = (
    Job(
        "scrape",
        time(7, 30),
        Days.TRADING,
        ("scrape", "all"),
        "Fetch what QuiverQuant published since the last scrape, before the open.",
    ),
    Job(
        "build",
        DECISION_TIME,
        Days.TRADING,
        ("build", "--due"),
        "Rebuild and trade the portfolios whose schedule is due, after the open.",
    ),
    Job(
        "allocate",
        time(10, 0),
        Days.WEEK_FIRST,
        ("allocate", "--apply"),
        "Size the portfolios from their trailing statistics, just before the weekly rebalance.",
    ),
    Job(
        "rebalance",
        time(10, 15),
        Days.WEEK_FIRST,
        ("rebalance", "--all"),
        "Trade every portfolio back to its targets once a week.",
    ),
    Job(
        "sync",
        time(16, 45),
        Days.TRADING,
        ("sync",),
        "Record the fills that arrived after a trading run stopped waiting for them.",
    ),
    Job(
        "reconcile",
        time(16, 45),
        Days.TRADING,
        ("reconcile",),
        "Compare the sum of the ledgers with the broker's positions, once sync has recorded the day's fills.",
    ),
    Job(
        "prices",
        time(16, 50),
        Days.TRADING,
        ("prices", "fetch"),
        "Store today's closes of held and targeted symbols and BENCHMARK.",
    ),
    Job(
        "metrics",
        time(17, 0),
        Days.TRADING,
        ("metrics", "update", "--all"),
        "Record each portfolio's daily return from its fills and the closes just fetched.",
    ),
    Job(
        "risk",
        time(17, 5),
        Days.TRADING,
        ("risk", "status", "--update"),
        "Feed the circuit breaker the closing account equity (it trips on a deep drawdown or daily loss).",
    ),
)
"""The schedule, in the order a tick runs what is due (each job after those it needs)."""


def current_slot(job: Job, now: datetime) -> datetime | None:
    """The job's slot a tick at ``now`` may run: today's (New York) once its time has come.

    Returns:
        The slot (aware, New York), or None when today has none or it is still ahead.
    """
    today = now.astimezone(MARKET_TZ).date()
    if not job.runs_on(today):
        return None
    slot = job.slot_on(today)
    return slot if slot <= now else None


def next_slot(job: Job, now: datetime) -> datetime:
    """The first slot of the job strictly after ``now`` (aware, New York)."""
    today = now.astimezone(MARKET_TZ).date()
    for offset in range(_LOOKAHEAD_DAYS + 1):
        day = today + timedelta(days=offset)
        if job.runs_on(day) and job.slot_on(day) > now:
            return job.slot_on(day)
    raise AssertionError(f"no trading day within {_LOOKAHEAD_DAYS} days of {today}")  # pragma: no cover


def due(jobs: Sequence[Job], now: datetime, done: dict[str, datetime]) -> list[tuple[Job, datetime]]:
    """The jobs a tick at ``now`` runs, in schedule order, each with its slot.

    Args:
        jobs: the schedule.
        now: the tick's time (aware).
        done: for each job name, the newest slot a run was recorded for (whatever its outcome:
            a slot is run at most once, even when that run failed or was killed).
    """
    found = []
    for job in jobs:
        slot = current_slot(job, now)
        last = done.get(job.name)
        if slot is not None and (last is None or last < slot):
            found.append((job, slot))
    return found
