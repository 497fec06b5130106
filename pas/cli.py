"""The ``pas`` command line: root options and the error edge.

Every :class:`~pas.errors.PasError` becomes one line on stderr and its exit code; any
other exception becomes one line too (``--debug`` prints the traceback, never locals,
which can hold keys). A usage error of the parser (unknown option, bad value, missing
argument) is one ``error:`` line plus the ``Try 'pas … --help' for help.`` hint, exit 2.
Exit codes: 0 done, 1 failed, 2 bad usage or input, 3 refused by a risk control, 4 another
run holds the lock.

Help is rendered by Click's plain formatter (``rich_markup_mode=None``): help texts are
shown as written (``[a-z0-9_-]`` is text, not Rich markup), paragraphs are re-wrapped to
the terminal, and flags show no value placeholder.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import traceback
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from enum import Enum, StrEnum
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from typer._click.core import Command as ClickCommand

# Typer vendors Click; its parser's exceptions are only importable from there.
from typer._click.core import Context as ClickContext
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer._click.formatting import HelpFormatter
from typer._click.utils import make_default_short_help
from typer._coercion import RuntimeParam, build_runtime_param
from typer.core import TyperGroup, _TyperParameter
from typer.models import CommandInfo, TyperInfo

from pas import __version__
from pas.commands._app import AppState, err_console
from pas.commands._complete import attach as attach_completion
from pas.errors import EXIT_FAILED, PasError

# Pydantic's prefix on a validation message; it says nothing to a user of a command line.
_PYDANTIC_PREFIX = "Value error, "
# Words a user may write after a flag, thinking it takes a value (`pas --debug true`).
_FLAG_VALUES = frozenset({"true", "false", "yes", "no", "on", "off", "1", "0"})
# A help paragraph that is an example; Click's ``\b`` line keeps it from being re-wrapped.
_EXAMPLE = re.compile(r"(^|\n\n)(Example)")


def keep_examples(command: Any) -> None:
    """Marks every ``Example:`` paragraph in the tree's help texts to be shown as written, so a
    command line is never broken across lines (Click's ``\\b``)."""
    if command.help:
        command.help = _EXAMPLE.sub("\\1\b\n\\2", command.help)
    for child in (getattr(command, "commands", None) or {}).values():
        keep_examples(child)


class OneLineUsageError(UsageError):
    """A usage error shown as one ``error:`` line and the ``--help`` hint (exit 2)."""

    def show(self, file: IO[Any] | None = None) -> None:
        """Writes the error line, then the hint naming the command's ``--help``."""
        typer.echo(f"error: {self.format_message()}", file=file, err=file is None)
        if self.ctx is not None:
            hint = f"Try '{self.ctx.command_path} --help' for help."
            typer.echo(hint, file=file, err=file is None)


def one_line(exc: UsageError) -> UsageError:
    """The parser's usage error as a :class:`OneLineUsageError` (help requests pass through)."""
    if isinstance(exc, NoArgsIsHelpError | OneLineUsageError):
        return exc
    return OneLineUsageError(exc.format_message().replace(_PYDANTIC_PREFIX, ""), exc.ctx)


@dataclass(frozen=True)
class _AsGiven(RuntimeParam):
    """Typer's coercion of a parameter, built only for a value that needs it.

    Typer checks every value through a pydantic ``TypeAdapter``, and building the first
    one imports pydantic: 100+ ms for every command with a text argument or an option
    with a default. A value that already has the parameter's type (a ``str`` argument
    as the parser gives it, an enum option's default, an ``int`` option's default when
    the option has no bounds to check) is what pydantic would return, so it is returned
    as it is; any other value goes through Typer's own coercion, with its messages.
    """

    descriptor: Any = None

    def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
        kind, info = self.annotation, self.parameter_info
        unbounded = kind is str or (info.min is None and info.max is None)
        if info.parser is None and kind in _AS_GIVEN_TYPES and type(value) is kind and unbounded:
            return value
        if isinstance(kind, type) and issubclass(kind, Enum) and isinstance(value, kind):
            return value
        return build_runtime_param(self.descriptor)._coerce_value(value, param, ctx)


_AS_GIVEN_TYPES = (str, int)


def _runtime_param(self: _TyperParameter) -> RuntimeParam:
    if self._runtime_param is None:
        descriptor = self.type_descriptor
        if descriptor.file_annotation is None:
            self._runtime_param = _AsGiven(descriptor.parameter_info, descriptor.annotation, descriptor)
        else:
            self._runtime_param = build_runtime_param(descriptor)
    return self._runtime_param


_TyperParameter.get_runtime_param = _runtime_param  # type: ignore[method-assign]


class LogFormat(StrEnum):
    """How the run log's lines are written."""

    TEXT = "text"
    JSON = "json"


@dataclass(frozen=True)
class Entry:
    """A command (or group) of the root, imported only when it runs or shows its own help.

    Attributes:
        module: the module under ``pas.commands`` that defines it.
        attribute: its function, or its ``typer.Typer`` for a group.
        summary: the first sentence of its help, what ``pas --help`` lists without
            importing the module (a test checks it against the help itself).
    """

    module: str
    attribute: str
    summary: str


# The root's commands in the order `pas --help` lists them. Importing every command module
# cost `pas positions` 100+ ms of modules it never uses; each is now imported on demand.
COMMANDS: dict[str, Entry] = {
    "config": Entry(
        "config",
        "show_config",
        "Show the effective settings and where each came from (secrets masked).",
    ),
    "positions": Entry(
        "positions",
        "positions",
        "Show a portfolio's positions: quantity, average cost, and value where a price is stored.",
    ),
    "jobs": Entry(
        "jobs",
        "jobs",
        "List recent runs: command, start, duration, status and error.",
    ),
    "rebalance": Entry(
        "trading",
        "rebalance",
        "Trade portfolios to their target weights: plan, check, send, wait for fills, record.",
    ),
    "sync": Entry(
        "trading",
        "sync",
        "Record fills that arrived after `pas rebalance` stopped waiting (safe to repeat).",
    ),
    "reconcile": Entry(
        "trading",
        "reconcile",
        "Compare the sum of every portfolio's ledger with the broker's positions; exit 1 if they differ.",
    ),
    "build": Entry(
        "build",
        "build",
        "Run a portfolio's strategy, store its new target weights, and trade to them.",
    ),
    "cron": Entry(
        "schedule",
        "cron",
        "Print the crontab line for this installation, ready for `crontab -e`.",
    ),
    "schedule": Entry(
        "schedule",
        "schedule",
        "Show each scheduled job and its next run, in New York and in this machine's time.",
    ),
    "tick": Entry(
        "schedule",
        "tick",
        "Run the scheduled jobs that are due now in New York time; cron calls it every 5 minutes.",
    ),
    "doctor": Entry(
        "doctor",
        "doctor",
        "Check the installation: settings, store, disk, broker, data, breaker, schedule, file modes.",
    ),
    "scrape": Entry(
        "scrape",
        "scrape",
        "Fetch datasets into the store (only what is new, unless --since): QuiverQuant's, and wiki "
        "from Wikimedia's Pageviews API unless WIKI_SOURCE=quiver.",
    ),
    "allocate": Entry(
        "allocate",
        "allocate",
        "Size the portfolios as fractions of the account from their trailing statistics.",
    ),
    "data": Entry(
        "scrape",
        "data",
        "Show stored records of a dataset, newest public first (or its coverage).",
    ),
    "report": Entry(
        "report",
        "report",
        "Write an HTML tear sheet (one file, images embedded) and its trades CSV beside it.",
    ),
    "demo": Entry(
        "demo",
        "demo",
        "Run the whole system offline on bundled synthetic data and write an HTML report.",
    ),
    "portfolio": Entry(
        "portfolio",
        "app",
        "Register, inspect and remove portfolios; set target weights.",
    ),
    "trades": Entry(
        "trades",
        "app",
        "Import fills and list a portfolio's trades (`pas trades ID` lists them).",
    ),
    "prices": Entry(
        "prices",
        "app",
        "Store daily closes (used for valuation and the simulated broker).",
    ),
    "metrics": Entry(
        "metrics",
        "app",
        "Daily returns per portfolio and the trailing statistics computed from them.",
    ),
    "risk": Entry(
        "risk",
        "app",
        "Risk: exposures, value at risk, and the circuit breaker.",
    ),
    "backtest": Entry(
        "backtest",
        "app",
        "Backtests over stored history, each kept as a run (list, show, compare, rm).",
    ),
}


def load_command(name: str) -> ClickCommand:
    """The Click command of one root entry: its module imported, completion attached,
    examples kept as written."""
    entry = COMMANDS[name]
    target = getattr(importlib.import_module(f"pas.commands.{entry.module}"), entry.attribute)
    command: ClickCommand
    if isinstance(target, typer.Typer):
        command = typer.main.get_group_from_info(
            TyperInfo(target, name=name),
            pretty_exceptions_short=app.pretty_exceptions_short,
            rich_markup_mode=app.rich_markup_mode,
            suggest_commands=app.suggest_commands,
        )
    else:
        command = typer.main.get_command_from_info(
            CommandInfo(name=name, callback=target),
            pretty_exceptions_short=app.pretty_exceptions_short,
            rich_markup_mode=app.rich_markup_mode,
        )
    attach_completion(command)
    keep_examples(command)
    return command


class LazyCommands(MutableMapping[str, ClickCommand]):
    """The root's commands by name, each loaded (:func:`load_command`) when first asked for."""

    def __init__(self) -> None:
        self._loaded: dict[str, ClickCommand] = {}

    def __getitem__(self, name: str) -> ClickCommand:
        if name not in self._loaded:
            if name not in COMMANDS:
                raise KeyError(name)
            self._loaded[name] = load_command(name)
        return self._loaded[name]

    def __setitem__(self, name: str, command: ClickCommand) -> None:
        raise TypeError(f"cannot add {name!r}: the root's commands are the entries of pas.cli.COMMANDS")

    def __delitem__(self, name: str) -> None:
        raise TypeError(f"cannot remove {name!r}: the root's commands are the entries of pas.cli.COMMANDS")

    def __iter__(self) -> Iterator[str]:
        return iter(COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS)


class ErrorEdge(TyperGroup):
    """The root group: turns exceptions from any command into a message and an exit code;
    gives every command's portfolio, dataset and strategy parameters shell completion."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        attach_completion(self)
        keep_examples(self)
        self.commands = LazyCommands()

    def list_commands(self, ctx: ClickContext) -> list[str]:
        return list(self.commands)

    def format_commands(self, ctx: ClickContext, formatter: HelpFormatter) -> None:
        """Lists the commands with their summaries, importing none of their modules."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        with formatter.section("Commands"):
            formatter.write_dl(
                [(name, make_default_short_help(COMMANDS[name].summary, limit)) for name in names]
            )

    def make_context(
        self, info_name: str | None, args: list[str], parent: ClickContext | None = None, **extra: Any
    ) -> ClickContext:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except UsageError as exc:
            raise one_line(exc) from None

    def resolve_command(  # type: ignore[override]
        self, ctx: typer.Context, args: list[str]
    ) -> tuple[str | None, Any, list[str]]:
        word = args[0] if args else ""
        if word.lower() in _FLAG_VALUES and word not in self.commands:
            raise OneLineUsageError(
                f"no such command {word!r}: root flags such as --debug take no value; drop {word!r}", ctx
            )
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            raise one_line(exc) from None
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except PasError as exc:
            _report(ctx, str(exc))
            raise typer.Exit(exc.exit_code) from None
        except Exception as exc:
            _report(ctx, f"unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)")
            raise typer.Exit(EXIT_FAILED) from None
        finally:
            if isinstance(ctx.obj, AppState):
                ctx.obj.close()


def _report(ctx: typer.Context, message: str) -> None:
    debug = isinstance(ctx.obj, AppState) and ctx.obj.debug
    if debug:
        traceback.print_exc(file=sys.stderr)
    err_console().print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)


