"""Incremental download of daily closes from a broker's market data into the store.

Each symbol starts the day after its newest stored close, so a daily cron job asks only
for the days it has not seen. Closes are split- and dividend-adjusted as the broker
delivers them; ``start`` re-fetches from a given day, replacing what is stored (after a
split the adjusted history changes).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from pas.domain.broker import MarketClock
from pas.models import Price
from pas.portfolio.broker.base import Broker
from pas.store.base import Store

# Days of history fetched for a symbol with no stored close: a year of trading days plus
# slack, enough for trailing one-year statistics.
DEFAULT_HISTORY_DAYS = 400


@dataclass(frozen=True)
class FetchResult:
    """What a fetch did.

    Attributes:
        written: closes stored.
        end: the last day asked for (the newest completed session).
        fetched: symbols asked for, by the first day asked for.
        up_to_date: symbols that already had every completed day.
        missing: symbols asked for that came back without a single bar.
        newest: the day of the newest close stored afterwards, per symbol asked for that
            has one (what a consumer will actually value or trade at, which can be long
            before ``end``: a delisted ticker, a feed without the symbol).
    """

    written: int
    end: date
    fetched: dict[str, date] = field(default_factory=dict)
    up_to_date: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    newest: dict[str, date] = field(default_factory=dict)


def last_completed_day(market: MarketClock) -> date:
    """The newest trading day whose close is final: the day before the next close's day.

    During a session (or before the open) the next close is today, so today is left out;
    after the close the next close is a later day, so today is in. Dates are UTC: a
    session closes at 20:00 or 21:00 UTC, the same day as in New York.
    """
    return market.next_close.date() - timedelta(days=1)


def tracked_symbols(store: Store, benchmark: str) -> list[str]:
    """Every symbol a portfolio holds or targets, plus the benchmark, sorted."""
    symbols = {benchmark}
    for portfolio in store.list_portfolios():
        symbols.update(store.holdings(portfolio.id))
        current = store.current_weights(portfolio.id)
        if current is not None:
            symbols.update(current.weights)
    return sorted(symbols)


def fetch_closes(
    broker: Broker,
    store: Store,
    symbols: Iterable[str],
    start: date | None = None,
) -> FetchResult:
    """Downloads the daily closes not yet stored and stores them.

    Args:
        broker: where bars come from (its clock says which sessions are complete).
        store: where closes go.
        symbols: tickers, upper case.
        start: first day for every symbol, re-fetching stored days; default: the day after
            each symbol's newest stored close, or ``DEFAULT_HISTORY_DAYS`` ago.
    """
    wanted = list(dict.fromkeys(symbols))
    end = last_completed_day(broker.clock())
    stored = store.latest_prices(wanted)
    first_day: dict[str, date] = {}
    up_to_date: list[str] = []
    for symbol in wanted:
        if start is not None:
            day = start
        elif symbol in stored:
            day = stored[symbol].day + timedelta(days=1)
        else:
            day = end - timedelta(days=DEFAULT_HISTORY_DAYS)
        if day > end:
            up_to_date.append(symbol)
        else:
            first_day[symbol] = day
    by_start: dict[date, list[str]] = {}
    for symbol, day in first_day.items():
        by_start.setdefault(day, []).append(symbol)
    written = 0
    seen: set[str] = set()
    for day, group in sorted(by_start.items()):
        bars = broker.daily_bars(group, day, end)
        seen.update(bar.symbol for bar in bars)
        written += store.upsert_prices(Price(bar.symbol, bar.day, bar.close) for bar in bars)
    missing = [s for s in first_day if s not in seen]
    newest = {s: p.day for s, p in store.latest_prices(wanted).items()}
    return FetchResult(written, end, first_day, up_to_date, missing, newest)
