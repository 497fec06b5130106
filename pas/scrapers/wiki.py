"""Daily Wikipedia page views of listed companies.

``live/wikipedia`` holds the latest day, ``historical/wikipedia/{ticker}`` one company's
history. A day's views are public at the end of the day in New York. Quiver has been seen answering 404
here (a discontinued dataset): the client reports that and the other datasets go on.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pas.records import Record, natural_key
from pas.schedule import day_end
from pas.scrapers.base import (
    Answer,
    Dataset,
    FetchPlan,
    Reject,
    amount,
    as_row,
    day,
    dec,
    per_ticker,
    single,
    ticker,
)

if TYPE_CHECKING:
    from pas.scrapers.client import QuiverClient

NAME = "wiki"


def normalise(raw: Any) -> Record:
    row = as_row(raw)
    symbol = ticker(row, "Ticker")
    viewed = day(row, "Date")
    assert viewed is not None
    views = amount(row, "Views")
    assert views is not None
    if views < 0:
        raise Reject("negative Views")
    return views_record(
        symbol,
        viewed,
        views,
        amount(row, "pct_change_week", required=False),
        amount(row, "pct_change_month", required=False),
    )


def views_record(
    symbol: str, viewed: date, views: Decimal, pct_week: Decimal | None, pct_month: Decimal | None
) -> Record:
    """The wiki record of one company's views on one day, whichever source gave them.

    The natural key is the ticker and the day (a later count of the day is a revision);
    the views are public at the end of the day in New York, after the day's count is
    complete (Wikimedia's days end at midnight UTC, earlier).
    """
    identity = {"ticker": symbol, "date": viewed.isoformat()}
    fields = {
        **identity,
        "views": dec(views),
        "pct_change_week": dec(pct_week),
        "pct_change_month": dec(pct_month),
    }
    return Record(NAME, natural_key(NAME, identity), symbol, viewed, day_end(viewed), fields)


def fetch(client: QuiverClient, plan: FetchPlan) -> Iterator[Answer]:
    if plan.tickers:
        yield from per_ticker(client, "historical/wikipedia", plan, NAME)
    else:
        yield Answer(single(client, "live/wikipedia", {}, NAME))


# The live feed holds only the latest day: there is no history to cover.
DATASET = Dataset(NAME, (), "Wikipedia page views", fetch, normalise, tracks_coverage=False)
