"""A test-only entry point: the pas CLI on a shifted clock, held at one point of its work.

Usage: ``python tests/fakes/held_pas.py NOW HOLD DIR ARGS...`` runs ``pas ARGS...`` with
the store's clock starting at ``NOW`` (ISO-8601, then running at the real pace; ``-`` for
the real clock) and, when ``HOLD`` names a function (``module:name``, ``-`` for none),
stops inside it: before the function runs, the process creates ``DIR/inside`` and waits
until the test creates ``DIR/go``. A test so holds one host in the middle of a build or a
trading run, with its locks taken, while it runs another host against the same store.
The product has no such switch.
"""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pas.store
from pas.cli import main

HOLD_LIMIT_SEC = 120.0
"""The longest a held process waits for ``go``: a test that died never releases it."""


def _shifted_clock(now: str) -> Callable[[], datetime]:
    start, started = datetime.fromisoformat(now), time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - started)


def _held(function: Callable[..., Any], where: Path) -> Callable[..., Any]:
    def held(*positional: Any, **named: Any) -> Any:
        (where / "inside").touch()
        deadline = time.monotonic() + HOLD_LIMIT_SEC
        while not (where / "go").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        return function(*positional, **named)

    return held


def _run() -> None:
    now, hold, where, args = sys.argv[1], sys.argv[2], Path(sys.argv[3]), sys.argv[4:]
    if now != "-":
        clock, open_store = _shifted_clock(now), pas.store.open_store
        pas.store.open_store = lambda settings, c=None: open_store(settings, clock)  # type: ignore[assignment]
    if hold != "-":
        module_name, _, name = hold.partition(":")
        module = importlib.import_module(module_name)
        setattr(module, name, _held(getattr(module, name), where))
    sys.argv = ["pas", *args]
    main()


if __name__ == "__main__":
    _run()
