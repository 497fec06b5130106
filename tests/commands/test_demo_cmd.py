"""`pas demo` through the command line (a shortened backtest; the full one is a benchmark)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import pas.commands.demo as demo_cmd
from pas.store.sqlite import SqliteStore
from tests.commands.conftest import Invoke


def test_demo_runs_offline_end_to_end_and_writes_a_report(
    pas: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The sample spans three years; a late start keeps this test to a few simulated months.
    monkeypatch.setattr(demo_cmd, "WARM_UP", timedelta(days=900))
    home = tmp_path / "demo"
    result = pas("demo", "--home", str(home), env={"MONGO_URI": "mongodb://127.0.0.1:1"})
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"pas demo: a fresh embedded store in {home} (synthetic sample data, not market data)" in out
    assert "registered 5 portfolios, one per strategy: lobbying, congress, wiki, insiders, contracts" in out
    for section in (
        "Positions at the end of the backtest",
        "annual return",
        "combined",
        "Allocation (score)",
    ):
        assert section in out
    report = home / "report.html"
    assert f"report: {report}" in out
    assert report.read_text().count("data:image/png;base64,") >= 5
    (kept,) = (home / "backtests").glob("*.db")  # the demo's one kept run
    with SqliteStore(kept) as backtest:
        assert any(backtest.fills(p) for p in ("lobbying", "congress", "wiki", "insiders", "contracts"))
    with SqliteStore(home / "pas.db") as live:
        assert [p.id for p in live.list_portfolios()] == [
            "congress",
            "contracts",
            "insiders",
            "lobbying",
            "wiki",
        ]
        assert live.fills("insiders") == [], "the backtest never writes live positions"
    (run,) = [r for r in live_runs(pas, home) if r["command"] == "demo"]
    assert isinstance(run["details"]["notes"], list), "every note of the backtest is in the run record"
    assert "removed the demo's stores" not in out, "--home keeps them"
    assert f"kept as run {kept.stem}: `pas backtest show {kept.stem}`" in out


def live_runs(pas: Invoke, home: Path) -> list[dict[str, Any]]:
    result = pas("jobs", "--json", env={"PAS_HOME": str(home)})
    assert result.exit_code == 0, result.output
    runs: list[dict[str, Any]] = json.loads(result.stdout)
    return runs


def test_demo_without_home_removes_its_stores_and_says_so(
    pas: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo_cmd, "WARM_UP", timedelta(days=1000))
    folder = tmp_path / "pas-demo-x"
    folder.mkdir()
    monkeypatch.setattr(demo_cmd.tempfile, "mkdtemp", lambda prefix: str(folder))
    result = pas("demo")
    assert result.exit_code == 0, result.output
    assert (folder / "report.html").is_file() and not list(folder.glob("*.db*"))
    assert (
        f"removed the demo's stores from {folder} (the report stays); --keep or --home keeps them"
        in result.stdout
    )
    assert "kept as run" not in result.stdout, "no run to show once its store is gone"


def test_demo_refuses_a_home_that_is_not_empty(pas: Invoke, tmp_path: Path) -> None:
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "pas.db").write_text("")
    result = pas("demo", "--home", str(tmp_path / "used"))
    assert (result.exit_code, result.stderr) == (
        2,
        f"error: --home {tmp_path / 'used'} is not an empty directory; the demo needs a fresh one\n",
    )
