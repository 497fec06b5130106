"""What every command shares: settings and store built once, consoles, output helpers.

Commands are thin: parse options, get what they need from :class:`AppState`, make one
library call, render. Heavy libraries are imported inside the functions that use them so
that ``pas --help`` stays fast.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import socket
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from pas.errors import NotFoundError

if TYPE_CHECKING:
    from rich.console import Console

    from pas.clock import Clock
    from pas.config import Settings
    from pas.models import Portfolio
    from pas.runs import RunHandle
    from pas.store import Store
    from pas.unattended.tick import Runner

# Decimal places of money and quantities in JSON: the ledger's units are 10⁻⁹ shares and dollars.
JSON_PLACES = 9
_JSON_QUANTUM = Decimal(1).scaleb(-JSON_PLACES)

# Width of tables when stdout is not a terminal (cron logs, pipes): wide enough not to wrap.
PLAIN_WIDTH = 160
# Rows from which a table is printed as plain text (plain_table), on a terminal too: Rich
# lays out 500 rows × 8 columns in 250 ms, plain text takes about a millisecond.
PLAIN_TABLE_ROWS = 100
# What Rich would read in a line of text: markup, an emoji code, a line break, a tab.
_RICH_SYNTAX = re.compile(r"\[|:\S*:|[\n\t]")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class AppState:
    """Per-invocation state, built lazily from the root options."""

    environ: Mapping[str, str]
    env_file: Path | None = None
    env_file_source: str = "option"
    overrides: dict[str, str] = field(default_factory=dict)
    debug: bool = False
    clock: Clock | None = None  # None: the system clock; the benchmark and tests inject one
    job_runner: Runner | None = None  # how `pas tick` runs a job; None: a subprocess of pas
    _settings: Settings | None = None
    _store: Store | None = None
    _log: logging.Handler | None = None

    @property
    def settings(self) -> Settings:
        """Validated settings (raises ConfigError on a bad value)."""
        if self._settings is None:
            from pas.config import load_settings

            self._settings = load_settings(
                self.environ, self.env_file, self.overrides, env_file_source=self.env_file_source
            )
        return self._settings

    @property
    def store(self) -> Store:
        """The open store (raises StoreError when unreachable)."""
        if self._store is None:
            from pas.store import open_store

            self._store = (
                open_store(self.settings.store)
                if self.clock is None
                else open_store(self.settings.store, self.clock)
            )
            self._open_log()
        return self._store

    @property
    def log_format(self) -> str:
        """How the run log's lines are written: ``PAS_LOG_FORMAT`` (``--log-format`` wins)."""
        return self.settings.unattended.log_format

    @property
    def host(self) -> str:
        """This host among those sharing one store: ``PAS_HOST_ID``, or the host name."""
        return self.settings.store.host_id or socket.gethostname()

    @property
    def lock_owner(self) -> str:
        """This process in the locks it takes: ``PAS_HOST_ID`` (default: the host name) and pid."""
        from pas.portfolio.trading.lock import lock_owner_name

        return lock_owner_name(self.settings.store.host_id)

    def _open_log(self) -> None:
        """Runs recorded from now on are logged to ``PAS_HOME/pas.log``."""
        from pas.unattended.runlog import LOG_NAME, open_run_log

        home = self.settings.store.home
        home.mkdir(parents=True, exist_ok=True)
        self._log = open_run_log(home / LOG_NAME, self.log_format, self.settings.unattended.log_max_bytes)

    def use_settings(self, settings: Settings) -> None:
        """Replaces the settings (a command that runs on its own store, such as the demo);
        a store opened with the old ones is closed."""
        self.close()
        self._settings = settings

    def close(self) -> None:
        """Closes the store if it was opened."""
        if self._store is not None:
            self._store.close()
            self._store = None
        if self._log is not None:
            from pas.unattended.runlog import close_run_log

            close_run_log(self._log)
            self._log = None

    def portfolio(self, portfolio_id: str) -> Portfolio:
        """The named portfolio, or the standard not-found error."""
        found = self.store.get_portfolio(portfolio_id)
        if found is None:
            raise NotFoundError(f"no portfolio {portfolio_id!r} (see `pas portfolio list`)")
        return found

    @contextmanager
    def run(self, command: str, **details: Any) -> Iterator[RunHandle]:
        """Records a run of a state-changing command around the body."""
        from pas.runs import recorded_run

        with recorded_run(self.store, command, details, host=self.host) as handle:
            yield handle


