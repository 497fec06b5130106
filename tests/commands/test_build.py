"""`pas build` and `pas cron` through the command line: messages, exit codes, storage."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

import pas.store
from pas.cli import app
from pas.config import Settings, StoreSettings
from pas.models import CashFlow, Portfolio, Price, Schedule, WeightSet
from pas.records import Record, natural_key
from pas.store.base import Store
from pas.store.sqlite import SqliteStore
from tests.commands.test_json_conventions import check
from tests.conftest import FakeClock

# Monday 5 January 2026, 10:00 in New York: a trading day.
NOW = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PAS_HOME whose store runs on a clock fixed at NOW, with a few contract awards."""
    clock = FakeClock(NOW)
    monkeypatch.setattr(
        pas.store, "open_store", lambda settings, c=None: SqliteStore(settings.sqlite_path, clock)
    )
    with SqliteStore(tmp_path / "pas.db", clock) as store:
        awards = [("AAA", "300", 2), ("BBB", "100", 1), ("CCC", "50", 40)]
        store.upsert_records(
            "contracts",
            [
                Record("contracts", natural_key("contracts", {"t": t}), t, (NOW - timedelta(days=d)).date(),
                       NOW - timedelta(days=d), {"amount": a})
                for t, a, d in awards
            ],
        )  # fmt: skip
        store.add_portfolio(
            Portfolio(
                "gov",
                "gov_contracts",
                Schedule.DAILY,
                NOW,
                params={"max_weight": 1.0, "min_names": 1},
                broker="sim",
            )
        )
        store.add_portfolio(Portfolio("hand", "manual", Schedule.DAILY, NOW))
        store.put_weights(WeightSet("gov", NOW - timedelta(days=3), {"AAA": 0.5, "ZZZ": 0.5}, "manual"))
    return tmp_path


def invoke(home: Path, *args: str, max_position_weight: str = "0.8") -> tuple[int, str]:
    """Runs pas; the fixture's 75% in AAA is within this MAX_POSITION_WEIGHT unless told."""
    env = {"PAS_HOME": str(home), "MAX_POSITION_WEIGHT": max_position_weight}
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


def stored(home: Path) -> Store:
    return SqliteStore(home / "pas.db", FakeClock(NOW))


def test_build_no_trade_stores_the_targets_and_shows_them_next_to_the_current(home: Path) -> None:
    code, out = invoke(home, "build", "gov", "--no-trade")
    assert code == 0, out
    assert (
        "gov: gov_contracts (lookback_days=30, top_n=10, normalized=0, history_days=365, max_weight=1, "
        "min_names=1) as of 2026-01-05 15:00 UTC"
    ) in out
    assert "│ AAA    │  50.00% │ 75.00% │ +25.00% │" in out
    assert "│ ZZZ    │  50.00% │  0.00% │ -50.00% │" in out
    assert "2 target weight(s) from contracts 2 records to 2026-01-04; stored; not traded (--no-trade)" in out
    with stored(home) as store:
        current = store.current_weights("gov")
        assert current is not None
        assert (current.source, dict(current.weights)) == ("build", {"AAA": 0.75, "BBB": 0.25})
        assert store.recent_runs(1)[0].command == "build"


