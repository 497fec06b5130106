"""Run records: every state-changing command leaves one, whatever its outcome.

A run records the process that runs it (pid and host), so a run killed with ``kill -9``
(or by the OOM killer, or a reboot) is shown as ``abandoned`` once that process is gone
instead of ``running`` forever. Each run also writes two lines to the ``pas.runs`` logger,
at its start and its end (see :mod:`pas.unattended.runlog` for where they go).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pas.errors import EXIT_FAILED, EXIT_OK, LockHeldError, PasError, RefusedError, StoreError
from pas.models import RunStatus, new_run_id
from pas.store.interfaces import RunLog

if TYPE_CHECKING:
    from datetime import datetime

    from pas.models import Run

# Error text kept in a run record is cut to this many characters.
MAX_ERROR_CHARS = 500
PID_KEY = "pid"
HOST_KEY = "host"
MAX_ID_DRAWS = 8
"""New run ids drawn before a store that calls every one taken is reported."""
ABANDONED = "abandoned"
"""The status shown for a run still recorded as running whose process is gone."""
log = logging.getLogger("pas.runs")


@dataclass
class RunHandle:
    """What the body of a run can see and add to."""

    run_id: str
    details: dict[str, Any] = field(default_factory=dict)


def describe_error(exc: BaseException) -> str:
    """One line for a run record: our own messages as they are, others with their type."""
    if isinstance(exc, PasError):
        text = str(exc)
    elif isinstance(exc, KeyboardInterrupt):
        text = "interrupted"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())[:MAX_ERROR_CHARS]


def exit_code(exc: BaseException) -> int:
    """The process exit code an exception ends a command with."""
    return exc.exit_code if isinstance(exc, PasError) else EXIT_FAILED


def _status(exc: BaseException) -> RunStatus:
    if isinstance(exc, RefusedError):
        return RunStatus.REFUSED
    if isinstance(exc, LockHeldError):
        return RunStatus.LOCKED
    return RunStatus.FAILED


def _summary(details: Mapping[str, Any]) -> str:
    """A run's details as one short line (``key=value`` of its plain values)."""
    plain = [
        f"{k}={v}" for k, v in details.items() if k not in (PID_KEY, HOST_KEY) and isinstance(v, str | int)
    ]
    return " ".join(plain)[:MAX_ERROR_CHARS]


def _log(event: str, run: Run, **extra: Any) -> None:
    log.info("%s %s", event, run.command, extra={"run": run, "event": event, **extra})


def start_new_run(store: RunLog, command: str, started: datetime, details: Mapping[str, Any]) -> Run:
    """Records a new run, ``running``, under an id no recorded run has.

    A run id is the second it started plus 16 random bits (:func:`pas.models.new_run_id`),
    so two runs started in one second share an id once in 65,536 pairs; the store refuses
    the second one (:meth:`RunLog.start_run`) and a fresh id is drawn, since a trading run's
    client order ids derive from its id and must never be shared.

    Raises:
        StoreError: no free id in :data:`MAX_ID_DRAWS` draws (the store answers wrongly).
    """
    from pas.models import Run  # loaded at first use (pas.history)

    for _ in range(MAX_ID_DRAWS):
        run = Run(new_run_id(started), command, started, RunStatus.RUNNING, details=dict(details))
        if store.start_run(run):
            return run
    raise StoreError(f"the store refused {MAX_ID_DRAWS} new run ids as already taken; run `pas doctor`")


@contextmanager
def recorded_run(
    store: RunLog, command: str, details: Mapping[str, Any] | None = None, host: str | None = None
) -> Iterator[RunHandle]:
    """Records a run around the body: started, then ok / failed / refused / locked.

    The exception, if any, propagates unchanged after it is recorded.

    Args:
        host: this host among those sharing one store (``PAS_HOST_ID``), recorded with the
            pid so that only this host judges the run abandoned; the host name when None.
    """
    run = start_new_run(
        store,
        command,
        store.clock(),
        {**(details or {}), PID_KEY: os.getpid(), HOST_KEY: host or socket.gethostname()},
    )
    _log("start", run, at=run.started_at)
    handle = RunHandle(run.run_id, dict(run.details))
    try:
        yield handle
    except BaseException as exc:
        status, error = _status(exc), describe_error(exc)
        store.finish_run(run.run_id, status, error, handle.details)
        _log("end", run, at=store.clock(), status=status.value, exit_code=exit_code(exc), summary=error)
        raise
    store.finish_run(run.run_id, RunStatus.OK, "", handle.details)
    _log("end", run, at=store.clock(), status="ok", exit_code=EXIT_OK, summary=_summary(handle.details))


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine (signal 0 probes, sends nothing)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def shown_status(run: Run, host: str, alive: Callable[[int], bool] = pid_alive) -> str:
    """The status to show for a run: ``abandoned`` when it is recorded as running but its
    process on this host is gone.

    A run started on another host (several hosts sharing a MongoDB store) stays
    ``running``: its process cannot be probed from here. A reused pid can hide an
    abandoned run until that other process ends; it never marks a live run abandoned.
    """
    if run.status is not RunStatus.RUNNING:
        return run.status.value
    pid = run.details.get(PID_KEY)
    if run.details.get(HOST_KEY) == host and isinstance(pid, int) and not alive(pid):
        return ABANDONED
    return run.status.value
