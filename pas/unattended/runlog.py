"""The run log: one line when a run starts and one when it ends, in a size-bounded file.

Each line holds the time in UTC and in New York, the event (``start`` / ``end``), the
command, the run id, and at the end the exit code, the status and a one-line summary (the
error, or the run's details). ``text`` lines are for people and ``grep``; ``json`` lines
(one object a line) are for log shippers. The file rotates when it would grow past
``max_bytes``: ``pas.log`` becomes ``pas.log.1`` and so on up to ``backups`` old files,
so the log never takes much more than ``max_bytes × (backups + 1)`` bytes.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pas.config.defaults import DEFAULT_LOG_MAX_BYTES
from pas.runs import log as run_logger
from pas.schedule import MARKET_TZ

if TYPE_CHECKING:
    from pas.models import Run

LOG_NAME = "pas.log"
DEFAULT_LOG_BACKUPS = 5
_END_KEYS = ("exit_code", "status", "summary")


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    """The fields of one run-log line; ``exit_code``, ``status`` and ``summary`` only at the end."""
    run: Run = record.__dict__["run"]
    at: datetime = record.__dict__["at"]
    fields: dict[str, Any] = {
        "utc": at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "new_york": at.astimezone(MARKET_TZ).isoformat(timespec="seconds"),
        "event": record.__dict__["event"],
        "command": run.command,
        "run_id": run.run_id,
    }
    fields.update({key: record.__dict__[key] for key in _END_KEYS if key in record.__dict__})
    return fields


class RunLogFormatter(logging.Formatter):
    """Formats the ``pas.runs`` records as ``text`` or ``json`` lines."""

    def __init__(self, fmt: str) -> None:
        super().__init__()
        self.as_json = fmt == "json"

    def format(self, record: logging.LogRecord) -> str:
        """One line: JSON, or ``UTC NY event command run=ID [exit=N status: summary]``."""
        f = fields_of(record)
        if self.as_json:
            return json.dumps(f)
        line = f"{f['utc']} NY {f['new_york']} {f['event']:<5} {f['command']} run={f['run_id']}"
        if "exit_code" in f:
            line += f" exit={f['exit_code']} {f['status']}" + (f": {f['summary']}" if f["summary"] else "")
        return line


class _RotatingWhenWritten(logging.Handler):
    """A rotating file handler made at the first line: a command that records no run (a
    read command) never imports ``logging.handlers``, a few milliseconds of its start-up.
    A file that cannot be opened fails the run that writes to it, as at the open before."""

    def __init__(self, path: Path, max_bytes: int, backups: int) -> None:
        super().__init__()
        self._args = (path, max_bytes, backups)
        self._file: logging.Handler | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self._file is None:
            from logging.handlers import RotatingFileHandler

            path, max_bytes, backups = self._args
            self._file = RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
            self._file.setFormatter(self.formatter)
        self._file.emit(record)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        super().close()


def open_run_log(
    path: Path, fmt: str = "text", max_bytes: int = DEFAULT_LOG_MAX_BYTES, backups: int = DEFAULT_LOG_BACKUPS
) -> logging.Handler:
    """Sends the run log to ``path`` (rotating) until the returned handler is closed.

    Args:
        path: the log file; its directory must exist.
        fmt: ``text`` or ``json``.
        max_bytes: bytes after which the file rotates.
        backups: rotated files kept.
    """
    handler = _RotatingWhenWritten(path, max_bytes, backups)
    handler.setFormatter(RunLogFormatter(fmt))
    run_logger.addHandler(handler)
    run_logger.setLevel(logging.INFO)
    run_logger.propagate = False
    return handler


def close_run_log(handler: logging.Handler) -> None:
    """Stops sending the run log to ``handler`` and closes its file."""
    run_logger.removeHandler(handler)
    handler.close()
