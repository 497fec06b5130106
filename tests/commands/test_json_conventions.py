"""One set of ``--json`` conventions: every command's output validates against its schema
under docs/json/, and the write commands and file readers follow the same rules."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from typer.testing import CliRunner, Result

from pas.cli import app

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "json"
# Three buys whose average cost is a repeating decimal (151.2666…), then a sale.
FILLS = """portfolio,symbol,side,qty,price,time,commission
book,AAPL,buy,3,150,2026-01-05T15:00:00Z,0.5
book,AAPL,buy,3,151.6,2026-01-06T15:00:00Z,0
book,AAPL,buy,3,152.2,2026-01-07T15:00:00Z,0
book,MSFT,buy,2,410,2026-01-06T15:10:00Z,0
"""
PRICES = "date,symbol,close\n" + "".join(
    f"2026-01-{d:02d},AAPL,{150 + d * 0.7:.2f}\n2026-01-{d:02d},MSFT,{400 + (d % 3) * 4}\n"
    for d in range(5, 31)
    if d % 7 not in (3, 4) and d != 19  # weekends of January 2026 and Martin Luther King Day
)
RETURNS = "date,return,equity\n" + "".join(
    f"2026-01-{d:02d},{(-1) ** d * 0.004 * (d % 5)},{10000 + d * 10}\n"
    for d in range(5, 31)
    if d % 7 not in (3, 4) and d != 19
)

AVG_COST = "151.266666667"  # (3 × 150 + 3 × 151.6 + 3 × 152.2) / 9 = 151.2666…

Run = Callable[..., Result]


def schema_of(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS / f"{name}.json").read_text())
    return loaded


def registry() -> Registry:
    resources = [Resource.from_contents(schema_of(p.stem)) for p in sorted(SCHEMAS.glob("*.json"))]
    return Registry().with_resources((r.contents["$id"], r) for r in resources)


def check(name: str, output: str) -> Any:
    data = json.loads(output)
    Draft202012Validator(schema_of(name), registry=registry()).validate(data)
    return data


@pytest.fixture
def run(tmp_path: Path) -> Run:
    runner = CliRunner()

    def invoke(*args: str, stdin: str | None = None) -> Result:
        result = runner.invoke(app, list(args), env={"PAS_HOME": str(tmp_path / "home")}, input=stdin)
        assert result.exit_code == 0, result.output
        return result

    return invoke


@pytest.fixture
def book(run: Run, tmp_path: Path) -> dict[str, Any]:
    """A portfolio built through the write commands' --json, their outputs by command."""
    fills = tmp_path / "fills.csv"
    fills.write_text(FILLS)
    return {
        "portfolio-add": check(
            "portfolio-add", run("portfolio", "add", "book", "--capital", "10000", "--json").stdout
        ),
        "portfolio-fund": check("portfolio-fund", run("portfolio", "fund", "book", "500", "--json").stdout),
        "trades-import": check("trades-import", run("trades", "import", str(fills), "--json").stdout),
        "prices-import": check("prices-import", run("prices", "import", "-", "--json", stdin=PRICES).stdout),
    }


# Schemas that are not one command's --json: the shared definitions, and a second shape
# of one command's output (``allocate --history``).
NOT_A_COMMAND = {"defs", "allocate-history"}
# Where a schema is validated, outside the tests of this file: the tests that build what the
# command needs (a backtest, an allocation, a scrape against the fake Quiver, a trading run
# or a sync against the fake Alpaca, ...).
VALIDATED_ELSEWHERE = {
    "backtest": "tests/commands/test_backtest_cmd.py",
    "allocate": "tests/commands/test_allocate_cmd.py",
    "allocate-history": "tests/commands/test_allocate_cmd.py",
    "build": "tests/commands/test_build.py",
    "metrics-update": "tests/commands/test_metrics_cmd.py",
    "scrape": "tests/commands/test_scrape.py",
    "data": "tests/commands/test_scrape.py",
    "rebalance": "tests/commands/test_trading_cmd.py",
    "sync": "tests/commands/test_trading_alpaca.py",
    "reconcile": "tests/commands/test_trading_alpaca.py",
    "prices-fetch": "tests/commands/test_prices_fetch.py",
    "risk-reset": "tests/commands/test_risk_cmd.py",
    "schedule": "tests/unattended/test_tick_cli.py",
    "doctor": "tests/unattended/test_doctor.py",
}