def state(ctx: typer.Context) -> AppState:
    """The :class:`AppState` of this invocation (a default one when run without the root)."""
    root = ctx.find_root()
    if not isinstance(root.obj, AppState):
        root.obj = AppState(environ=os.environ)
    return root.obj


def console() -> Console:
    """A console on stdout: rich on a terminal, plain and wide under cron."""
    from rich.console import Console

    if sys.stdout.isatty():
        return Console()
    return Console(width=PLAIN_WIDTH, no_color=True, soft_wrap=False)


def err_console() -> Console:
    """A console on stderr for errors and notes."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else PLAIN_WIDTH)


def to_jsonable(value: Any) -> Any:
    """Values as JSON, one rule for every command.

    Money and quantities (Decimals) are decimal strings, as Alpaca's API writes them, with
    at most 9 decimal places: the ledger's 10⁻⁹ units (a quotient such as an average cost
    is rounded half-even to them). Fractions and ratios (floats) are JSON numbers, null
    when undefined (NaN or ±inf). Times are ISO-8601 UTC ending in ``Z``, days
    ``YYYY-MM-DD``; counts are integers. The schema of every command's output is under
    ``docs/json/``.
    """
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime | date):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def decimal_text(value: Decimal) -> str:
    """A Decimal as a plain decimal string with at most :data:`JSON_PLACES` places."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -JSON_PLACES:
        text = f"{value.quantize(_JSON_QUANTUM, rounding=ROUND_HALF_EVEN):f}".rstrip("0").rstrip(".")
        return "0" if text == "-0" else text
    return f"{value:f}"


def dollars(value: float) -> Decimal | None:
    """A dollar figure computed in floats (an estimate such as VaR) as a Decimal; None if NaN."""
    return Decimal(repr(value)).normalize() if math.isfinite(value) else None


def print_json(data: Any) -> None:
    """Writes JSON to stdout."""
    sys.stdout.write(json.dumps(to_jsonable(data), indent=2) + "\n")


def print_table(
    title: str | None,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    right: Sequence[str] = (),
    caption: str | None = None,
) -> None:
    """Prints a rich table; columns named in ``right`` are right-aligned (numbers), and
    ``caption`` (a convention the figures follow) is printed under it.

    On a narrow terminal numbers are never cut: a number column is as wide as its widest
    cell and never wraps, and the text columns fold to make room. A table of more than
    :data:`PLAIN_TABLE_ROWS` rows is laid out as plain text in the same boxes
    (:func:`plain_table`), on a terminal too, and never wraps.
    """
    if len(rows) > PLAIN_TABLE_ROWS:
        text = [["" if v is None else str(v) for v in row] for row in rows]
        _write(
            sys.stdout,
            (title + "\n" if title else "") + plain_table(columns, text, right=right, caption=caption),
        )
        return
    from rich.table import Table
    from rich.text import Text

    # Text cells skip markup parsing and highlighting: data is shown as it is (a ticker
    # such as "[X]" must not be read as markup), and 500-row tables render in half the time.
    cells = [[Text("" if v is None else str(v)) for v in row] for row in rows]
    table = Table(caption=caption)
    for i, name in enumerate(columns):
        if name in right:
            widest = max((len(row[i]) for row in cells), default=0)
            table.add_column(name, justify="right", no_wrap=True, min_width=max(widest, len(name)))
        else:
            table.add_column(name, justify="left", overflow="fold")
    for row in cells:
        table.add_row(*row)
    out = console()
    if title:
        out.print(title, style="bold", highlight=False)
    out.print(table)


