"""Help texts and usage errors: every command's ``--help`` rendered and checked, one-line errors."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from pas.cli import app
from tests.commands.conftest import Invoke

# The terminal width help is rendered at; Click wraps paragraphs to it.
HELP_WIDTH = 100


def command_paths() -> Iterator[list[str]]:
    """The argument list naming every command and group, the root first."""

    def walk(command: object, path: list[str]) -> Iterator[list[str]]:
        yield path
        for name, child in (getattr(command, "commands", None) or {}).items():
            yield from walk(child, [*path, name])

    yield from walk(typer.main.get_command(app), [])


ALL = [pytest.param(path, id=" ".join(["pas", *path])) for path in command_paths()]


def render_help(path: list[str], width: int = HELP_WIDTH) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], terminal_width=width)
    assert result.exit_code == 0, result.output
    return result.output


def prose(help_text: str) -> list[list[str]]:
    """The paragraphs of the command's own description (before Arguments/Options/Commands)."""
    body = re.split(r"^(?:Arguments|Options|Commands):$", help_text, flags=re.M)[0]
    paragraphs = [p for p in body.split("\n\n") if p.strip() and not p.startswith("Usage:")]
    return [[line.strip() for line in p.splitlines()] for p in paragraphs]


def test_there_are_many_commands() -> None:
    assert len(ALL) >= 30


@pytest.mark.parametrize("path", ALL)
def test_help_shows_no_markup_artefacts_or_flag_metavars(path: list[str]) -> None:
    text = render_help(path)
    assert "<bool>" not in text, "a flag shows a value placeholder"
    options = text.partition("\nOptions:")[2]
    assert "list[" not in options, "a repeatable option shows a Python type as its placeholder"
    assert "[[" not in text, "an optional argument's metavar is bracketed twice"
    assert "[/" not in text and "[bold" not in text, "Rich markup leaked into help"
    assert "╭" not in text, "help is boxed Rich panels, not plain text"
    usage = text.splitlines()[0]
    placeholders = re.findall(r"[\[{]([^\]}]+)[\]}]", usage)
    assert all(p.rstrip(".").isupper() for p in placeholders), f"lower-case placeholder in {usage!r}"


@pytest.mark.parametrize("path", ALL)
def test_help_paragraphs_are_wrapped_not_ragged(path: list[str]) -> None:
    # A hard line break inside a paragraph leaves a short line although the next word fits.
    for paragraph in prose(render_help(path)):
        for line, following in itertools.pairwise(paragraph):
            next_word = following.split()[0]
            assert len(line) + 1 + len(next_word) > HELP_WIDTH - 4, (
                f"ragged break after {line!r} in `pas {' '.join(path)} --help`"
            )


@pytest.mark.parametrize("path", ALL)
def test_examples_are_never_broken_across_lines(path: list[str]) -> None:
    # On a narrow terminal the prose wraps; the example stays one line, to be copied whole.
    lines = render_help(path, width=60).splitlines()
    examples = [i for i, line in enumerate(lines) if line.strip().startswith("Example:")]
    assert examples, f"`pas {' '.join(path)} --help` has no example"
    for i in examples:
        assert lines[i + 1].strip() == "", f"the example is wrapped: {lines[i : i + 2]}"


def test_character_classes_in_help_are_shown_as_written() -> None:
    assert "[a-z0-9_-]" in render_help(["portfolio", "add"])


def test_build_shows_its_optional_argument_once_bracketed() -> None:
    assert "Usage: pas build [OPTIONS] [ID]" in render_help(["build"])


@pytest.mark.parametrize(
    ("args", "message", "hint"),
    [
        (["--bogus"], "error: No such option: --bogus", "Try 'pas --help' for help."),
        (["portfolio", "add"], "error: Missing argument 'ID'.", "Try 'pas portfolio add --help' for help."),
        (
            ["portfolio", "add", "x", "--schedule", "hourly"],
            "error: Invalid value for '--schedule': 'hourly' is not one of 'daily', 'weekly', 'monthly'.",
            "Try 'pas portfolio add --help' for help.",
        ),
        (
            ["portfolio", "show", "x", "--history", "abc"],
            "error: Invalid value for '--history': Input should be a valid integer, "
            "unable to parse string as an integer",
            "Try 'pas portfolio show --help' for help.",
        ),
        (
            ["--debug", "true", "jobs"],
            "error: no such command 'true': root flags such as --debug take no value; drop 'true'",
            "Try 'pas --help' for help.",
        ),
    ],
)
def test_usage_errors_are_one_line_and_the_help_hint(
    pas: Invoke, args: list[str], message: str, hint: str
) -> None:
    result = pas(*args)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [message, hint]
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("pas positions ", ["alpha", "beta"]),
        ("pas portfolio show b", ["beta"]),
        ("pas risk var ", ["alpha", "beta"]),
        ("pas scrape co", ["congress", "contracts"]),
        ("pas portfolio add x --strategy lob", ["lobbying_growth"]),
    ],
)
def test_shell_completion_knows_portfolios_datasets_and_strategies(
    pas: Invoke, home: Path, words: str, expected: list[str]
) -> None:
    for pid in ("alpha", "beta"):
        assert pas("portfolio", "add", pid).exit_code == 0
    assert complete(home, words) == expected


def complete(home: Path, words: str) -> list[str]:
    """What bash completion offers for ``words`` (the last one being completed)."""
    cword = len(words.split()) - (0 if words.endswith(" ") else 1)
    env = {
        "PAS_HOME": str(home),
        "_PAS_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(cword),
    }
    result = CliRunner().invoke(app, [], prog_name="pas", env=env)
    return result.stdout.split()


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("pas backtest show ", ["261201000000ab12", "261201000100cd34"]),
        ("pas backtest show 2612010001", ["261201000100cd34"]),
        ("pas backtest compare 261201000000ab12 2", ["261201000000ab12", "261201000100cd34"]),
        ("pas backtest rm 261201000000ab12 ", ["261201000000ab12", "261201000100cd34"]),
        ("pas report --run 2612010000", ["261201000000ab12"]),
        ("pas report --backtest ", ["261201000000ab12", "261201000100cd34"]),
        # once a run is named, the portfolios are that run's, not the live store's
        ("pas report --backtest 261201000100cd34 ", ["new"]),
        ("pas report --run 261201000000ab12 ", ["old"]),
        ("pas report ", ["live"]),
    ],
)
def test_shell_completion_knows_the_kept_backtest_runs(
    pas: Invoke, home: Path, words: str, expected: list[str]
) -> None:
    from pas.models import Portfolio, Schedule
    from pas.store.sqlite import SqliteStore

    (home / "backtests").mkdir(parents=True)
    for run_id, pid in (("261201000000ab12", "old"), ("261201000100cd34", "new")):
        with SqliteStore(home / "backtests" / f"{run_id}.db") as store:
            store.add_portfolio(Portfolio(pid, "manual", Schedule.WEEKLY, store.clock()))
    assert pas("portfolio", "add", "live").exit_code == 0
    assert complete(home, words) == expected


def test_shell_completion_of_runs_offers_nothing_when_none_is_kept(home: Path) -> None:
    assert complete(home, "pas backtest show ") == []
