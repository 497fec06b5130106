"""``pas metrics post/update/show`` through the CLI: messages, exit codes, what is stored."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from pas.store.sqlite import SqliteStore
from tests.commands.conftest import Invoke
from tests.commands.test_json_conventions import check

# Closes of fixed days long past, on the real clock (staleness: test_stale_data.py).
pytestmark = pytest.mark.usefixtures("closes_of_long_ago")

CLOSES = "date,symbol,close\n2026-01-02,SPY,500\n2026-01-05,SPY,500\n2026-01-06,SPY,505\n2026-01-07,SPY,510\n"
FILLS = "portfolio,symbol,side,qty,price,time,commission\nlobby,AAPL,buy,10,100,2026-01-05T15:00:00Z,1\n"


@pytest.fixture
def lobby(pas: Invoke, tmp_path: Path) -> Invoke:
    """A portfolio with 10,000 of capital that bought AAPL on 2026-01-05, and closes."""
    (tmp_path / "closes.csv").write_text(CLOSES + "2026-01-05,AAPL,100\n2026-01-06,AAPL,110\n")
    (tmp_path / "fills.csv").write_text(FILLS)
    for args in (
        ("portfolio", "add", "lobby", "--capital", "10000"),
        ("prices", "import", str(tmp_path / "closes.csv")),
        ("trades", "import", str(tmp_path / "fills.csv")),
    ):
        assert pas(*args).exit_code == 0
    return pas


def stored(home: Path, portfolio: str = "lobby") -> list[tuple[str, float, str]]:
    with SqliteStore(home / "pas.db") as store:
        return [(m.day.isoformat(), m.ret, m.source) for m in store.daily_metrics(portfolio)]


def test_update_computes_missing_days_then_is_up_to_date(lobby: Invoke, home: Path) -> None:
    first = lobby("metrics", "update", "lobby")
    assert first.exit_code == 0, first.output
    assert first.output == "lobby: 2 new day(s), 2026-01-06 to 2026-01-07\n"
    assert stored(home) == [
        ("2026-01-06", pytest.approx(10099 / 9999 - 1), "update"),
        ("2026-01-07", 0.0, "update"),  # AAPL's close of the 6th carried forward
    ]
    again = lobby("metrics", "update", "--all", "--json")
    assert again.exit_code == 0
    assert check("metrics-update", again.output) == {"portfolios": [{"portfolio": "lobby", "written": 0}]}
    with SqliteStore(home / "pas.db") as store:
        stats = store.trailing_stats("lobby", "inception")
        assert stats is not None and stats.as_of == date(2026, 1, 7) and stats.values["days"] == 2
        assert [r.command for r in store.recent_runs()][:2] == ["metrics update", "metrics update"]


def test_update_without_closes_or_capital_fails_with_the_fix(pas: Invoke, tmp_path: Path) -> None:
    assert pas("portfolio", "add", "bare").exit_code == 0
    result = pas("metrics", "update", "bare")
    assert (result.exit_code, result.output) == (
        2,
        "error: portfolio bare has no capital and no cash flows, so it has no equity; "
        "fund it with `pas portfolio fund bare AMOUNT`\n",
    )
    (tmp_path / "fills.csv").write_text(FILLS)
    assert pas("portfolio", "add", "lobby", "--capital", "100").exit_code == 0
    assert pas("trades", "import", str(tmp_path / "fills.csv")).exit_code == 0
    result = pas("metrics", "update", "lobby")
    assert (result.exit_code, result.output) == (
        1,
        "error: no closes of the benchmark SPY are stored; run `pas prices fetch` first\n",
    )


def test_update_all_goes_on_after_a_failing_portfolio_and_exits_1(lobby: Invoke) -> None:
    assert lobby("portfolio", "add", "bare").exit_code == 0
    result = lobby("metrics", "update", "--all")
    assert result.exit_code == 1
    assert "lobby: 2 new day(s), 2026-01-06 to 2026-01-07\n" in result.output
    assert result.output.endswith("error: metrics not updated for bare (see above)\n")


def test_update_needs_an_id_or_all(pas: Invoke) -> None:
    result = pas("metrics", "update")
    assert (result.exit_code, result.output) == (2, "error: give a portfolio ID or --all\n")


def test_post_validates_refuses_existing_days_and_replaces(lobby: Invoke, home: Path) -> None:
    ok = lobby("metrics", "post", "lobby", "--date", "2026-01-06", "--return", "0.02", "--equity", "10200")
    assert (ok.exit_code, ok.output) == (
        0,
        "posted 1 day(s) for lobby; statistics recomputed from 2026-01-06\n",
    )
    again = lobby("metrics", "post", "lobby", "--date", "2026-01-06", "--return", "0.03")
    assert (again.exit_code, again.output) == (
        2,
        "error: nothing posted: 2026-01-06 is already posted (add --replace to overwrite it)\n",
    )
    assert stored(home) == [("2026-01-06", 0.02, "post")]
    replaced = lobby("metrics", "post", "lobby", "--date", "2026-01-06", "--return", "0.03", "--replace")
    assert replaced.exit_code == 0
    assert stored(home) == [("2026-01-06", 0.03, "post")]
    with SqliteStore(home / "pas.db") as store:
        metric = store.daily_metrics("lobby")[0]
        assert metric.equity is None and metric.benchmark_ret == pytest.approx(0.01)
    # update fills only the missing day
    assert lobby("metrics", "update", "lobby").output == "lobby: 1 new day(s), 2026-01-07 to 2026-01-07\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--date", "2999-01-05", "--return", "0.01"),
            "nothing posted: 2999-01-05 is in the future (today is ",
        ),
        (
            ("--date", "2025-12-31", "--return", "0.01"),
            "nothing posted: 2025-12-31 is before the portfolio existed (2026-01-05)",
        ),
        (("--date", "2026-01-06", "--return", "nan"), "--return must be a finite number, got 'nan'"),
        (("--date", "2026-01-06", "--return", "-1.01"), "--return -1.01 is below -100% (-1)"),
        (("--date", "06/01/2026", "--return", "0"), "--date '06/01/2026' is not a day; use YYYY-MM-DD"),
        (
            (
                "--return",
                "0.01",
            ),
            "give --date and --return (or --file with many days)",
        ),
    ],
)
def test_post_bad_input_exits_2_and_writes_nothing(
    lobby: Invoke, home: Path, args: tuple[str, ...], message: str
) -> None:
    result = lobby("metrics", "post", "lobby", *args)
    assert result.exit_code == 2
    assert result.output.startswith(f"error: {message}")
    assert stored(home) == []


def test_post_a_file_is_all_or_nothing(lobby: Invoke, home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("date,return,equity\n2026-01-06,0.01,10100\n2026-01-07,abc,\n")
    result = lobby("metrics", "post", "lobby", "--file", str(bad))
    assert (result.exit_code, result.output) == (
        2,
        f"error: {bad}: 1 bad row(s), nothing posted: line 3: return must be a number such as 0.0125 "
        "(for +1.25%), got 'abc'\n",
    )
    assert stored(home) == []
    good = tmp_path / "good.csv"
    good.write_text("date,return,equity\n2026-01-07,-0.01,\n2026-01-06,0.01,10100\n")
    result = lobby("metrics", "post", "lobby", "--file", str(good))
    assert result.output == "posted 2 day(s) for lobby; statistics recomputed from 2026-01-06\n"
    assert stored(home) == [("2026-01-06", 0.01, "post"), ("2026-01-07", -0.01, "post")]


def test_post_a_file_reports_a_column_it_does_not_read(lobby: Invoke, home: Path, tmp_path: Path) -> None:
    misspelt = tmp_path / "track.csv"
    misspelt.write_text("date,return,equty\n2026-01-06,0.01,10100\n")
    result = lobby("metrics", "post", "lobby", "--file", str(misspelt))
    assert result.exit_code == 0, result.output
    note = f"note: {misspelt}: ignored column(s) 'equty'; the README lists the columns read\n"
    assert result.stderr == note
    assert stored(home) == [("2026-01-06", 0.01, "post")]
    with SqliteStore(home / "pas.db") as store:
        assert store.recent_runs()[0].details["ignored_columns"] == "equty"


def test_show_prints_a_table_one_window_and_json(lobby: Invoke) -> None:
    assert lobby("metrics", "show", "lobby").output == (
        "no statistics for lobby yet; run `pas metrics update lobby` or post returns\n"
    )
    lobby("metrics", "update", "lobby")
    table = lobby("metrics", "show", "lobby")
    assert table.exit_code == 0
    assert "lobby: statistics as of 2026-01-07" in table.output
    assert "│ days                      │  2 │   2 │   2 │         2 │" in table.output
    one = json.loads(lobby("metrics", "show", "lobby", "--window", "inception", "--json").output)
    values = one["windows"]["inception"]["values"]
    assert one["windows"]["inception"]["as_of"] == "2026-01-07"
    assert values["days"] == 2 and values["calmar_ratio"] is None and values["sortino_ratio"] == "inf"
    bad = lobby("metrics", "show", "lobby", "--window", "30")
    assert (bad.exit_code, bad.output) == (
        2,
        "error: --window must be one of 63, 126, 252, inception, not '30'\n",
    )
