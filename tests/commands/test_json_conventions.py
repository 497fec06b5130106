"""One set of ``--json`` conventions: every command's output validates against its schema
under docs/json/, and the write commands and file readers follow the same rules."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
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


def test_every_schema_is_valid_and_names_its_command() -> None:
    for path in SCHEMAS.glob("*.json"):
        schema = schema_of(path.stem)
        Draft202012Validator.check_schema(schema)
        assert schema["$id"] == f"urn:pas:json:{path.stem}"


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
    # Validated where those tests build what the command needs: the backtest, the
    # allocation, the build, the metrics update and the scrape (tests/commands/test_*.py).
    elsewhere = {"backtest", "allocate", "allocate-history", "build", "metrics-update", "scrape", "rebalance"}
    tested = set(outputs) | set(book) | elsewhere | {"defs"}
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