def plain_table(
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    right: Sequence[str] = (),
    caption: str | None = None,
) -> str:
    """A table as text in Rich's default boxes (heavy head, light body), each column as
    wide as its widest cell plus a space each side; what Rich prints without colour when
    the table fits the width, in about a millisecond for 500 rows instead of 250 ms."""
    widths = [max([len(name), *(len(row[i]) for row in rows)]) for i, name in enumerate(columns)]

    def line(cells: Sequence[str], bar: str) -> str:
        padded = (
            cell.rjust(width) if name in right else cell.ljust(width)
            for cell, width, name in zip(cells, widths, columns, strict=True)
        )
        return f"{bar} " + f" {bar} ".join(padded) + f" {bar}\n"

    def rule(left: str, fill: str, cross: str, end: str) -> str:
        return left + cross.join(fill * (width + 2) for width in widths) + end + "\n"

    parts = [rule("┏", "━", "┳", "┓"), line(columns, "┃"), rule("┡", "━", "╇", "┩")]
    parts.extend(line(row, "│") for row in rows)
    parts.append(rule("└", "─", "┴", "┘"))
    if caption:
        total = sum(widths) + 3 * len(widths) + 1
        left = max(total - len(caption), 0) // 2
        parts.append(" " * left + caption + " " * max(total - len(caption) - left, 0) + "\n")
    return "".join(parts)


def stdin_text(path: Path) -> str | None:
    """Standard input's text when the command was given ``-`` for a file, else None."""
    return sys.stdin.read() if str(path) == "-" else None


def note_ignored(path: Path, columns: Sequence[str]) -> None:
    """Says on stderr which columns of an imported file were not read."""
    if columns:
        names = ", ".join(repr(c) for c in columns)
        err_console().print(
            f"note: {path}: ignored column(s) {names}; the README lists the columns read",
            markup=False,
            highlight=False,
        )


def say(message: str) -> None:
    """A line of human output on stdout, never hard-wrapped (a path in it stays whole);
    Rich markup allowed."""
    if _plain(message):
        _write(sys.stdout, message + "\n")
        return
    console().print(message, highlight=False, soft_wrap=True)


def warn(message: str) -> None:
    """A warning on stderr (kept out of ``--json`` output): ``warning: …``."""
    line = f"warning: {message}"
    if _plain(line):
        _write(sys.stderr, line + "\n")
        return
    err_console().print(line, markup=False, highlight=False, soft_wrap=True)


def _write(stream: Any, text: str) -> None:
    """Writes and flushes, as Rich does, so that stdout and stderr keep their order."""
    stream.write(text)
    stream.flush()


def _plain(message: str) -> bool:
    """Whether Rich, not wrapping, would print ``message`` as it is: one line without
    markup, an emoji code (``:name:``) or a tab. Such lines are written directly, so that
    a command whose output is plain never imports Rich (about 80 ms)."""
    return not _RICH_SYNTAX.search(message)


def money(value: Decimal | None, places: int = 2) -> str:
    """Dollars with thousands separators, blank when unknown."""
    if value is None:
        return ""
    return f"{value:,.{places}f}"


def number(value: Decimal | None) -> str:
    """A quantity without trailing zeros, blank when unknown."""
    if value is None:
        return ""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def percent(value: Decimal | float | None, places: int = 2) -> str:
    """A fraction as a percentage, blank when unknown."""
    if value is None:
        return ""
    return f"{float(value) * 100:.{places}f}%"


def as_of_day(text: str | None) -> date | None:
    """The day of an ``--as-of`` option, or None when it was not given."""
    from pas.models import parse_day

    return None if text is None else parse_day(text, "--as-of")
