"""``pas tick``: run the jobs of the schedule that are due, each at most once per slot.

A tick reads the run records to learn which slot of each job already ran, takes the job's
lock (so two overlapping ticks, or two hosts sharing a MongoDB store, never run one slot
twice), runs what is due through an injected runner (a subprocess of ``pas`` in
production, an in-process call in the benchmark) and records one run ``tick NAME`` per
attempt with the job's outcome.

A job locked out by another run (exit 4: it did nothing, another ``pas`` held the lock it
needs) has not had its slot: the next tick of the same New York day runs it again, once
(:data:`RETRY_KEY` marks that second attempt, and a second lock-out spends the slot and
alerts). Every other outcome spends the slot, a failure included: a run that failed or
was killed half-way may have sent orders.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pas.errors import EXIT_LOCKED, EXIT_OK, EXIT_REFUSED, LockHeldError, PasError, RefusedError
from pas.models import Run, RunStatus
from pas.runs import ABANDONED, PID_KEY, recorded_run, shown_status
from pas.store.base import Store
from pas.unattended.jobs import JOBS, Job, due

TICK_PREFIX = "tick "
"""Run records of scheduled jobs are named ``tick NAME``."""
SLOT_KEY = "slot"
"""The detail of a ``tick NAME`` run record holding its slot (ISO-8601, New York offset)."""
RETRY_KEY = "retry"
"""The detail marking a ``tick NAME`` run as the one retry of a slot whose first run was locked out."""
RUN_SCAN = 1000
"""Newest run records read to find each job's last slot: weeks of runs, far more than a day's."""
JOB_LOCK_TTL_SEC = 6 * 3600.0
"""Seconds a tick's hold on one job lasts if the tick dies without releasing it."""

Runner = Callable[[Job], tuple[int, str]]
"""Runs a job's command line; returns its exit code and its output (stdout and stderr)."""


@dataclass(frozen=True)
class JobResult:
    """What one job of a tick did.

    Attributes:
        job: the job.
        slot: the slot it ran for (New York).
        run_id: the ``tick NAME`` run record.
        exit_code: the job's exit code (0 done, 1 failed, 2 bad input, 3 refused, 4 locked).
        output: what the job printed.
        retry: whether the slot runs again at the next tick (a first lock-out): nothing is
            lost yet, so nothing alerts.
    """

    job: Job
    slot: datetime
    run_id: str
    exit_code: int
    output: str
    retry: bool = False


class JobFailed(PasError):
    """A scheduled job exited with an error; its exit code is kept."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def summary(output: str) -> str:
    """The last non-blank line of a job's output: its error line, or its closing report."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else ""


@dataclass(frozen=True)
class Slots:
    """What the run records say of each job's slots.

    Attributes:
        done: for each job name, the newest slot that is spent (run, whatever the outcome,
            except a first lock-out).
        locked_out: for each job name, the newest slot whose first run was locked out.
    """

    done: dict[str, datetime]
    locked_out: dict[str, datetime]


def _newest(found: dict[str, datetime], name: str, at: datetime) -> None:
    found[name] = max(at, found.get(name, at))


def read_slots(store: Store) -> Slots:
    """The spent and the locked-out slots of each job, from the ``tick NAME`` run records."""
    slots = Slots({}, {})
    for run in store.recent_runs(RUN_SCAN):
        slot = run.details.get(SLOT_KEY)
        if not (run.command.startswith(TICK_PREFIX) and isinstance(slot, str)):
            continue
        name, at = run.command.removeprefix(TICK_PREFIX), datetime.fromisoformat(slot)
        first_lock_out = run.status is RunStatus.LOCKED and not run.details.get(RETRY_KEY)
        _newest(slots.locked_out if first_lock_out else slots.done, name, at)
    return slots


def slots_done(store: Store) -> dict[str, datetime]:
    """For each job name, the newest slot that is spent (see :func:`read_slots`)."""
    return read_slots(store).done


def _error_for(code: int, output: str) -> PasError | None:
    if code == EXIT_OK:
        return None
    line = summary(output) or f"exit code {code}"
    if code == EXIT_REFUSED:
        return RefusedError(line)
    if code == EXIT_LOCKED:
        return LockHeldError(line)
    return JobFailed(line, code)


def _run_one(
    store: Store, job: Job, slot: datetime, runner: Runner, retry: bool, host: str | None
) -> JobResult:
    details: dict[str, Any] = {SLOT_KEY: slot.isoformat(), "args": " ".join(job.args)}
    if retry:
        details[RETRY_KEY] = True
    run_id = ""
    code, output = EXIT_OK, ""
    try:
        with recorded_run(store, TICK_PREFIX + job.name, details, host=host) as handle:
            run_id = handle.run_id
            code, output = runner(job)
            handle.details["summary"] = summary(output)
            error = _error_for(code, output)
            if error is not None:
                raise error
    except PasError:
        pass  # recorded with its status; the result carries the exit code
    return JobResult(job, slot, run_id, code, output, retry=code == EXIT_LOCKED and not retry)


def settle_abandoned(store: Store, host: str, alive: Callable[[int], bool]) -> list[Run]:
    """Records as failed each run still recorded as running whose process on this host is
    gone (killed with ``kill -9``, by the out-of-memory killer or a reboot), so that it is
    reported once: the next tick finds it failed.

    Args:
        host: this host (``PAS_HOST_ID``, or the host name): another host's runs cannot be
            probed from here and are left alone.
        alive: whether a pid exists on this machine.

    Returns:
        The runs found abandoned, as they were recorded (newest first).
    """
    found = [run for run in store.recent_runs(RUN_SCAN) if shown_status(run, host, alive) == ABANDONED]
    for run in found:
        error = (
            f"abandoned: its process ({run.details.get(PID_KEY)} on {host}) was gone when a tick "
            "looked (killed by kill -9, out of memory or a reboot before it recorded its end)"
        )
        store.finish_run(run.run_id, RunStatus.FAILED, error, run.details)
    return found


def run_tick(
    store: Store, now: datetime, runner: Runner, jobs: Sequence[Job] = JOBS, host: str | None = None
) -> list[JobResult]:
    """Runs every job due at ``now``, in schedule order, each at most once per slot.

    A job whose lock another tick holds is left to that tick. A job that fails does not
    stop the others (a failed scrape still lets the afternoon's sync record fills). A job
    locked out by another run is run again by the next tick, once (see the module).

    Args:
        store: where the run records and locks are.
        now: the tick's time (aware).
        runner: runs one job.
        jobs: the schedule.
        host: this host in the run records (``PAS_HOST_ID``; the host name when None).

    Returns:
        What each job that ran did, in the order they ran.
    """
    results = []
    owner = f"tick-{secrets.token_hex(8)}"
    for job, slot in due(jobs, now, slots_done(store)):
        lock = TICK_PREFIX + job.name
        if not store.acquire_lock(lock, owner, JOB_LOCK_TTL_SEC):
            continue
        try:
            slots = read_slots(store)  # another tick may have run it meanwhile
            last = slots.done.get(job.name)
            if last is None or last < slot:
                retry = slots.locked_out.get(job.name) == slot
                results.append(_run_one(store, job, slot, runner, retry, host))
        finally:
            store.release_lock(lock, owner)
    return results
