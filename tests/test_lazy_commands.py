"""The root imports a command's module only when that command runs or shows its help."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main

from pas.cli import COMMANDS, app, load_command


def command_modules_loaded(home: Path, args: list[str]) -> list[str]:
    """The command modules (``pas.commands`` but the shared ``_`` plumbing) a fresh
    interpreter imported to run ``pas ARGS``."""
    program = (
        "import re, sys\nfrom pas.cli import app\n"
        f"try:\n    app({args!r}, prog_name='pas')\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if re.match(r'pas\\.commands\\.[a-z]', m)))\n"
    )
    env = {"PAS_HOME": str(home), "PATH": "/usr/bin:/bin", "HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True
    )
    loaded: list[str] = ast.literal_eval(done.stdout.splitlines()[-1])
    return loaded


def test_help_imports_no_command_module(tmp_path: Path) -> None:
    # `pas --help` lists every command from its summary in pas.cli.COMMANDS.
    assert command_modules_loaded(tmp_path, ["--help"]) == []


def test_a_command_imports_its_own_module_only(tmp_path: Path) -> None:
    assert command_modules_loaded(tmp_path, ["positions", "nope"]) == ["pas.commands.positions"]


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_summary_is_the_first_sentence_of_the_help(name: str) -> None:
    # The summary stands in for the help in `pas --help`; it must not drift from it.
    assert load_command(name).get_short_help_str(limit=10_000) == COMMANDS[name].summary


def test_every_command_module_is_listed() -> None:
    modules = {p.stem for p in (Path(__file__).parents[1] / "pas" / "commands").glob("[a-z]*.py")}
    assert {entry.module for entry in COMMANDS.values()} == modules


def test_the_commands_are_loaded_once_and_cannot_be_replaced() -> None:
    root = typer.main.get_command(app)
    assert root.commands["positions"] is root.commands["positions"]  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match=r"pas\.cli\.COMMANDS"):
        root.commands["extra"] = root.commands["positions"]  # type: ignore[attr-defined]


def test_positions_loads_only_what_it_shows(tmp_path: Path) -> None:
    # Issue 18: `pas positions` at most 1.5× `pas --help`. Each module here costs a few
    # milliseconds of import (the broker's, the records' and the run history's value
    # classes, hashing and random ids, the rotating log file) and none is needed to show
    # positions: measured by the modules loaded, not by a clock.
    from decimal import Decimal

    from pas.models import Fill, Portfolio, Schedule, Side
    from pas.store.sqlite import SqliteStore
    from tests.store.builders import T0

    with SqliteStore(tmp_path / "pas.db") as store:
        store.add_portfolio(Portfolio("p", "manual", Schedule.DAILY, T0, Decimal(1000)))
        store.append_fills([Fill("p", "AAA", Side.BUY, Decimal(2), Decimal(10), T0, "f1")])
    unneeded = ["hashlib", "logging.handlers", "pas.domain.broker", "pas.history", "pas.records", "secrets"]
    program = (
        "import sys\nfrom pas.cli import app\n"
        "try:\n    app(['positions', 'p'], prog_name='pas')\nexcept SystemExit:\n    pass\n"
        f"print(sorted(set(sys.modules) & {set(unneeded)!r}))\n"
    )
    env = {"PAS_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True
    )
    assert "AAA" in done.stdout
    assert done.stdout.splitlines()[-1] == "[]", done.stdout
