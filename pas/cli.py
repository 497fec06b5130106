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

import os
import re
import sys
import traceback
from dataclasses import dataclass
from enum import Enum, StrEnum
from pathlib import Path
from typing import IO, Annotated, Any

import typer

# Typer vendors Click; its parser's exceptions are only importable from there.
from typer._click.core import Context as ClickContext
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer._coercion import RuntimeParam, build_runtime_param
from typer.core import TyperGroup, _TyperParameter

from pas import __version__
from pas.commands import allocate as allocate_cmd
from pas.commands import backtest as backtest_cmd
from pas.commands import build as build_cmd
from pas.commands import config as config_cmd
from pas.commands import demo as demo_cmd
from pas.commands import doctor as doctor_cmd
from pas.commands import jobs as jobs_cmd
from pas.commands import metrics as metrics_cmd
from pas.commands import portfolio as portfolio_cmd
from pas.commands import positions as positions_cmd
from pas.commands import prices as prices_cmd
from pas.commands import report as report_cmd
from pas.commands import risk as risk_cmd
from pas.commands import schedule as schedule_cmd
from pas.commands import scrape as scrape_cmd
from pas.commands import trades as trades_cmd
from pas.commands import trading as trading_cmd
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
    as the parser gives it, an enum option's default) is what pydantic would return, so
    it is returned as it is; any other value goes through Typer's own coercion, with its
    messages.
    """

    descriptor: Any = None

    def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
        kind = self.annotation
        if self.parameter_info.parser is None and kind in _AS_GIVEN_TYPES and type(value) is kind:
            return value
        if isinstance(kind, type) and issubclass(kind, Enum) and isinstance(value, kind):
            return value
        return build_runtime_param(self.descriptor)._coerce_value(value, param, ctx)


_AS_GIVEN_TYPES = (str,)


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


class ErrorEdge(TyperGroup):
    """The root group: turns exceptions from any command into a message and an exit code;
    gives every command's portfolio, dataset and strategy parameters shell completion."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        attach_completion(self)
        keep_examples(self)

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
        LogFormat,
        typer.Option(
            "--log-format", envvar="PAS_LOG_FORMAT", help="Lines of PAS_HOME/pas.log: text or json."
        ),
    ] = LogFormat.TEXT,
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
    # A caller embedding pas (the tests, the month benchmark) may pass a clock and a job runner.
    embedding = ctx.obj if isinstance(ctx.obj, AppState) else AppState(environ=os.environ)
    ctx.obj = AppState(
        environ=embedding.environ,
        env_file=env_file,
        env_file_source=source,
        overrides=overrides,
        debug=debug,
        log_format=log_format.value,
        clock=embedding.clock,
        job_runner=embedding.job_runner,
    )


app.command("config")(config_cmd.show_config)
app.add_typer(portfolio_cmd.app, name="portfolio")
app.add_typer(trades_cmd.app, name="trades")
app.command("positions")(positions_cmd.positions)
app.add_typer(prices_cmd.app, name="prices")
app.add_typer(metrics_cmd.app, name="metrics")
app.command("jobs")(jobs_cmd.jobs)
app.command("rebalance")(trading_cmd.rebalance)
app.command("sync")(trading_cmd.sync)
app.command("reconcile")(trading_cmd.reconcile)
app.command("build")(build_cmd.build)
app.command("cron")(schedule_cmd.cron)
app.command("schedule")(schedule_cmd.schedule)
app.command("tick")(schedule_cmd.tick)
app.command("doctor")(doctor_cmd.doctor)
app.command("scrape")(scrape_cmd.scrape)
app.command("allocate")(allocate_cmd.allocate)
app.command("data")(scrape_cmd.data)
app.add_typer(risk_cmd.app, name="risk")
app.command("backtest")(backtest_cmd.backtest)
app.command("report")(report_cmd.report)
app.command("demo")(demo_cmd.demo)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="pas")
