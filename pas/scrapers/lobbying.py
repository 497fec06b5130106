"""Corporate lobbying disclosures (LDA filings matched to tickers).

Recent filings come from ``live/lobbying`` (``date_from``/``date_to`` as YYYYMMDD, paged),
one company's history from ``historical/lobbying/{ticker}``. Quiver dates a filing by the
day it was received; it is public from the next day.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from pas.records import Record, natural_key
from pas.scrapers.base import Dataset, FetchPlan, amount, as_row, day, dec, midnight, per_ticker, text, ticker

if TYPE_CHECKING:
    from pas.scrapers.client import QuiverClient

NAME = "lobbying"
# Where a first scrape of the live feed starts (Quiver's lobbying history begins in 1999;
# the strategies look back a few years).
HISTORY_START = date(2016, 1, 1)


def normalise(raw: Any) -> Record:
    row = as_row(raw)
    symbol = ticker(row, "Ticker")
    filed = day(row, "Date")
    assert filed is not None
    spent = amount(row, "Amount")
    identity = {
        "ticker": symbol,
        "date": filed.isoformat(),
        "client": text(row, "Client", required=False),
        "registrant": text(row, "Registrant", required=False),
        "issue": text(row, "Issue", required=False),
        "specific_issue": text(row, "Specific_Issue", required=False),
        "amount": dec(spent),
    }
    return Record(NAME, natural_key(NAME, identity), symbol, filed, midnight(filed, 1), identity)


def fetch(client: QuiverClient, plan: FetchPlan) -> Iterator[Sequence[Any]]:
    if plan.tickers:
        yield from per_ticker(client, "historical/lobbying", plan, NAME)
        return
    start = HISTORY_START if plan.since is None else plan.since.date()
    params = {"date_from": start.strftime("%Y%m%d"), "date_to": plan.today.strftime("%Y%m%d")}
    yield from client.pages("live/lobbying", params, dataset=NAME)


DATASET = Dataset(NAME, (), "corporate lobbying spend", fetch, normalise)
