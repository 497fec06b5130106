"""Kept backtest runs: `pas backtest list/show/compare/rm` through the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pas.backtest_runs import code_version
from tests.backtest.conftest import DAYS
from tests.commands.conftest import Invoke
from tests.commands.test_backtest_cmd import seed
from tests.commands.test_json_conventions import check

PERIOD = ["--start", str(DAYS[0]), "--end", str(DAYS[-1])]
LIMITS = {"MAX_POSITION_WEIGHT": "0.5"}


def backtest(pas: Invoke, *args: str) -> str:
    result = pas("backtest", *PERIOD, *args, "--json", env=LIMITS)
    assert result.exit_code == 0, result.output
    run_id: str = check("backtest", result.stdout)["run"]
    return run_id


def test_each_run_is_kept_listed_shown_compared_and_removed(pas: Invoke, home: Path) -> None:
    seed(home)
    first = backtest(pas, "--allocation", "none")
    second = backtest(pas, "--allocation", "equal", "--capital", "50000")
    assert first != second
    listed = check("backtest-list", pas("backtest", "list", "--json").stdout)["runs"]
    assert [r["run"] for r in listed] == [first, second]
    assert [(r["status"], r["allocation"], r["capital"]) for r in listed] == [
        ("ok", None, "100000"),
        ("ok", "equal", "50000"),
    ], "money as decimal strings"
    assert {(r["start"], r["end"]) for r in listed} == {(str(DAYS[0]), str(DAYS[-1]))}
    assert {r["code_version"] for r in listed} == {code_version()}
    assert all(r["portfolios"] == ["gov", "gov2"] for r in listed)

    shown = check("backtest-show", pas("backtest", "show", second, "--json").stdout)
    assert shown["parameters"]["capital"] == "50000" and shown["parameters"]["benchmark"] == "SPY"
    assert shown["parameters"]["portfolios"]["gov"]["strategy"] == "gov_contracts"
    assert isinstance(shown["rebalances"], int) and shown["rebalances"] > 0
    assert set(shown["statistics"]["sharpe_ratio"]) == {"gov", "gov2", "combined", "SPY"}
    assert shown["data_cut"] and shown["last_close"] == str(DAYS[-1])
    table = pas("backtest", "show", second)
    assert table.exit_code == 0 and "annual return" in table.stdout and "code version" in table.stdout

    compared = check("backtest-compare", pas("backtest", "compare", first, second, "--json").stdout)
    final = {(r["book"], r["statistic"]): r for r in compared["rows"]}
    row = final[("combined", "annual_return")]
    assert row["difference"] == row["second"] - row["first"]
    assert {r["book"] for r in compared["rows"]} == {"gov", "gov2", "combined", "SPY"}
    assert pas("backtest", "compare", first, second).exit_code == 0

    removed = pas("backtest", "rm", first)
    assert (removed.exit_code, removed.stdout) == (0, f"deleted 1 backtest run(s): {first}\n")
    assert [r["run"] for r in json.loads(pas("backtest", "list", "--json").stdout)["runs"]] == [second]
    assert not (home / "backtests" / f"{first}.db").exists()


def test_unknown_runs_and_a_missing_period_exit_2(pas: Invoke, home: Path) -> None:
    seed(home)
    for args, message in (
        (["show", "nope"], "error: no kept backtest run; run `pas backtest` first\n"),
        ([], "error: pas backtest needs --start and --end (YYYY-MM-DD), or a command such as `list`\n"),
    ):
        result = pas("backtest", *args)
        assert (result.exit_code, result.stderr) == (2, message)
    kept = backtest(pas)
    for args in (["show", "nope"], ["compare", kept, "nope"], ["rm", kept, "nope"]):
        result = pas("backtest", *args)
        assert (result.exit_code, result.stderr) == (
            2,
            "error: no backtest run 'nope'; see `pas backtest list`\n",
        )
    assert (home / "backtests" / f"{kept}.db").exists(), "rm deletes nothing when one run is unknown"
    assert pas("backtest", "list").stdout.count(kept) == 1


def test_walk_forward_holds_the_allocation_out_of_sample_and_reports_both(pas: Invoke, home: Path) -> None:
    seed(home)
    result = pas("backtest", *PERIOD, "--allocation", "equal", "--walk-forward", "--in-sample", "20",
                 "--out-of-sample", "10", "--json", env=LIMITS)  # fmt: skip
    assert result.exit_code == 0, result.output
    data = check("backtest", result.stdout)
    walk = data["walk_forward"]
    phases = [w["phase"] for w in walk["windows"]]
    assert phases[:4] == ["in_sample", "out_of_sample", "in_sample", "out_of_sample"]
    assert walk["windows"][0]["start"] == str(DAYS[0]) and walk["windows"][1]["start"] == str(DAYS[20])
    out_days = sum(1 for i in range(len(DAYS)) if i % 30 >= 20)
    assert walk["out_of_sample"]["days"] == out_days, "every out-of-sample day has a return"
    assert walk["in_sample"]["days"] <= len(DAYS) - out_days  # none before the first trade
    assert set(walk["out_of_sample"]["statistics"]["sharpe_ratio"]) == {"gov", "gov2", "combined", "SPY"}
    # Weekly refits in sample; one fit at the start of each out-of-sample window, then held.
    weeks_in = {d.isocalendar()[:2] for i, d in enumerate(DAYS) if i % 30 < 20}
    windows_out = sum(1 for p in phases if p == "out_of_sample")
    assert data["allocations"] <= len(weeks_in) + windows_out
    shown = json.loads(pas("backtest", "show", data["run"], "--json").stdout)
    assert shown["parameters"]["walk_forward"] == {"in_sample": 20, "out_of_sample": 10}
    table = pas(
        "backtest", *PERIOD, "--walk-forward", "--in-sample", "20", "--out-of-sample", "10", env=LIMITS
    )
    assert "in-sample:" in table.stdout and "out-of-sample:" in table.stdout


def test_walk_forward_windows_alternate_and_hold_after_each_window_opens() -> None:
    from datetime import date, timedelta

    from pas.walk_forward import IN_SAMPLE, OUT_OF_SAMPLE, WalkForward

    walk = WalkForward(3, 2)
    days = [date(2025, 1, 1) + timedelta(days=i) for i in range(8)]
    assert [walk.phase(i) for i in range(8)] == [IN_SAMPLE] * 3 + [OUT_OF_SAMPLE] * 2 + [IN_SAMPLE] * 3
    assert [walk.held(i) for i in range(8)] == [False, False, False, False, True, False, False, False]
    assert walk.windows(days) == [
        (IN_SAMPLE, days[0], days[2]),
        (OUT_OF_SAMPLE, days[3], days[4]),
        (IN_SAMPLE, days[5], days[7]),
    ]


def _kept_as(home: Path, run_id: str, pid: int, host: str) -> None:
    """A kept run whose record says it is running in process ``pid`` on ``host``."""
    from datetime import UTC, datetime

    from pas.models import Run, RunStatus
    from pas.store.sqlite import SqliteStore

    (home / "backtests").mkdir(parents=True, exist_ok=True)
    with SqliteStore(home / "backtests" / f"{run_id}.db") as store:
        details = {"pid": pid, "host": host, "first_day": str(DAYS[0])}
        store.start_run(Run(run_id, "backtest", datetime.now(UTC), RunStatus.RUNNING, details=details))


def test_rm_refuses_a_running_run_and_deletes_an_abandoned_one(pas: Invoke, home: Path) -> None:
    # A running backtest whose namespace was deleted went on to say "kept as run X".
    import os
    import socket
    import subprocess
    import sys

    here = socket.gethostname()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    _kept_as(home, "261201000000aaaa", os.getpid(), here)  # this process: alive
    _kept_as(home, "261201000000bbbb", int(gone.stdout), here)  # killed: abandoned
    _kept_as(home, "261201000000cccc", os.getpid(), "another-host")  # cannot be probed
    refused = pas("backtest", "rm", "261201000000bbbb", "261201000000aaaa")
    assert (refused.exit_code, refused.stderr) == (
        4,
        f"error: backtest run 261201000000aaaa is still running (pid {os.getpid()} on {here}); "
        "wait for it to end or stop it, then remove it (--force removes it anyway)\n",
    )
    assert len(list((home / "backtests").glob("*.db"))) == 3, "nothing is deleted when one is running"
    assert pas("backtest", "rm", "261201000000bbbb").exit_code == 0
    assert pas("backtest", "rm", "261201000000cccc").exit_code == 4
    forced = pas("backtest", "rm", "--force", "261201000000cccc", "261201000000aaaa")
    assert forced.exit_code == 0, forced.output
    assert list((home / "backtests").glob("*.db")) == []


def test_a_backtest_is_judged_abandoned_by_this_hosts_pas_host_id(pas: Invoke, home: Path) -> None:
    # two containers of one image share the host name: each judged the other's running
    # backtests abandoned by it, while run records, locks and alerts go by PAS_HOST_ID
    import socket
    import subprocess
    import sys

    gone = int(
        subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True).stdout
    )
    _kept_as(home, "261201000000aaaa", gone, socket.gethostname())  # the other container's
    _kept_as(home, "261201000000bbbb", gone, "box-a")  # this container's, its process gone
    box_a = {"PAS_HOST_ID": "box-a"}
    listed = check("backtest-list", pas("backtest", "list", "--json", env=box_a).stdout)["runs"]
    assert [(r["run"], r["status"]) for r in listed] == [
        ("261201000000aaaa", "running"),
        ("261201000000bbbb", "abandoned"),
    ]
    assert pas("backtest", "rm", "261201000000aaaa", env=box_a).exit_code == 4
    assert pas("backtest", "rm", "261201000000bbbb", env=box_a).exit_code == 0


def test_a_backtest_records_its_host_as_pas_host_id(pas: Invoke, home: Path) -> None:
    from pas.store.sqlite import SqliteStore

    seed(home)
    result = pas("backtest", *PERIOD, "--json", env={**LIMITS, "PAS_HOST_ID": "box-a"})
    assert result.exit_code == 0, result.output
    run_id = check("backtest", result.stdout)["run"]
    with SqliteStore(home / "backtests" / f"{run_id}.db") as store:
        (run,) = store.recent_runs(limit=5)
    assert run.details["host"] == "box-a"


def test_ctrl_c_says_the_run_is_kept_as_failed(
    pas: Invoke, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pas.backtest as backtest_module

    seed(home)
    real = backtest_module._trade

    def ctrl_c_at_the_second_trade(*args: Any, **kwargs: Any) -> None:
        if calls:
            raise KeyboardInterrupt
        calls.append(1)
        real(*args, **kwargs)

    calls: list[int] = []
    monkeypatch.setattr(backtest_module, "_trade", ctrl_c_at_the_second_trade)
    result = pas("backtest", *PERIOD, env=LIMITS)
    (run,) = json.loads(pas("backtest", "list", "--json").stdout)["runs"]
    assert (result.exit_code, result.stderr) == (
        1,
        f"error: interrupted: backtest run {run['run']} is kept as failed (interrupted) and no report "
        f"will take it; `pas backtest rm {run['run']}` deletes it\n",
    )
    assert run["status"] == "failed"
