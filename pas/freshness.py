"""How old a stored close may be before pas refuses to trade on it or warns about it.

The rule, one for every command: a close is **stale** when more than
``PRICE_MAX_STALE_DAYS`` (default 5) calendar days lie between its day and today in New
York. Calendar days, not trading days, because the point is to notice that
``pas prices fetch`` stopped bringing closes in; the longest normal gap (a Monday holiday
after a weekend, before Tuesday's close) is 4 days. Who does what with a stale close:

- ``pas rebalance --broker sim`` refuses (exit 1, nothing sent): the sim broker would fill
  at it;
- ``pas metrics update`` refuses the portfolio (exit 1): a day valued at an old close
  would be a made-up return of zero;
- ``pas risk`` and ``pas positions`` value with it and say so (a warning, a mark);
- ``pas prices fetch`` reports the newest close stored per symbol, and exits 1 when a
  symbol's is still stale after fetching.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from pas.errors import StaleDataError

# How many stale symbols one message names.
MAX_NAMED = 5


@dataclass(frozen=True)
class StaleClose:
    """A symbol whose newest stored close is older than the limit."""

    symbol: str
    day: date


def is_stale(day: date, today: date, max_days: int) -> bool:
    """True when the close of ``day`` is more than ``max_days`` calendar days before ``today``."""
    return (today - day).days > max_days


def stale_closes(newest: Mapping[str, date], today: date, max_days: int) -> list[StaleClose]:
    """The symbols of ``newest`` (symbol -> day of its newest close) whose close is stale,
    oldest first. Symbols without any close are not in ``newest`` and not judged here."""
    found = [StaleClose(s, d) for s, d in newest.items() if is_stale(d, today, max_days)]
    return sorted(found, key=lambda c: (c.day, c.symbol))


def describe(stale: Iterable[StaleClose], today: date, max_days: int) -> str:
    """``AAPL 2024-01-25, MSFT 2025-12-31`` and the limit, for one-line messages."""
    listed = list(stale)
    named = ", ".join(f"{c.symbol} {c.day}" for c in listed[:MAX_NAMED])
    more = f" and {len(listed) - MAX_NAMED} more" if len(listed) > MAX_NAMED else ""
    return f"{named}{more} (more than PRICE_MAX_STALE_DAYS={max_days} days before {today})"


def require_fresh(newest: Mapping[str, date], today: date, max_days: int, doing: str) -> None:
    """Refuses to go on with stale closes.

    Args:
        doing: what would use them, for the message (``fill orders``).

    Raises:
        StaleDataError: naming the stale symbols and the fix.
    """
    stale = stale_closes(newest, today, max_days)
    if stale:
        raise StaleDataError(
            f"refusing to {doing} at stale closes: {describe(stale, today, max_days)}; run "
            "`pas prices fetch` (or raise PRICE_MAX_STALE_DAYS), then run this again"
        )