def json_commands() -> set[str]:
    """Every command that takes ``--json``, named as its schema is: ``portfolio add`` → portfolio-add."""
    found: set[str] = set()

    def walk(command: Any, path: tuple[str, ...]) -> None:
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, (*path, name))
        if any("--json" in getattr(p, "opts", ()) for p in command.params):
            found.add("-".join(path))

    walk(typer.main.get_command(app), ())
    return found


def test_every_schema_is_valid_and_names_its_command() -> None:
    for path in SCHEMAS.glob("*.json"):
        schema = schema_of(path.stem)
        Draft202012Validator.check_schema(schema)
        assert schema["$id"] == f"urn:pas:json:{path.stem}"


def test_every_command_with_json_has_a_schema_and_every_schema_a_command() -> None:
    schemas = {p.stem for p in SCHEMAS.glob("*.json")}
    assert sorted(json_commands() - schemas) == [], "a command with --json but no schema in docs/json/"
    assert sorted(schemas - NOT_A_COMMAND - json_commands()) == [], "a schema of no command"


def test_every_schema_is_validated_by_a_test() -> None:
    root = SCHEMAS.parents[1]
    for name, where in VALIDATED_ELSEWHERE.items():
        assert f'check("{name}"' in (root / where).read_text(), f"{where} does not validate {name}"


def test_write_commands_answer_in_json(book: dict[str, Any]) -> None:
    assert book["portfolio-add"]["portfolio"]["capital"] == "10000"
    assert (book["portfolio-fund"]["amount"], book["portfolio-fund"]["funded"]) == ("500", "10500")
    assert book["trades-import"]["new"] == 4 and book["trades-import"]["portfolios"] == ["book"]
    assert book["prices-import"]["symbols"] == ["AAPL", "MSFT"]


def test_read_commands_validate_against_their_schemas(run: Run, book: dict[str, Any]) -> None:
    run("metrics", "post", "book", "--file", "-", "--replace", stdin=RETURNS)
    outputs = {
        "portfolio-list": ["portfolio", "list"],
        "portfolio-show": ["portfolio", "show", "book"],
        "positions": ["positions", "book"],
        "trades-list": ["trades", "book"],
        "jobs": ["jobs"],
        "config": ["config"],
        "metrics-show": ["metrics", "show", "book"],
        "risk-var": ["risk", "var", "--lookback", "10"],
        "risk-exposure": ["risk", "exposure"],
        "risk-status": ["risk", "status"],
    }
    shown = {name: check(name, run(*args, "--json").stdout) for name, args in outputs.items()}
    assert any(r["var_dollars"] is not None for r in shown["risk-var"]), "VaR was computed"
    windows = [w for w in shown["metrics-show"]["windows"].values() if w is not None]
    assert windows and all(isinstance(w["values"]["days"], int) for w in windows)
    tested = set(outputs) | set(book) | set(VALIDATED_ELSEWHERE) | {"defs"}
    assert tested == {p.stem for p in SCHEMAS.glob("*.json")}, "a schema no test validates"


def test_average_cost_is_at_the_ledgers_precision(run: Run, book: dict[str, Any]) -> None:
    (aapl, _) = check("positions", run("positions", "book", "--json").stdout)["positions"]
    # The exact quotient has 28 digits; JSON shows it rounded half-even to 10⁻⁹ dollars.
    assert aapl["avg_cost"] == AVG_COST


def test_an_extra_column_is_reported(run: Run, tmp_path: Path) -> None:
    run("portfolio", "add", "book")
    fills = tmp_path / "fills.csv"
    fills.write_text("portfolio,symbol,side,qty,price,time,comission\nbook,AAPL,buy,1,100,2026-01-05,1\n")
    result = run("trades", "import", str(fills), "--json")
    assert json.loads(result.stdout)["ignored_columns"] == ["comission"]
    assert f"note: {fills}: ignored column(s) 'comission'; the README lists the columns read" in result.stderr


def test_a_portfolio_option_contradicting_the_file_is_refused(tmp_path: Path) -> None:
    fills = tmp_path / "fills.csv"
    fills.write_text(FILLS)
    env = {"PAS_HOME": str(tmp_path / "home")}
    runner = CliRunner()
    for pid in ("book", "man"):
        assert runner.invoke(app, ["portfolio", "add", pid], env=env).exit_code == 0
    result = runner.invoke(app, ["trades", "import", str(fills), "--portfolio", "man"], env=env)
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"error: {fills}: 4 bad row(s), nothing imported: line 2: portfolio column says 'book' "
        "but --portfolio says 'man'; drop one of them"
    )
    assert runner.invoke(app, ["trades", "man", "--json"], env=env).stdout.strip() == "[]"