def test_build_trades_the_new_targets_through_the_broker(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with stored(home) as store:
        store.upsert_prices(
            [Price("AAA", NOW.date(), Decimal("10")), Price("BBB", NOW.date(), Decimal("20"))]
        )
        store.add_cash_flow(CashFlow("gov", Decimal(10_000), NOW - timedelta(days=5), "gov-seed"))
    # The strategy's 75% in AAA breaks the default 50% position cap: refused at build time,
    # nothing stored or traded (not at 09:45 by the pre-trade check).
    for args in (["--broker", "sim"], ["--dry-run"]):
        code, out = invoke(home, "build", "gov", *args, max_position_weight="0.5")
        assert (code, out) == (
            3,
            "error: portfolio gov: the target of AAA is 75.0%, above MAX_POSITION_WEIGHT (50.0%); "
            "lower the strategy's max_weight or raise MAX_POSITION_WEIGHT\n",
        )
    with stored(home) as store:
        assert store.holdings("gov") == {} and len(store.weights_history("gov")) == 1
    code, out = invoke(home, "build", "gov", "--broker", "sim")
    assert code == 0, out
    assert "2 target weight(s) from contracts 2 records to 2026-01-04; stored and traded" in out
    with stored(home) as store:
        assert store.current_weights("gov").source == "build"  # type: ignore[union-attr]
        held = store.holdings("gov")
        assert set(held) == {"AAA", "BBB"}
        assert [r.command for r in store.recent_runs(2)] == ["rebalance", "build"]
        assert len(store.weights_history("gov")) == 2, "each build is kept in the target history"


def test_dry_run_stores_nothing_and_prints_json(home: Path) -> None:
    code, out = invoke(home, "build", "gov", "--dry-run", "--json")
    assert code == 0, out
    shown = check("build", out)
    assert shown["weights"] == {"AAA": 0.75, "BBB": 0.25}
    assert shown["previous"]["weights"] == {"AAA": 0.5, "ZZZ": 0.5}
    assert (shown["stored"], shown["traded"]) == (False, False)
    assert shown["datasets"] == {"contracts": {"records": 2, "newest_public_at": "2026-01-04T15:00:00Z"}}
    with stored(home) as store:
        assert len(store.weights_history("gov")) == 1


def test_as_of_builds_from_the_past_and_are_marked(home: Path) -> None:
    code, out = invoke(
        home, "build", "gov", "--as-of", "2026-01-03", "--no-trade", "--json", max_position_weight="1"
    )
    assert code == 0, out
    assert json.loads(out)["weights"] == {"AAA": 1.0}
    with stored(home) as store:
        assert store.current_weights("gov").source == "build as of 2026-01-03"  # type: ignore[union-attr]
    code, out = invoke(home, "build", "gov", "--as-of", "January", "--no-trade")
    assert (code, out) == (2, "error: --as-of 'January' is not a day; use YYYY-MM-DD such as 2026-01-05\n")


def test_stale_data_is_refused(home: Path) -> None:
    code, out = invoke(home, "build", "gov", "--as-of", "2025-12-20", "--no-trade")
    assert code == 1
    assert out.startswith(
        "error: the newest contracts record public by 2025-12-20 is from 2025-11-26, more than 10"
    )
    code, out = invoke(home, "build", "gov", "--dry-run")
    assert code == 0
    result = CliRunner().invoke(
        app, ["build", "gov", "--dry-run"], env={"PAS_HOME": str(home), "BUILD_MAX_STALE_DAYS": "0"}
    )
    assert result.exit_code == 2
    assert "BUILD_MAX_STALE_DAYS must be a whole number of days, 1 or more, got '0'" in result.output


def test_usage_errors(home: Path) -> None:
    assert invoke(home, "build") == (2, "error: name the portfolio to build (pas build ID) or pass --due\n")
    # Both were given: the message must not ask for what the user already passed.
    assert invoke(home, "build", "lobby", "--due") == (
        2,
        "error: pass either the portfolio (lobby) or --due, not both\n",
    )
    assert invoke(home, "build", "hand", "--no-trade") == (
        2,
        "error: portfolio 'hand' has hand-set weights (strategy manual); "
        "set them with `pas portfolio set-weights`\n",
    )
    assert invoke(home, "build", "--due", "--as-of", "2026-01-02") == (
        2,
        "error: --due builds as of now; drop --as-of\n",
    )
    assert invoke(home, "build", "nope", "--no-trade")[0] == 2


def test_due_builds_once_a_day_and_skips_manual_and_not_due(home: Path) -> None:
    with stored(home) as store:
        store.add_portfolio(Portfolio("monthly", "gov_contracts", Schedule.MONTHLY, NOW))
        store.put_weights(WeightSet("monthly", datetime(2026, 1, 2, 15, tzinfo=UTC), {"AAA": 1.0}, "build"))
        store.add_portfolio(Portfolio("stale", "wiki_attention", Schedule.WEEKLY, NOW))
    result = CliRunner().invoke(
        app,
        ["build", "--due", "--no-trade", "--json"],
        env={"PAS_HOME": str(home), "MAX_POSITION_WEIGHT": "0.8"},
    )
    assert result.exit_code == 1, result.output
    builds = {b["portfolio"]: b for b in check("build", result.stdout)["builds"]}
    assert set(builds) == {"gov", "stale"}
    assert builds["gov"]["stored"] is True
    assert builds["stale"]["error"] == "the wiki dataset is empty; run `pas scrape wiki` first"
    assert result.stderr == "error: 1 of 2 due build(s) failed (stale); see above\n"
    with stored(home) as store:
        store.remove_portfolio("stale")
    assert invoke(home, "build", "--due", "--no-trade") == (0, "no portfolio is due for a build today\n")


def test_a_second_build_while_one_runs_exits_4(home: Path) -> None:
    with stored(home) as store:
        assert store.acquire_lock("build", "other-host:1", 600)
    assert invoke(home, "build", "gov", "--no-trade") == (
        4,
        "error: another pas build (other-host:1) is running and holds the build lock until "
        "2026-01-05 15:10:00 UTC; this one stops\n",
    )
    assert invoke(home, "build", "gov", "--dry-run")[0] == 0  # a dry run takes no lock


def test_a_build_that_takes_over_an_expired_build_lock_says_from_whom(home: Path) -> None:
    # the build lock's takeover after its lease was silent, the trading lock's is not
    with SqliteStore(home / "pas.db", FakeClock(NOW - timedelta(hours=1))) as store:
        assert store.acquire_lock("build", "other-host:1", 1800)
    env = {"PAS_HOME": str(home), "MAX_POSITION_WEIGHT": "0.8"}
    result = CliRunner().invoke(app, ["build", "gov", "--no-trade"], env=env)
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "warning: took over the build lock from other-host:1, whose lease expired at "
        "2026-01-05 14:30:00 UTC and is presumed dead\n"
    )
    with stored(home) as store:
        assert store.lock_owner("build") is None, "released after the build"


