"""CLI fixtures: invoke ``pas`` in-process with a fresh PAS_HOME."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from pas.cli import app

Invoke = Callable[..., Result]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def pas(home: Path) -> Invoke:
    """Runs ``pas ARGS`` with PAS_HOME set to a fresh directory; extra env via ``env=``."""
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(app, list(args), env={"PAS_HOME": str(home), **(env or {})})

    return invoke


@pytest.fixture
def closes_of_long_ago(monkeypatch: pytest.MonkeyPatch) -> None:
    """For tests that trade and value at closes of fixed days long past on the real clock:
    no close counts as stale (PRICE_MAX_STALE_DAYS is tested in test_stale_data.py)."""
    monkeypatch.setenv("PRICE_MAX_STALE_DAYS", "36500")
