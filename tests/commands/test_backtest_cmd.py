"""`pas backtest` through the command line."""

from __future__ import annotations

from pathlib import Path

from pas.models import Portfolio
from pas.store.sqlite import SqliteStore
from tests.backtest.conftest import DAYS, PORTFOLIOS, awards, closes
from tests.commands.conftest import Invoke
from tests.commands.test_json_conventions import check


def seed(home: Path) -> None:
    with SqliteStore(home / "pas.db") as store:
        store.upsert_prices(closes())
        store.upsert_records("contracts", awards())
        for p in PORTFOLIOS:
            store.add_portfolio(p)
        store.add_portfolio(Portfolio("hand", "manual", p.schedule, p.created_at))


def test_backtest_prints_statistics_and_keeps_live_data_apart(pas: Invoke, home: Path) -> None:
    seed(home)
    result = pas("backtest", "--start", str(DAYS[0]), "--end", str(DAYS[-1]), "--json",
                 env={"MAX_POSITION_WEIGHT": "0.5"})  # fmt: skip
    assert result.exit_code == 0, result.output
    data = check("backtest", result.stdout)
    assert data["portfolios"] == ["gov", "gov2"], "manual portfolios are not backtested"
    assert set(data["statistics"]["sharpe_ratio"]) == {"gov", "gov2", "combined", "SPY"}
    assert data["rebalances"] > 0 and data["days"] == len(DAYS)
    assert (home / "backtest.db").is_file()
    with SqliteStore(home / "pas.db") as live:
        assert live.fills("gov") == [], "live positions are never touched"
        assert live.recent_runs(1)[0].command == "backtest"
    table = pas("backtest", "--strategy", "gov_contracts", "--start", str(DAYS[0]), "--end", str(DAYS[-1]),
                "--allocation", "none")  # fmt: skip
    assert table.exit_code == 0, table.output
    assert "annual return" in table.stdout and "gov_contracts" in table.stdout and "SPY" in table.stdout


def test_backtest_bad_input_exits_2(pas: Invoke, home: Path) -> None:
    seed(home)
    cases = [
        (
            ["--start", "2025-13-01", "--end", "2025-12-31"],
            "error: --start '2025-13-01' is not a day; use YYYY-MM-DD",
        ),
        (
            ["--start", "2030-01-01", "--end", "2030-02-01"],
            "error: no stored close of SPY (BENCHMARK) between",
        ),
        (
            ["--start", "2025-01-02", "--end", "2025-03-01", "--allocation", "magic"],
            "error: --allocation must be one of",
        ),
        (["--start", "2025-01-02", "--end", "2025-03-01", "--strategy", "nope"], "error: "),
        (["--start", "2025-01-02", "--end", "2025-03-01", "-p", "ghost"], "error: no portfolio 'ghost'"),
    ]
    for args, message in cases:
        result = pas("backtest", *args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.startswith(message), result.stderr
