"""Long tables and plain lines are written without Rich, exactly as Rich would print them,
and `pas positions` imports neither Rich nor pydantic (issue 18: start-up)."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from rich.table import Table
from rich.text import Text

from pas.commands import _app
from pas.commands._app import PLAIN_TABLE_ROWS, plain_table, print_table, say, warn

COLUMNS = ["symbol", "qty", "a long header", "price date"]
RIGHT = ["qty", "a long header"]


def rich_text(rows: list[list[str]], caption: str | None) -> str:
    """What Rich prints for the table without colour on a wide console."""
    out = io.StringIO()
    table = Table(caption=caption)
    for name in COLUMNS:
        table.add_column(name, justify="right" if name in RIGHT else "left")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    Console(file=out, width=_app.PLAIN_WIDTH, no_color=True, soft_wrap=False).print(table)
    return out.getvalue()


@pytest.mark.parametrize("caption", [None, "odd caption", "an even caption"])
def test_plain_table_is_what_rich_prints(caption: str | None) -> None:
    rows = [["BRK.B", "1,000.5", "", "2026-01-02 stale"], ["[X]", "7", "12.00%", ""], ["", "", "", ""]]
    assert plain_table(COLUMNS, rows, right=RIGHT, caption=caption) == rich_text(rows, caption)


def test_a_long_table_is_printed_plain(capsys: pytest.CaptureFixture[str]) -> None:
    rows = [[f"S{n:03d}", str(n), "1.00%", "2026-01-02"] for n in range(PLAIN_TABLE_ROWS + 1)]
    print_table("Positions of p", COLUMNS, rows, right=RIGHT)
    assert capsys.readouterr().out == "Positions of p\n" + rich_text(rows, None)


def test_plain_lines_and_the_ones_rich_must_print(capsys: pytest.CaptureFixture[str]) -> None:
    say("market value 1,000.00; cash 5.00")
    say("[bold]p[/bold]: strategy manual")  # markup: Rich renders it
    say("x" * (_app.PLAIN_WIDTH + 5))  # never hard-wrapped
    warn("stale closes: " + "S000 2026-01-02, " * 20)  # a warning is never wrapped
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == "market value 1,000.00; cash 5.00"
    assert lines[1] == "p: strategy manual"
    assert lines[2:] == ["x" * (_app.PLAIN_WIDTH + 5)]
    assert err == "warning: stale closes: " + "S000 2026-01-02, " * 20 + "\n"


def run_pas(home: Path, *commands: list[str]) -> str:
    """Runs pas commands in one fresh interpreter; its stdout."""
    program = "import sys\nfrom pas.cli import app\n" + "".join(
        f"app({args!r}, prog_name='pas', standalone_mode=False)\n" for args in commands
    )
    program += "print(sorted({m.split('.')[0] for m in sys.modules} & {'rich', 'pydantic'}))\n"
    env = {"PAS_HOME": str(home), "PATH": "/usr/bin:/bin", "HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def test_positions_loads_neither_rich_nor_pydantic(tmp_path: Path) -> None:
    # Typer checks values through pydantic and Rich lays out tables: 100+ ms each of the
    # start-up of a read command. Measured by the modules loaded, not by a clock.
    run_pas(tmp_path, ["portfolio", "add", "p", "--capital", "100"])
    shown = run_pas(tmp_path, ["positions", "p"], ["positions", "p", "--json"])
    assert shown.splitlines()[-1] == "[]", shown
    # A value given as text for a parameter of another type still goes through Typer's
    # own checks (and messages).
    assert run_pas(tmp_path, ["--log-format", "json", "positions", "p"]).splitlines()[-1] == "['pydantic']"


def test_a_backtest_with_its_int_defaults_loads_no_pydantic(tmp_path: Path) -> None:
    # `pas backtest` has int options with defaults (--in-sample, --out-of-sample): taking
    # them as given spares the whole process pydantic's import (about 0.1 s).
    assert run_pas(tmp_path, ["backtest", "list", "--json"]).splitlines()[-1] == "[]"


def test_an_int_given_on_the_command_line_is_still_checked(tmp_path: Path) -> None:
    # Only defaults are taken as given: `pas jobs --limit 0` (min=1) comes as text and is
    # refused by Typer's own checks.
    with pytest.raises(subprocess.CalledProcessError) as refused:
        run_pas(tmp_path, ["jobs", "--limit", "0"])
    assert "--limit" in refused.value.stderr
