"""Dates from user input checked against the clock and the US equity market's calendar.

pas trades US equities, so the rules are the NYSE's (see :mod:`pas.schedule` for its
trading days). They are applied where a date cannot be right otherwise:

- nothing is dated in the future: a fill later than now, a close or a posted return after
  today in New York;
- a daily close and a posted daily return belong to an NYSE trading day;
- a fill belongs to the trading day of its time in New York, or to the next day from
  :data:`OVERNIGHT_OPEN` on (Alpaca's overnight session, 24/5, trades from 20:00 the
  evening before a trading day), so a fill on a Saturday, on a Sunday before 20:00 or
  on a holiday is refused. A fill on a holiday can be right for crypto; pas does not
  trade crypto.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from pas.errors import InputError
from pas.models import format_ts
from pas.schedule import MARKET_TZ, is_trading_day, market_day

OVERNIGHT_OPEN = time(20)
"""New York time from which a fill counts for the next day's session (Alpaca 24/5)."""


def session_day(ts: datetime) -> date:
    """The trading session a fill at ``ts`` belongs to (see the module docstring)."""
    local = ts.astimezone(MARKET_TZ)
    return local.date() + timedelta(days=1) if local.time() >= OVERNIGHT_OPEN else local.date()


def closed_reason(day: date) -> str | None:
    """Why the NYSE does not trade on ``day`` (``a weekend day``, ``an NYSE holiday``), or
    None on a trading day."""
    if is_trading_day(day):
        return None
    return "a weekend day" if day.weekday() >= 5 else "an NYSE holiday"


def check_fill_time(ts: datetime, now: datetime) -> None:
    """Refuses a fill time in the future or outside every US equity session.

    Raises:
        InputError: naming the time and the rule.
    """
    if ts > now:
        raise InputError(f"time {format_ts(ts)} is in the future (now is {format_ts(now)})")
    day = session_day(ts)
    closed = closed_reason(day)
    if closed:
        raise InputError(
            f"time {format_ts(ts)} falls on {day} in New York, {closed}, when US stocks "
            "do not trade; check the date (a time without a zone is UTC)"
        )


def check_market_day(day: date, now: datetime, what: str) -> None:
    """Refuses a day after today in New York, or one that is not an NYSE trading day.

    Args:
        what: the field in the error (``date``, ``--date``).

    Raises:
        InputError: naming the day and the rule.
    """
    today = market_day(now)
    if day > today:
        raise InputError(f"{what} {day} is in the future (today is {today} in New York)")
    closed = closed_reason(day)
    if closed:
        raise InputError(f"{what} {day} is {closed}, not an NYSE trading day")
