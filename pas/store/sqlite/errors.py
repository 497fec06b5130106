"""What went wrong with the embedded database, in one line naming the real cause and the fix.

``sqlite3`` reports a damaged file, a full disk and a read-only directory all as
``sqlite3.DatabaseError``/``OperationalError`` with SQLite's terse text; these helpers
tell them apart by that text (SQLite's result-code messages, which are stable: see
https://www.sqlite.org/rescode.html) so the user is told what to do about each.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

# SQLITE_FULL's message; SQLite has rolled the transaction back when it is raised.
_DISK_FULL = "database or disk is full"
# SQLITE_NOTADB and SQLITE_CORRUPT.
_DAMAGED = ("file is not a database", "database disk image is malformed")
# SQLITE_CANTOPEN and SQLITE_READONLY.
_NOT_WRITABLE = ("unable to open database file", "attempt to write a readonly database")


def is_disk_full(exc: sqlite3.Error) -> bool:
    """True when SQLite ran out of room (the disk, or the file's size limit)."""
    return _DISK_FULL in str(exc)


def disk_full_message(path: Path, exc: sqlite3.Error) -> str:
    """The one-line report of a full disk; nothing of the failed write was kept."""
    return (
        f"the disk holding the embedded database {path} is full ({exc}); nothing of this "
        "write was kept: free some space there, then run the command again"
    )


def open_error(path: Path, exc: OSError | sqlite3.Error) -> str:
    """The one-line report of a database that cannot be opened, by its cause."""
    text = str(exc)
    if isinstance(exc, sqlite3.Error) and is_disk_full(exc):
        return disk_full_message(path, exc)
    if any(marker in text for marker in _DAMAGED):
        return (
            f"the embedded database {path} is damaged or not a pas database ({text}); "
            "restore it from a backup, or move it aside to start an empty store"
        )
    if isinstance(exc, OSError) or any(marker in text for marker in _NOT_WRITABLE):
        return (
            f"cannot open the embedded database {path} ({text}); check that PAS_HOME "
            "points to a writable directory"
        )
    return f"cannot open the embedded database {path} ({text}); run with --debug for the details"
