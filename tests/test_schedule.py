"""Trading days and when builds are due (the crontab line: tests/unattended/test_jobs.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from pas.models import Schedule, WeightSet
from pas.schedule import (
    decision_time,
    is_due,
    is_trading_day,
    last_build_day,
    nyse_holidays,
)


def test_nyse_holidays_of_2025_and_2026_and_the_saturday_rules() -> None:
    # The NYSE's published calendars.
    assert sorted(nyse_holidays(2025)) == [
        date(2025, 1, 1), date(2025, 1, 20), date(2025, 2, 17), date(2025, 4, 18), date(2025, 5, 26),
        date(2025, 6, 19), date(2025, 7, 4), date(2025, 9, 1), date(2025, 11, 27), date(2025, 12, 25),
    ]  # fmt: skip
    assert sorted(nyse_holidays(2026)) == [
        date(2026, 1, 1), date(2026, 1, 19), date(2026, 2, 16), date(2026, 4, 3), date(2026, 5, 25),
        date(2026, 6, 19), date(2026, 7, 3), date(2026, 9, 7), date(2026, 11, 26), date(2026, 12, 25),
    ]  # fmt: skip
    assert date(2021, 12, 31) not in nyse_holidays(2021)  # New Year's Day 2022 was a Saturday
    assert date(2027, 12, 24) in nyse_holidays(2027)  # Christmas 2027 is a Saturday
    assert date(2021, 6, 18) not in nyse_holidays(2021)  # before Juneteenth was a market holiday
    assert not is_trading_day(date(2026, 1, 3))  # a Saturday
    assert is_trading_day(date(2026, 1, 2))


@pytest.mark.parametrize(
    ("schedule", "today", "last", "due"),
    [
        (Schedule.DAILY, date(2026, 1, 6), date(2026, 1, 5), True),
        (Schedule.DAILY, date(2026, 1, 6), date(2026, 1, 6), False),  # built today already
        (Schedule.DAILY, date(2026, 1, 3), None, False),  # Saturday
        (Schedule.DAILY, date(2026, 1, 19), None, False),  # Martin Luther King Jr. Day
        (Schedule.WEEKLY, date(2026, 1, 5), date(2025, 12, 29), True),  # Monday
        (Schedule.WEEKLY, date(2026, 1, 6), date(2026, 1, 5), False),  # built on Monday
        (Schedule.WEEKLY, date(2026, 1, 20), date(2026, 1, 12), True),  # Monday a holiday: Tuesday
        (Schedule.WEEKLY, date(2026, 1, 7), None, True),  # never built: caught up
        (Schedule.MONTHLY, date(2026, 1, 2), date(2025, 12, 1), True),  # Jan 1 a holiday
        (Schedule.MONTHLY, date(2026, 1, 5), date(2026, 1, 2), False),
        (Schedule.MONTHLY, date(2026, 2, 2), date(2026, 1, 2), True),
    ],
)
def test_is_due(schedule: Schedule, today: date, last: date | None, due: bool) -> None:
    assert is_due(schedule, today, last) is due


def test_last_build_day_is_the_market_day_of_the_newest_build() -> None:
    history = [
        WeightSet("p", datetime(2026, 1, 6, 15, tzinfo=UTC), {}, "manual"),
        # 01:00 UTC on the 6th is still the 5th in New York.
        WeightSet("p", datetime(2026, 1, 6, 1, tzinfo=UTC), {}, "build"),
        WeightSet("p", datetime(2026, 1, 2, 15, tzinfo=UTC), {}, "build"),
    ]
    assert last_build_day(history, "build") == date(2026, 1, 5)
    assert last_build_day(history[:1], "build") is None


@pytest.mark.parametrize(
    ("day", "utc"),
    [
        (date(2025, 1, 15), datetime(2025, 1, 15, 14, 45, tzinfo=UTC)),  # EST, UTC-5
        (date(2025, 7, 15), datetime(2025, 7, 15, 13, 45, tzinfo=UTC)),  # EDT, UTC-4
        (date(2025, 3, 10), datetime(2025, 3, 10, 13, 45, tzinfo=UTC)),  # the Monday after DST began
    ],
)
def test_the_decision_time_is_new_york_wall_time(day: date, utc: datetime) -> None:
    assert decision_time(day) == utc
