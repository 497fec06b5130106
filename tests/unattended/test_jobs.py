"""The schedule in New York time: slots across both DST changes, in three server zones,
catch-up of a missed slot at most once, and the crontab line."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pas.schedule import EXAMPLE_PATHS, MARKET_TZ, crontab
from pas.unattended.jobs import JOBS, Job, due, next_slot

# Server zones: UTC (most clouds), Tokyo (no DST, the zone of the Debian check),
# Lord Howe (+10:30, a half-hour DST shift on other dates than New York's).
SERVER_ZONES = ("UTC", "Asia/Tokyo", "Australia/Lord_Howe")
# New York's DST changes of 2026 (Sundays), with the UTC hour of the 09:45 build before and after.
DST_CHANGES = ((date(2026, 3, 8), 14, 13), (date(2026, 11, 1), 13, 14))


def cron_ticks(
    start: date, days: int, zone: str, skip: tuple[datetime, datetime] | None = None
) -> list[datetime]:
    """The times `*/5 * * * *` fires on a server in ``zone`` (every five minutes of its wall
    clock, which is every five minutes of real time: all offsets are whole quarter hours)."""
    tz = ZoneInfo(zone)
    first = datetime.combine(start, datetime.min.time(), tzinfo=tz).astimezone(UTC)
    ticks = [first + timedelta(minutes=5 * k) for k in range(days * 288)]
    assert all(t.astimezone(tz).minute % 5 == 0 for t in ticks)
    return [t for t in ticks if skip is None or not skip[0] <= t < skip[1]]


def simulate(ticks: list[datetime], done: dict[str, datetime] | None = None) -> dict[str, list[datetime]]:
    """Runs the schedule over the ticks; the New York time each job started.

    ``done`` is the slots already run before the first tick (default: every slot before
    the first tick ran, so the first tick catches nothing up).
    """
    if done is None:
        done = {job.name: ticks[0] for job in JOBS}
    ran: dict[str, list[datetime]] = {job.name: [] for job in JOBS}
    for now in ticks:
        for job, slot in due(JOBS, now, done):
            done[job.name] = slot
            ran[job.name].append(now.astimezone(MARKET_TZ))
    return ran


@pytest.mark.parametrize("zone", SERVER_ZONES)
@pytest.mark.parametrize(("change", "utc_before", "utc_after"), DST_CHANGES)
def test_every_job_runs_once_a_slot_at_its_new_york_time_in_any_server_zone(
    zone: str, change: date, utc_before: int, utc_after: int
) -> None:
    # From the Thursday before the change to the Wednesday after it, ticking in the server's zone.
    ran = simulate(cron_ticks(change - timedelta(days=4), 9, zone))
    days = [change + timedelta(days=i) for i in (-3, -2, 1, 2, 3)]
    for job in JOBS:
        expected = [d for d in days if job.runs_on(d)]
        assert [t.date() for t in ran[job.name] if t.date() in days] == expected, job.name
        assert {t.time() for t in ran[job.name]} == {job.at}, (
            job.name
        )  # New York wall time, across the change
    # The UTC hour moved with New York's DST: the same New York time, one hour apart in UTC.
    utc_hours = [t.astimezone(UTC).hour for t in ran["build"] if t.date() in days]
    assert utc_hours == [utc_before] * 2 + [utc_after] * 3


def test_on_utc_the_old_crontab_hours_were_before_the_open() -> None:
    # The defect: `45 9 * * 1-5` on a UTC server is 04:45 in New York in winter.
    assert datetime(2026, 12, 1, 9, 45, tzinfo=UTC).astimezone(MARKET_TZ).hour == 4
    ran = simulate(cron_ticks(date(2026, 12, 1), 1, "UTC"))
    assert ran["build"] == [datetime(2026, 12, 1, 9, 45, tzinfo=MARKET_TZ)]


def test_a_slot_missed_while_the_machine_was_off_runs_at_the_next_tick_once() -> None:
    monday = date(2026, 3, 9)
    off = (
        datetime(2026, 3, 9, 9, 0, tzinfo=MARKET_TZ).astimezone(UTC),
        datetime(2026, 3, 9, 10, 32, tzinfo=MARKET_TZ).astimezone(UTC),
    )
    ran = simulate(cron_ticks(monday, 1, "UTC", skip=off))
    back = datetime(2026, 3, 9, 10, 35, tzinfo=MARKET_TZ)
    assert ran["build"] == [back]
    assert ran["allocate"] == [back]
    assert ran["rebalance"] == [back]
    assert ran["scrape"] == [datetime(2026, 3, 9, 7, 30, tzinfo=MARKET_TZ)]


def test_a_day_the_machine_was_off_is_not_caught_up_the_next_day() -> None:
    monday = datetime(2026, 3, 9, tzinfo=MARKET_TZ).astimezone(UTC)
    ran = simulate(cron_ticks(date(2026, 3, 9), 2, "UTC", skip=(monday, monday + timedelta(days=1))))
    assert [t.date() for t in ran["scrape"]] == [date(2026, 3, 10)]
    assert ran["rebalance"] == []  # Monday's weekly slot is gone; Tuesday is not the week's first trading day


def test_weekly_jobs_run_on_the_first_trading_day_of_the_week() -> None:
    rebalance = next(j for j in JOBS if j.name == "rebalance")
    assert not rebalance.runs_on(date(2026, 1, 19))  # Martin Luther King Jr. Day
    assert rebalance.runs_on(date(2026, 1, 20))
    assert not rebalance.runs_on(date(2026, 1, 21))
    assert rebalance.runs_on(date(2026, 1, 12))


def test_no_job_runs_on_a_holiday_or_a_weekend() -> None:
    ran = simulate(cron_ticks(date(2026, 11, 26), 4, "UTC"))  # Thanksgiving, Friday, the weekend
    assert {t.date() for times in ran.values() for t in times} == {date(2026, 11, 27)}


def test_next_slot_skips_to_the_next_trading_day() -> None:
    job = Job("x", datetime.min.time().replace(hour=9, minute=45), JOBS[0].days, ("sync",), "")
    friday_noon = datetime(2026, 11, 27, 12, tzinfo=MARKET_TZ)
    assert next_slot(job, friday_noon) == datetime(2026, 11, 30, 9, 45, tzinfo=MARKET_TZ)
    assert next_slot(job, datetime(2026, 11, 30, 9, 44, tzinfo=MARKET_TZ)).day == 30


def test_crontab_is_one_tick_line_with_quoted_paths_and_no_cron_tz() -> None:
    text = crontab("/opt/my pas/bin/pas", "/etc/pas 100%.env", "/srv/pas home")
    assert "CRON_TZ" not in text
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert lines == [
        "*/5 * * * * '/opt/my pas/bin/pas' --env-file '/etc/pas 100\\%.env' --home '/srv/pas home' tick"
    ]
    assert ">>" not in text  # no redirection: failures reach MAILTO


def test_crontab_example_is_the_line_with_placeholder_paths() -> None:
    from pathlib import Path

    example = Path(__file__).parents[2] / "crontab.example"
    assert example.read_text() == crontab(**EXAMPLE_PATHS)


def test_the_build_runs_at_the_decision_time_of_the_backtest() -> None:
    from pas.schedule import DECISION_TIME

    assert next(j for j in JOBS if j.name == "build").at == DECISION_TIME


def test_the_readme_schedule_table_is_the_schedule() -> None:
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    table = readme.split("| job | New York time | days | runs |\n| --- | --- | --- | --- |\n", 1)[1]
    rows = [line.split(" | ") for line in table.split("\n\n", 1)[0].splitlines()]
    assert [(r[0].strip("| `"), r[1], r[2], r[3].split("`")[1]) for r in rows] == [
        (j.name, j.at.strftime("%H:%M"), j.days.value, "pas " + " ".join(j.args)) for j in JOBS
    ]
