"""Federal government contract awards to listed companies.

All recent awards come from ``live/govcontractsall``, one company's from
``historical/govcontractsall/{ticker}``. An award is public at the end of its announcement
``Date`` in New York (a bare date); ``action_date`` (when the agency signed) is kept but
never used as the public date. An award is known by its ticker, days, agency and
description; its amount is a value a correction revises.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from pas.records import Record, natural_key
from pas.schedule import day_end
from pas.scrapers.base import (
    Answer,
    Dataset,
    FetchPlan,
    amount,
    as_row,
    day,
    dec,
    per_ticker,
    text,
    ticker,
    windowed,
)

if TYPE_CHECKING:
    from pas.scrapers.client import QuiverClient

NAME = "contracts"
# ``live/govcontractsall`` is asked one announcement day at a time (``date=YYYYMMDD``,
# paged), as QuantConnect's downloader of the real feed does; a first scrape reaches back
# three years (the strategy looks back 30 days), about a thousand requests.
HISTORY_DAYS = 3 * 365


def normalise(raw: Any) -> Record:
    row = as_row(raw)
    symbol = ticker(row, "Ticker")
    announced = day(row, "Date")
    assert announced is not None
    action = day(row, "action_date", required=False)
    identity = {
        "ticker": symbol,
        "date": announced.isoformat(),
        "action_date": None if action is None else action.isoformat(),
        "agency": text(row, "Agency", required=False),
        "description": text(row, "Description", required=False),
    }
    fields = {**identity, "amount": dec(amount(row, "Amount"))}
    return Record(NAME, natural_key(NAME, identity), symbol, announced, day_end(announced), fields)


def fetch(client: QuiverClient, plan: FetchPlan) -> Iterator[Answer]:
    """Each requested ticker's history, or the days of ``live/govcontractsall`` that
    coverage lacks."""
    if plan.tickers:
        yield from per_ticker(client, "historical/govcontractsall", plan, NAME)
        return

    def request(first: date, last: date) -> Iterator[Sequence[Any]]:
        return client.pages("live/govcontractsall", {"date": first.strftime("%Y%m%d")}, dataset=NAME)

    yield from windowed(client, plan, 1, request)


DATASET = Dataset(
    NAME, ("gov_contracts",), "government contract awards", fetch, normalise, history_days=HISTORY_DAYS
)
