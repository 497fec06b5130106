"""The foundation's commands through the CLI: messages, exit codes, JSON, run records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer

from pas.cli import app
from tests.commands.conftest import Invoke

FILLS = """portfolio,symbol,side,qty,price,time,commission
demo,AAPL,buy,10,150.25,2026-01-05T15:00:00Z,0.5
demo,AAPL,buy,5,152.10,2026-01-06T15:00:00Z,0
demo,MSFT,buy,3.5,410,2026-01-06T15:10:00Z,0
demo,AAPL,sell,4,160,2026-01-07T15:00:00Z,0
"""
PRICES = "date,symbol,close\n2026-01-07,AAPL,161.5\n2026-01-07,MSFT,405.25\n"


@pytest.fixture
def demo(pas: Invoke, tmp_path: Path) -> Path:
    assert pas("portfolio", "add", "demo", "--capital", "10000").exit_code == 0
    fills = tmp_path / "fills.csv"
    fills.write_text(FILLS)
    return fills


def test_every_command_has_help_with_an_example() -> None:
    import typer.main

    group = typer.main.get_command(app)
    seen = 0

    def walk(command: object, path: str) -> None:
        nonlocal seen
        sub = getattr(command, "commands", None)
        if sub:
            for name, child in sub.items():
                walk(child, f"{path} {name}")
            return
        seen += 1
        help_text = getattr(command, "help", "") or ""
        assert help_text.strip(), f"{path} has no help"
        assert "Example: pas " in help_text, f"{path} help lacks an example"

    walk(group, "pas")
    assert seen >= 10


def test_portfolio_lifecycle(pas: Invoke) -> None:
    result = pas(
        "portfolio",
        "add",
        "lobby",
        "--strategy",
        "lobbying_growth",
        "--schedule",
        "monthly",
        "--capital",
        "25000",
        "--param",
        "top_n=15",
    )
    assert result.exit_code == 0, result.output
    assert (
        result.stdout
        == "added portfolio lobby (lobbying_growth, monthly, capital 25,000.00, broker alpaca)\n"
    )
    listed = json.loads(pas("portfolio", "list", "--json").stdout)
    assert listed == [
        {
            "id": "lobby",
            "strategy": "lobbying_growth",
            "schedule": "monthly",
            "capital": "25000",
            "params": {"top_n": 15},
            "broker": "alpaca",
            "created_at": listed[0]["created_at"],
        }
    ]
    assert pas("portfolio", "remove", "lobby").exit_code == 0
    assert json.loads(pas("portfolio", "list", "--json").stdout) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["portfolio", "add", "Bad_ID"],
            "portfolio id 'Bad_ID' must be 1-16 characters of lowercase letters",
        ),
        (["portfolio", "add", "x" * 17], f"portfolio id '{'x' * 17}' must be 1-16 characters"),
        (["portfolio", "add", "ok", "--capital", "-5"], "capital must be more than zero dollars, got -5"),
        (["portfolio", "add", "ok", "--capital", "lots"], "--capital must be a number, got 'lots'"),
        (["portfolio", "add", "ok", "--param", "top_n"], "--param 'top_n' must look like name=value"),
        (["portfolio", "show", "x"], "no portfolio 'x' (see `pas portfolio list`)"),
        (["positions", "x"], "no portfolio 'x' (see `pas portfolio list`)"),
        (["trades", "x"], "no portfolio 'x' (see `pas portfolio list`)"),
        (["portfolio", "set-weights", "x", "AAPL=1"], "no portfolio 'x' (see `pas portfolio list`)"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(pas: Invoke, args: list[str], message: str) -> None:
    result = pas(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {message}")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        (["AAPL=0.7", "MSFT=0.4"], "weights sum to 1.1, more than 1; the rest of 1 is cash, so lower them"),
        (["AAPL=-0.1"], "the weight of AAPL must be a finite number, zero or more, got -0.1"),
        (["AAPL=nan"], "the weight of AAPL must be a finite number, got 'nan'"),
        (["AAPL=inf"], "the weight of AAPL must be a finite number, got 'inf'"),
        (["AAPL"], "'AAPL' must look like SYMBOL=WEIGHT, e.g. AAPL=0.6"),
        (["AAPL=0.5", "aapl=0.1"], "AAPL is given twice"),
    ],
)
def test_set_weights_rejects_bad_weights(pas: Invoke, demo: Path, pairs: list[str], message: str) -> None:
    result = pas("portfolio", "set-weights", "demo", *pairs)
    assert (result.exit_code, result.stderr) == (2, f"error: {message}\n")


def test_set_weights_keeps_history(pas: Invoke, demo: Path) -> None:
    assert pas("portfolio", "set-weights", "demo", "AAPL=0.6", "MSFT=0.4").stdout == (
        "set 2 target weight(s) for demo; cash 0.00%\n"
    )
    # 0.1 + 0.2 + 0.7 is 1.0000000000000002 in floats; exact decimals accept it.
    assert pas("portfolio", "set-weights", "demo", "A=0.1", "B=0.2", "C=0.7").exit_code == 0
    shown = json.loads(pas("portfolio", "show", "demo", "--json").stdout)
    assert [t["weights"] for t in shown["targets"]] == [
        {"A": 0.1, "B": 0.2, "C": 0.7},
        {"AAPL": 0.6, "MSFT": 0.4},
    ]


def test_import_positions_and_trades(pas: Invoke, demo: Path, tmp_path: Path) -> None:
    prices = tmp_path / "prices.csv"
    prices.write_text(PRICES)
    assert pas("trades", "import", str(demo)).stdout == (
        "imported 4 new fill(s) into 1 portfolio(s); 0 already recorded\n"
    )
    assert pas("trades", "import", str(demo)).stdout == (
        "imported 0 new fill(s) into 1 portfolio(s); 4 already recorded\n"
    )
    assert pas("prices", "import", str(prices)).stdout == "stored 2 close(s) for 2 symbol(s)\n"
    data = json.loads(pas("positions", "demo", "--json").stdout)
    assert data["equity"] == "10136.375"
    assert data["cash"] == "6941.5"
    aapl = data["positions"][0]
    assert (aapl["symbol"], aapl["qty"], aapl["last_price"], aapl["market_value"]) == (
        "AAPL",
        "11",
        "161.5",
        "1776.5",
    )
    assert aapl["price_date"] == "2026-01-07"
    table = pas("positions", "demo").stdout
    assert "AAPL" in table and "150.8667" in table and "17.53%" in table
    assert "equity 10,136.38" in table
    trades = json.loads(pas("trades", "demo", "--symbol", "aapl", "--since", "2026-01-06", "--json").stdout)
    assert [(t["side"], t["qty"]) for t in trades] == [("buy", "5"), ("sell", "4")]


def test_bad_import_names_lines_and_writes_nothing(pas: Invoke, demo: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(FILLS + "demo,AAPL,hold,1,1,2026-01-08,0\ndemo,AAPL,buy,abc,1,2026-01-08,0\n")
    result = pas("trades", "import", str(bad))
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {bad}: 2 bad row(s), nothing imported: line 6: side must be buy or sell, got 'hold'; "
        "line 7: qty must be a number, got 'abc'\n"
    )
    assert json.loads(pas("trades", "demo", "--json").stdout) == []


def test_import_into_unknown_portfolio_is_refused(pas: Invoke, tmp_path: Path) -> None:
    fills = tmp_path / "f.json"
    fills.write_text(
        json.dumps(
            [{"portfolio": "ghost", "symbol": "A", "side": "buy", "qty": 1, "price": 2, "time": "2026-01-02"}]
        )
    )
    result = pas("trades", "import", str(fills))
    assert (result.exit_code, result.stderr) == (
        2,
        f"error: {fills}: no portfolio 'ghost' (add it with `pas portfolio add`)\n",
    )


def test_remove_refused_while_holding_unless_forced(pas: Invoke, demo: Path) -> None:
    pas("trades", "import", str(demo))
    result = pas("portfolio", "remove", "demo")
    assert (result.exit_code, result.stderr) == (
        2,
        "error: portfolio 'demo' holds 2 position(s) (AAPL, MSFT); sell them first or pass --force\n",
    )
    assert pas("portfolio", "remove", "demo", "--force").exit_code == 0
    assert pas("positions", "demo").exit_code == 2


def test_jobs_lists_runs_with_outcomes(pas: Invoke, demo: Path, tmp_path: Path) -> None:
    pas("trades", "import", str(demo))
    missing = tmp_path / "missing.csv"
    runs = json.loads(pas("jobs", "--json").stdout)
    assert [(r["command"], r["status"]) for r in runs] == [("trades import", "ok"), ("portfolio add", "ok")]
    assert runs[0]["details"]["new"] == 4
    assert pas("trades", "import", str(missing)).exit_code == 2
    assert len(json.loads(pas("jobs", "--json", "--limit", "1").stdout)) == 1


def test_failed_run_is_recorded(pas: Invoke, demo: Path) -> None:
    pas("portfolio", "add", "twin")
    result = pas("portfolio", "add", "twin")
    assert result.stderr == "error: portfolio 'twin' exists already (see `pas portfolio show twin`)\n"
    latest = json.loads(pas("jobs", "--json", "--limit", "1").stdout)[0]
    assert (latest["status"], latest["error"]) == (
        "failed",
        "portfolio 'twin' exists already (see `pas portfolio show twin`)",
    )


def test_config_masks_secrets_and_rejects_bad_values(pas: Invoke) -> None:
    result = pas("config", "--json", env={"ALPACA_API_SECRET": "abcdefghijkl", "QUIVER_RATE_SEC": "2.5"})
    data = json.loads(result.stdout)
    assert data["settings"]["ALPACA_API_SECRET"] == {"value": "abcd…", "source": "environment"}
    assert data["settings"]["QUIVER_RATE_SEC"]["value"] == "2.5"
    assert "abcdefghijkl" not in result.output
    bad = pas("config", env={"MIN_ALLOCATION": "0.9", "MAX_ALLOCATION": "0.1"})
    assert bad.exit_code == 2
    assert bad.stderr.startswith("error: MIN_ALLOCATION (0.9) is above MAX_ALLOCATION (0.1)")


def test_env_file_is_read(pas: Invoke, tmp_path: Path) -> None:
    env_file = tmp_path / "pas.env"
    env_file.write_text("DB_NAME=from_file\n")
    data = json.loads(pas("--env-file", str(env_file), "config", "--json").stdout)
    assert data["settings"]["DB_NAME"]["value"] == "from_file"
    missing = pas("--env-file", str(tmp_path / "nope.env"), "config")
    assert missing.exit_code == 2


def test_unexpected_errors_are_one_line_and_debug_shows_traceback(
    pas: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pas.store.sqlite import SqliteStore

    def boom(self: SqliteStore, limit: int = 20) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(SqliteStore, "recent_runs", boom)
    result = pas("jobs")
    assert (result.exit_code, result.stderr) == (
        1,
        "error: unexpected RuntimeError: disk on fire (run with --debug for the traceback)\n",
    )
    debug = pas("--debug", "jobs")
    assert "Traceback" in debug.stderr and debug.exit_code == 1


def test_usage_errors_exit_2(pas: Invoke) -> None:
    assert pas("portfolio", "add").exit_code == 2
    assert pas("no-such-command").exit_code == 2
    assert pas("portfolio", "add", "x", "--schedule", "hourly").exit_code == 2


def test_version() -> None:
    from typer.testing import CliRunner

    assert CliRunner().invoke(app, ["--version"]).stdout.startswith("pas ")
    assert isinstance(app, typer.Typer)


def test_the_example_files_import(pas: Invoke) -> None:
    # The README points at these files as samples of the formats; they must stay valid.
    examples = Path(__file__).parents[2] / "examples"
    assert pas("portfolio", "add", "starter", "--capital", "10000").exit_code == 0
    assert pas("trades", "import", str(examples / "fills.csv")).stdout.startswith("imported 5 new fill(s)")
    assert pas("prices", "import", str(examples / "prices.csv")).exit_code == 0
    data = json.loads(pas("positions", "starter", "--json").stdout)
    assert [p["symbol"] for p in data["positions"]] == ["AAPL", "BRK.B", "MSFT"]
    assert all(p["market_value"] is not None for p in data["positions"])