def test_targets_a_locked_out_build_stored_are_traded_by_the_next_due_build(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 12: `build --due` locked out of trading stored its targets and exited 4; the
    # next `--due` said "nothing is due" and the targets waited for Monday's rebalance.
    monkeypatch.setenv("MAX_POSITION_WEIGHT", "0.8")
    with stored(home) as store:
        store.upsert_prices(
            [Price("AAA", NOW.date(), Decimal("10")), Price("BBB", NOW.date(), Decimal("20"))]
        )
        store.add_cash_flow(CashFlow("gov", Decimal(10_000), NOW - timedelta(days=5), "gov-seed"))
        assert store.acquire_lock("trading", "other-host:1", 600)
    code, out = invoke(home, "build", "--due", "--broker", "sim")
    assert code == 4, out
    with stored(home) as store:
        assert store.current_weights("gov").source == "build"  # type: ignore[union-attr]
        assert store.holdings("gov") == {}
        store.release_lock("trading", "other-host:1")
    code, out = invoke(home, "build", "--due", "--broker", "sim")
    assert code == 0, out
    assert "trading the targets a build stored but could not trade (the trading lock was held): gov" in out
    with stored(home) as store:
        assert set(store.holdings("gov")) == {"AAA", "BBB"}
        assert len(store.weights_history("gov")) == 2, "built once: the second run only trades"
    assert invoke(home, "build", "--due", "--broker", "sim") == (0, "no portfolio is due for a build today\n")


def test_a_no_trade_build_leaves_nothing_for_the_next_due_build(home: Path) -> None:
    assert invoke(home, "build", "--due", "--no-trade")[0] == 0
    assert invoke(home, "build", "--due") == (0, "no portfolio is due for a build today\n")


def test_cron_prints_this_installations_paths(home: Path, tmp_path: Path) -> None:
    env_file = tmp_path / "pas.env"
    env_file.write_text(f"PAS_HOME={home}\n")
    result = CliRunner().invoke(app, ["--env-file", str(env_file), "cron"], env={"PAS_HOME": str(home)})
    assert result.exit_code == 0, result.output
    line = result.output.splitlines()[-1]
    assert line.endswith(f" --env-file {env_file} --home {home} tick")
    assert Path(line.split()[5]).is_absolute()


def test_settings_default(home: Path) -> None:
    assert Settings(StoreSettings(home)).data.build_max_stale_days == 10
