"""``pas prices fetch`` through the CLI against the fake Alpaca server."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pas.cli import app
from pas.models import Fill, Portfolio, Schedule, Side, WeightSet
from pas.store.sqlite import SqliteStore
from tests.commands.test_json_conventions import check
from tests.conftest import FakeClock
from tests.fakes.alpaca import KEY_ID, SECRET, FakeAlpaca, fake_alpaca

__all__ = ["fake_alpaca"]

runner = CliRunner()
T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


@pytest.fixture
def env(fake_alpaca: FakeAlpaca, tmp_path: Path, clock: FakeClock) -> dict[str, str]:
    fake_alpaca.clock = clock
    fake_alpaca.add_bars(
        "SPY", {date(2025, 12, 31): "580.5", date(2026, 1, 2): "581", date(2026, 1, 5): "590"}
    )
    fake_alpaca.add_bars(
        "AAPL", {date(2025, 12, 31): "150", date(2026, 1, 2): "151.25", date(2026, 1, 5): "152"}
    )
    fake_alpaca.add_bars("MSFT", {date(2026, 1, 2): "400.1", date(2026, 1, 5): "401"})
    return {
        "PAS_HOME": str(tmp_path),
        "ALPACA_API_KEY": KEY_ID,
        "ALPACA_API_SECRET": SECRET,
        "ALPACA_BASE_URL": fake_alpaca.url,
        "ALPACA_DATA_URL": fake_alpaca.url,
    }


def closes(tmp_path: Path, symbol: str) -> Decimal | None:
    with SqliteStore(tmp_path / "pas.db") as store:
        found = store.latest_prices([symbol])
    return found[symbol].close if symbol in found else None


def test_fetches_held_targeted_and_benchmark_symbols_incrementally(
    env: dict[str, str], fake_alpaca: FakeAlpaca, tmp_path: Path, clock: FakeClock
) -> None:
    with SqliteStore(tmp_path / "pas.db") as store:
        store.add_portfolio(Portfolio("lobby", "manual", Schedule.WEEKLY, T0))
        store.put_weights(WeightSet("lobby", T0, {"MSFT": 0.5}))
        store.append_fills([Fill("lobby", "AAPL", Side.BUY, Decimal(1), Decimal(150), T0, fill_id="f1")])

    first = runner.invoke(app, ["prices", "fetch"], env=env)
    assert first.exit_code == 0, first.output
    # at 15:00 UTC on Monday 2026-01-05 the session is still open: ask through Sunday
    assert first.output == (
        "stored 5 close(s) for 3 symbol(s), asked through 2026-01-04; "
        "newest close stored 2026-01-02: AAPL, MSFT, SPY\n"
    )
    [request] = fake_alpaca.logged("/v2/stocks/bars")
    assert request.query["symbols"] == "AAPL,MSFT,SPY"
    assert (request.query["start"], request.query["end"]) == ("2024-11-30", "2026-01-04")
    assert closes(tmp_path, "AAPL") == Decimal("151.25")

    clock.advance(7 * 3600)  # 22:00 UTC: Monday's session has closed
    second = runner.invoke(app, ["prices", "fetch"], env=env)
    assert second.exit_code == 0, second.output
    assert second.output == (
        "stored 3 close(s) for 3 symbol(s), asked through 2026-01-05; "
        "newest close stored 2026-01-05: AAPL, MSFT, SPY\n"
    )
    latest = fake_alpaca.logged("/v2/stocks/bars")[-1]
    assert (latest.query["start"], latest.query["end"]) == ("2026-01-03", "2026-01-05")
    assert closes(tmp_path, "SPY") == Decimal(590)

    third = runner.invoke(app, ["prices", "fetch"], env=env)
    assert third.output == (
        "stored 0 close(s) for 0 symbol(s), asked through 2026-01-05; newest close stored "
        "2026-01-05: AAPL, MSFT, SPY\nalready up to date: AAPL, MSFT, SPY\n"
    )
    assert len(fake_alpaca.logged("/v2/stocks/bars")) == 2


def test_symbols_and_start_option(env: dict[str, str], fake_alpaca: FakeAlpaca, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["prices", "fetch", "--symbols", "aapl,NOPE", "-s", "AAPL", "--start", "2026-01-01", "--json"],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert '"written": 1' in result.output
    assert '"missing": [\n    "NOPE"\n  ]' in result.output
    shown = check("prices-fetch", result.stdout)
    assert shown["fetched"] == {"AAPL": "2026-01-01", "NOPE": "2026-01-01"}
    [request] = fake_alpaca.logged("/v2/stocks/bars")
    assert (request.query["symbols"], request.query["start"]) == ("AAPL,NOPE", "2026-01-01")
    assert closes(tmp_path, "SPY") is None
    human = runner.invoke(app, ["prices", "fetch", "-s", "NOPE", "--start", "2026-01-01"], env=env)
    assert human.output.endswith("no bars from Alpaca for: NOPE (check the tickers and ALPACA_FEED)\n")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"ALPACA_API_SECRET": ""},
            "Alpaca needs ALPACA_API_KEY and ALPACA_API_SECRET; set both in the environment or .env",
        ),
        (
            {"ALPACA_BASE_URL": "https://api.alpaca.markets"},
            "ALPACA_BASE_URL https://api.alpaca.markets is not the paper API and would trade real money; "
            "set PAS_ALLOW_LIVE=1 to allow live trading, or use https://paper-api.alpaca.markets",
        ),
        (
            {"ALPACA_FEED": "nasdaq"},
            "ALPACA_FEED must be one of iex, sip, delayed_sip, boats, overnight, otc, got 'nasdaq'",
        ),
    ],
)
def test_setting_errors_exit_2(env: dict[str, str], change: dict[str, str], message: str) -> None:
    result = runner.invoke(app, ["prices", "fetch"], env={**env, **change})
    assert result.exit_code == 2
    assert result.output == f"error: {message}\n"


def test_bad_start_and_symbol_exit_2(env: dict[str, str]) -> None:
    bad_day = runner.invoke(app, ["prices", "fetch", "--start", "yesterday"], env=env)
    assert bad_day.exit_code == 2
    assert "'yesterday' is not a date or time" in bad_day.output
    bad_symbol = runner.invoke(app, ["prices", "fetch", "-s", "$$"], env=env)
    assert bad_symbol.exit_code == 2
    assert "'$$' is not a ticker symbol" in bad_symbol.output


def test_wrong_secret_exits_2_without_showing_it(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["prices", "fetch"], env={**env, "ALPACA_API_SECRET": "wrong-secret-value"})
    assert result.exit_code == 2
    assert result.output.startswith("error: Alpaca refused the credentials (HTTP 401")
    assert "wrong-secret-value" not in result.output and KEY_ID not in result.output


def test_server_down_exits_1(
    env: dict[str, str], fake_alpaca: FakeAlpaca, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    fake_alpaca.inject("clock", status=503, times=99)
    result = runner.invoke(app, ["prices", "fetch"], env=env)
    assert result.exit_code == 1
    assert result.output == (
        "error: Alpaca answered GET /v2/clock with HTTP 503 (5 attempts); try again later\n"
    )


def test_reports_the_newest_close_actually_stored_and_fails_when_it_stays_stale(
    env: dict[str, str], fake_alpaca: FakeAlpaca, tmp_path: Path, clock: FakeClock
) -> None:
    # Issue 15: with bars only up to an old day, "through <end>" said nothing of them.
    fake_alpaca.add_bars("OLD", {date(2025, 12, 22): "10"})
    clock.advance(7 * 3600)  # Monday 2026-01-05 22:00 UTC: the session has closed
    result = runner.invoke(app, ["prices", "fetch", "-s", "SPY,OLD"], env=env)
    assert result.exit_code == 1
    assert result.output == (
        "stored 4 close(s) for 2 symbol(s), asked through 2026-01-05; "
        "newest close stored 2026-01-05: SPY; 2025-12-22: OLD\n"
        "error: closes still stale after fetching: OLD 2025-12-22 (more than PRICE_MAX_STALE_DAYS=5 "
        "days before 2026-01-05); check the tickers and ALPACA_FEED (a delisted ticker gets no new "
        "bars: sell it or drop it from the targets)\n"
    )
    relaxed = runner.invoke(app, ["prices", "fetch", "-s", "OLD"], env={**env, "PRICE_MAX_STALE_DAYS": "14"})
    assert relaxed.exit_code == 0, relaxed.output
