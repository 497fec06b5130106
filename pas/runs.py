"""Run records: every state-changing command leaves one, whatever its outcome."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pas.errors import LockHeldError, PasError, RefusedError
from pas.models import Run, RunStatus, new_run_id
from pas.store.interfaces import RunLog

# Error text kept in a run record is cut to this many characters.
MAX_ERROR_CHARS = 500


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


@contextmanager
def recorded_run(
    store: RunLog, command: str, details: Mapping[str, Any] | None = None
) -> Iterator[RunHandle]:
    """Records a run around the body: started, then ok / failed / refused / locked.

    The exception, if any, propagates unchanged after it is recorded.
    """
    started = store.clock()
    run = Run(
        run_id=new_run_id(started),
        command=command,
        started_at=started,
        status=RunStatus.RUNNING,
        details=dict(details or {}),
    )
    store.start_run(run)
    handle = RunHandle(run.run_id, dict(run.details))
    try:
        yield handle
    except BaseException as exc:
        status = RunStatus.FAILED
        if isinstance(exc, RefusedError):
            status = RunStatus.REFUSED
        elif isinstance(exc, LockHeldError):
            status = RunStatus.LOCKED
        store.finish_run(run.run_id, status, describe_error(exc), handle.details)
        raise
    store.finish_run(run.run_id, RunStatus.OK, "", handle.details)
