"""One VaR sign for every output (issue 17): ``pas risk var``, ``pas metrics show``, the
backtest table and the report all give VaR and CVaR as losses, positive, and every table
carrying them says so in its caption.

Before, ``pas risk var`` printed a 1.6% loss as 1.6% while the report, the backtest table
and ``metrics show`` printed it as −1.60%.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from pas.analytics.losses import VAR_CAPTION
from pas.backtest import BacktestResult, summarize
from pas.commands._backtest import Ran, show_summary
from pas.models import Portfolio, Schedule
from pas.report.data import historical_risk, load_report_data, statistics
from pas.report.html import render_report
from pas.schedule import is_trading_day
from pas.store.sqlite import SqliteStore
from tests.commands.conftest import Invoke
from tests.report.test_report import NOW, days

N = 80
RETURNS = [round(0.01 * math.sin(i * 1.3) + 0.0004 * (i % 7), 6) for i in range(N)]
LOSS_95 = -float(np.percentile(RETURNS, 5))  # np.percentile's linear interpolation
TAIL = sorted(RETURNS)[: int((N - 1) * 0.05) + 1]
CVAR_LOSS_95 = -sum(TAIL) / len(TAIL)


def one_line(text: str) -> str:
    """Output with its line wrapping undone (rich wraps a caption to the table's width)."""
    return " ".join(text.split())


@pytest.fixture
def posted(pas: Invoke, home: Path, tmp_path: Path) -> Invoke:
    """A portfolio with :data:`N` posted daily returns (and equity) and their statistics,
    on NYSE trading days (``metrics post`` refuses holidays)."""
    trading_days = [d for d in days(N + 10) if is_trading_day(d)][:N]
    rows = [
        f"{d.isoformat()},{r},{10_000 + i}"
        for i, (d, r) in enumerate(zip(trading_days, RETURNS, strict=True))
    ]
    (tmp_path / "returns.csv").write_text("date,return,equity\n" + "\n".join(rows) + "\n")
    with SqliteStore(home / "pas.db") as store:
        store.add_portfolio(Portfolio("lobby", "manual", Schedule.WEEKLY, datetime(2024, 12, 2, tzinfo=UTC)))
    result = pas("metrics", "post", "lobby", "--file", str(tmp_path / "returns.csv"))
    assert result.exit_code == 0, result.output
    return pas


def test_the_fixture_has_a_loss_in_its_tail() -> None:
    assert LOSS_95 > 0.005 and CVAR_LOSS_95 > LOSS_95


def test_metrics_show_gives_var_and_cvar_as_positive_losses(posted: Invoke) -> None:
    shown = json.loads(posted("metrics", "show", "lobby", "--window", "inception", "--json").stdout)
    values = shown["windows"]["inception"]["values"]
    assert values["value_at_risk"] == pytest.approx(LOSS_95, rel=1e-9)
    assert values["conditional_value_at_risk"] == pytest.approx(CVAR_LOSS_95, rel=1e-9)
    table = posted("metrics", "show", "lobby")
    assert f"{LOSS_95 * 100:.2f}%" in table.stdout and VAR_CAPTION in one_line(table.stdout)


def test_risk_var_gives_the_same_positive_loss(posted: Invoke) -> None:
    rows = json.loads(posted("risk", "var", "lobby", "--json").stdout)
    (realised,) = [r for r in rows if r["source"] == "realised" and r["confidence"] == 0.95]
    assert realised["var"] == pytest.approx(LOSS_95, rel=1e-9)
    assert realised["cvar"] == pytest.approx(CVAR_LOSS_95, rel=1e-9)
    assert VAR_CAPTION in one_line(posted("risk", "var", "lobby").stdout)


def test_the_backtest_table_gives_the_same_positive_loss(
    posted: Invoke, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with SqliteStore(home / "pas.db") as store:
        summary = summarize(store, ["lobby"], "SPY")
    assert summary.values["VaR 95% (1 day)"]["lobby"] == pytest.approx(LOSS_95, rel=1e-9)
    assert summary.values["CVaR 95% (1 day)"]["lobby"] == pytest.approx(CVAR_LOSS_95, rel=1e-9)
    capsys.readouterr()
    show_summary(Ran("261201000000ab12", BacktestResult(["lobby"], summary.days), summary), as_json=False)
    table = capsys.readouterr().out
    assert f"{LOSS_95 * 100:.2f}%" in table and VAR_CAPTION in one_line(table)


def test_the_report_gives_the_same_positive_loss_and_says_so(posted: Invoke, home: Path) -> None:
    with SqliteStore(home / "pas.db") as store:
        data = load_report_data(store, ["lobby"], "SPY", now=NOW)
    series = data.portfolios["lobby"]
    assert statistics(series, {})["VaR 95%"] == pytest.approx(LOSS_95, rel=1e-9)
    assert statistics(series, {})["CVaR 95%"] == pytest.approx(CVAR_LOSS_95, rel=1e-9)
    assert historical_risk(series).var[0.95] == pytest.approx(LOSS_95, rel=1e-9)
    html = render_report(data)
    assert f"{LOSS_95 * 100:.2f}%" in html and f"-{LOSS_95 * 100:.2f}%" not in html
    assert html.count(f"{VAR_CAPTION}.</caption>") == 2  # the statistics and the risk tables
    # the histogram's legend gives the loss (positive) beside a line drawn at minus it
    assert html.count(f"{VAR_CAPTION}.") == 3
