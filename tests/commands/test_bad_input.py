"""Bad input that used to be accepted (issue 15): future and market-closed dates, a track
record from before the portfolio, amounts beyond what the store keeps exactly."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

import pas.store
from pas.dates import check_fill_time, session_day
from pas.errors import InputError
from pas.store.sqlite import SqliteStore
from tests.commands.conftest import Invoke
from tests.conftest import FakeClock

# Tuesday 2026-12-01, 12:00 in New York.
NOW = datetime(2026, 12, 1, 17, tzinfo=UTC)


@pytest.fixture
def at_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every store the command line opens runs on a clock fixed at NOW."""
    clock = FakeClock(NOW)
    monkeypatch.setattr(
        pas.store, "open_store", lambda settings, c=None: SqliteStore(settings.sqlite_path, clock)
    )


@pytest.fixture
def lobby(pas: Invoke, at_now: None) -> Invoke:
    assert pas("portfolio", "add", "lobby", "--capital", "10000").exit_code == 0
    return pas


def _fills(tmp_path: Path, time: str) -> str:
    path = tmp_path / "fills.csv"
    path.write_text(f"portfolio,symbol,side,qty,price,time\nlobby,AAPL,buy,1,100,{time}\n")
    return str(path)


def _closes(tmp_path: Path, day: str) -> str:
    path = tmp_path / "closes.csv"
    path.write_text(f"date,symbol,close\n{day},AAPL,100\n")
    return str(path)


@pytest.mark.parametrize(
    ("time", "problem"),
    [
        ("2099-01-02T15:00:00Z", "time 2099-01-02T15:00:00.000000Z is in the future"),
        (
            "2026-11-28T15:00:00Z",
            "falls on 2026-11-28 in New York, a weekend day, when US stocks do not trade",
        ),
        ("2026-11-26T15:00:00Z", "falls on 2026-11-26 in New York, an NYSE holiday"),  # Thanksgiving
        ("2026-11-26", "time 2026-11-26 is an NYSE holiday, not an NYSE trading day"),
        ("2026-12-02", "time 2026-12-02 is in the future (today is 2026-12-01 in New York)"),
    ],
)
def test_trades_import_refuses_future_and_closed_market_fills(
    lobby: Invoke, tmp_path: Path, time: str, problem: str
) -> None:
    result = lobby("trades", "import", _fills(tmp_path, time))
    assert result.exit_code == 2
    assert problem in result.output
    assert "nothing imported" in result.output


@pytest.mark.parametrize(
    "time",
    [
        "2026-11-27T15:00:00Z",  # the Friday after Thanksgiving
        "2026-11-30T01:30:00Z",  # Sunday 20:30 in New York: Alpaca's overnight session for Monday
        "2026-12-01",  # today, as a bare day
    ],
)
def test_trades_import_accepts_fills_of_a_session(lobby: Invoke, tmp_path: Path, time: str) -> None:
    result = lobby("trades", "import", _fills(tmp_path, time))
    assert result.exit_code == 0, result.output


def test_the_overnight_session_belongs_to_the_next_day() -> None:
    assert session_day(datetime(2026, 11, 30, 0, 59, tzinfo=UTC)) == date(2026, 11, 29)  # Sun 19:59 NY
    assert session_day(datetime(2026, 11, 30, 1, 0, tzinfo=UTC)) == date(2026, 11, 30)  # Sun 20:00 NY
    with pytest.raises(InputError, match="a weekend day"):
        check_fill_time(datetime(2026, 11, 28, 2, tzinfo=UTC), NOW)  # Friday 21:00 NY: no session


@pytest.mark.parametrize(
    ("day", "problem"),
    [
        ("2099-01-02", "date 2099-01-02 is in the future (today is 2026-12-01 in New York)"),
        ("2026-11-28", "date 2026-11-28 is a weekend day, not an NYSE trading day"),
        ("2026-12-25", "date 2026-12-25 is in the future"),
        ("2025-12-25", "date 2025-12-25 is an NYSE holiday, not an NYSE trading day"),
    ],
)
def test_prices_import_refuses_future_and_closed_market_closes(
    lobby: Invoke, tmp_path: Path, home: Path, day: str, problem: str
) -> None:
    result = lobby("prices", "import", _closes(tmp_path, day))
    assert result.exit_code == 2
    assert problem in result.output
    with SqliteStore(home / "pas.db") as store:
        assert store.latest_prices(["AAPL"]) == {}  # never the "last price" of pas positions


@pytest.mark.parametrize(
    ("day", "problem"),
    [
        ("2026-11-28", "2026-11-28 is a weekend day, not an NYSE trading day"),
        ("2026-11-26", "2026-11-26 is an NYSE holiday, not an NYSE trading day"),
        ("2026-12-02", "2026-12-02 is in the future (today is 2026-12-01)"),
    ],
)
def test_metrics_post_refuses_closed_market_and_future_days(lobby: Invoke, day: str, problem: str) -> None:
    result = lobby("metrics", "post", "lobby", "--date", day, "--return", "0.01")
    assert result.exit_code == 2
    assert problem in result.output


def test_metrics_post_backfills_a_track_record_only_when_asked(lobby: Invoke, home: Path) -> None:
    refused = lobby("metrics", "post", "lobby", "--date", "2025-06-02", "--return", "0.01")
    assert refused.exit_code == 2
    assert (
        "2025-06-02 is before the portfolio existed (2026-12-01); add --backfill to post "
        "a track record from before it"
    ) in refused.output
    done = lobby("metrics", "post", "lobby", "--date", "2025-06-02", "--return", "0.01", "--backfill")
    assert done.exit_code == 0, done.output
    with SqliteStore(home / "pas.db") as store:
        assert [(m.day, m.ret) for m in store.daily_metrics("lobby")] == [(date(2025, 6, 2), 0.01)]


@pytest.mark.parametrize("amount", ["10000000000", "9223372036.854775808"])
def test_an_amount_beyond_the_stores_range_is_a_clear_limit_error(pas: Invoke, amount: str) -> None:
    result = pas("portfolio", "add", "x", "--capital", amount)
    assert result.exit_code == 2
    assert result.output == (
        f"error: {amount} is beyond the largest amount pas stores exactly (9,223,372,036 with 9 "
        "decimals, a signed 64-bit count of nano units); use a smaller amount\n"
    )


def test_the_largest_amount_is_stored_exactly(pas: Invoke, home: Path) -> None:
    assert pas("portfolio", "add", "x", "--capital", "9223372036.854775807").exit_code == 0
    with SqliteStore(home / "pas.db") as store:
        found = store.get_portfolio("x")
    assert found is not None and str(found.capital) == "9223372036.854775807"
