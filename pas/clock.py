"""The injectable clock: a zero-argument callable that returns the current UTC time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The current UTC time."""
    return datetime.now(UTC)
