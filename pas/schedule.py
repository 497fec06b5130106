"""When builds are due, on which days the market trades, and the crontab line.

Trading days are weekdays other than the NYSE's regular holidays: New Year's Day,
Martin Luther King Jr. Day, Washington's Birthday, Good Friday, Memorial Day,
Juneteenth (from 2022), Independence Day, Labor Day, Thanksgiving and Christmas, moved to
Friday when they fall on a Saturday (except New Year's Day, which then is not observed)
and to Monday when on a Sunday. One-off closures (a national day of mourning) are not
known: on such a day a build runs against a closed market and the trade waits.
"""

from __future__ import annotations

import shlex
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from pas.models import Schedule

if TYPE_CHECKING:
    from pas.models import WeightSet

MARKET_TZ = ZoneInfo("America/New_York")
TICK_MINUTES = 5
"""Minutes between two ticks: the crontab line is ``*/5 * * * *``; a job starts at most this late."""
JUNETEENTH_FROM = 2022
# When portfolios are built and traded, New York wall time: a quarter hour after the open,
# once the opening auction's prices have settled. The `build --due` cron line and the
# backtest's simulated clock both read it.
DECISION_TIME = time(9, 45)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th ``weekday`` (0 Monday) of the month; n = -1 for the last one."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _easter(year: int) -> date:
    """Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    weekday = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 19 * weekday) // 433
    month = (h + weekday - 7 * m + 90) // 25
    return date(year, month, (h + weekday - 7 * m + 33 * month + 19) % 32)


def _observed(day: date) -> date:
    if day.weekday() == 5:
        return day - timedelta(days=1)
    if day.weekday() == 6:
        return day + timedelta(days=1)
    return day


@cache
def nyse_holidays(year: int) -> frozenset[date]:
    """The NYSE's regular full-day holidays in ``year``."""
    days = {
        _nth_weekday(year, 1, 0, 3),  # Martin Luther King Jr. Day
        _nth_weekday(year, 2, 0, 3),  # Washington's Birthday
        _easter(year) - timedelta(days=2),  # Good Friday
        _nth_weekday(year, 5, 0, -1),  # Memorial Day
        _observed(date(year, 7, 4)),
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving
        _observed(date(year, 12, 25)),
    }
    if date(year, 1, 1).weekday() != 5:  # on a Saturday, the Friday before is a trading day
        days.add(_observed(date(year, 1, 1)))
    if year >= JUNETEENTH_FROM:
        days.add(_observed(date(year, 6, 19)))
    return frozenset(days)


def is_trading_day(day: date) -> bool:
    """A weekday that is not an NYSE holiday."""
    return day.weekday() < 5 and day not in nyse_holidays(day.year)


def market_day(ts: datetime) -> date:
    """The day at the market (New York) at ``ts``."""
    return ts.astimezone(MARKET_TZ).date()


def day_start(day: date) -> datetime:
    """The start of ``day`` in New York (its midnight there), as UTC."""
    return datetime.combine(day, time(), MARKET_TZ).astimezone(UTC)


def day_end(day: date) -> datetime:
    """The end of ``day`` in New York (the next midnight there), as UTC: when a record dated
    only by the day is public, so a decision on that day never sees it."""
    return day_start(day + timedelta(days=1))


def decision_time(day: date) -> datetime:
    """The moment (UTC) of :data:`DECISION_TIME` in New York on ``day``, daylight saving
    time included (14:45 UTC in winter, 13:45 UTC in summer)."""
    return datetime.combine(day, DECISION_TIME, MARKET_TZ).astimezone(UTC)


def period_start(schedule: Schedule, day: date) -> date:
    """The first day of the schedule's period holding ``day``: the day, its ISO week's
    Monday, or the first of its month."""
    if schedule is Schedule.DAILY:
        return day
    if schedule is Schedule.WEEKLY:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def is_due(schedule: Schedule, today: date, last_build: date | None) -> bool:
    """Whether a portfolio on ``schedule`` is to be built ``today``.

    Due on a trading day when it has not been built since its period began: daily every
    trading day, weekly on the first trading day of the ISO week, monthly on the first
    trading day of the month, never twice on one day. A period whose first trading day
    was missed (the machine was off) is caught up on the next trading day.
    """
    if not is_trading_day(today):
        return False
    return last_build is None or last_build < period_start(schedule, today)


def last_build_day(history: list[WeightSet], source: str) -> date | None:
    """The market day of the newest weights with ``source`` in a newest-first history."""
    for weights in history:
        if weights.source == source:
            return market_day(weights.at)
    return None


def cron_quote(path: str) -> str:
    """A path as one word of a crontab command: shell-quoted, and ``%`` escaped (cron turns
    an unescaped ``%`` into a newline)."""
    return shlex.quote(path).replace("%", "\\%")


def crontab(pas: str, env_file: str | None, home: str | None = None) -> str:
    """The crontab of an installation: one line running ``pas tick`` every five minutes.

    The tick decides in New York time which jobs are due (see :mod:`pas.unattended.jobs`),
    so the line is right in any server time zone, on crons that ignore ``CRON_TZ``
    (Debian's and Ubuntu's) as on those that read it. It has no output redirection: a tick
    is silent unless a job fails, so cron mails exactly the failures to ``MAILTO``.

    Args:
        pas: absolute path of the ``pas`` executable.
        env_file: absolute path of the settings file, or None when settings come from
            the environment of cron itself.
        home: the data directory (``PAS_HOME``) the jobs use; None leaves it to the settings.
    """
    words = [cron_quote(pas)]
    if env_file is not None:
        words += ["--env-file", cron_quote(env_file)]
    if home is not None:
        words += ["--home", cron_quote(home)]
    lines = [
        "# pas: the schedule. Install with `crontab -e` (or `pas cron | crontab -`).",
        "# One line runs it all: every five minutes `pas tick` runs the jobs that are due in New York",
        "# time (see `pas schedule`), whatever this machine's time zone; each job runs once per slot,",
        "# a slot missed while the machine was off runs at the next tick of that day.",
        "# The tick prints only when a job fails, so cron mails failures to MAILTO (set it below);",
        "# every run is logged to PAS_HOME/pas.log.",
        "# MAILTO=you@example.com",
    ]
    if env_file is None:
        lines.append("# No settings file: pas reads its settings from cron's environment (set them above).")
    lines.append(f"*/{TICK_MINUTES} * * * * {' '.join(words)} tick")
    return "\n".join(lines) + "\n"


EXAMPLE_PATHS = {
    "pas": "/home/you/pas/.venv/bin/pas",
    "env_file": "/home/you/.config/pas/pas.env",
    "home": "/home/you/.local/share/pas",
}
"""The placeholder paths of ``crontab.example`` (``pas cron`` prints this installation's)."""