app = typer.Typer(
    cls=ErrorEdge,
    name="pas",
    help="Portfolio Allocation System: alternative-data strategies as sub-portfolios on one "
    "Alpaca account.\n\nExample: pas portfolio add lobby --strategy lobbying_growth --capital 10000",
    rich_markup_mode=None,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"pas {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    env_file: Annotated[
        Path | None,
        typer.Option(
            "--env-file",
            envvar="PAS_ENV_FILE",
            help="Settings file to read (python-dotenv syntax). Default: ./.env if present.",
        ),
    ] = None,
    home: Annotated[
        Path | None,
        typer.Option("--home", help="Directory of the embedded database (overrides PAS_HOME)."),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    log_format: Annotated[
        LogFormat | None,
        typer.Option(
            "--log-format", help="Lines of PAS_HOME/pas.log: text or json (overrides PAS_LOG_FORMAT)."
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit."),
    ] = False,
) -> None:
    """Root options shared by every command."""
    given = ctx.get_parameter_source("env_file")  # click's ParameterSource, vendored by typer
    source = "environment" if given is not None and given.name == "ENVIRONMENT" else "option"
    if env_file is None and Path(".env").is_file():
        env_file, source = Path(".env"), "default"
    elif env_file is not None and env_file.is_dir():
        raise typer.BadParameter(
            f"{env_file} is a directory; name the settings file itself (such as {env_file / '.env'})",
            param_hint="--env-file / PAS_ENV_FILE",
        )
    elif env_file is not None and not env_file.exists():
        raise typer.BadParameter(f"{env_file} does not exist", param_hint="--env-file / PAS_ENV_FILE")
    overrides = {"PAS_HOME": str(home)} if home is not None else {}
    if log_format is not None:
        overrides["PAS_LOG_FORMAT"] = log_format.value
    # A caller embedding pas (the tests, the month benchmark) may pass a clock and a job runner.
    embedding = ctx.obj if isinstance(ctx.obj, AppState) else AppState(environ=os.environ)
    ctx.obj = AppState(
        environ=embedding.environ,
        env_file=env_file,
        env_file_source=source,
        overrides=overrides,
        debug=debug,
        clock=embedding.clock,
        job_runner=embedding.job_runner,
    )


def main() -> None:
    """Console-script entry point."""
    app(prog_name="pas")
