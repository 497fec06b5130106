"""Corporate lobbying disclosures (LDA filings matched to tickers).

Recent filings come from ``live/lobbying`` (``date_from``/``date_to`` as YYYYMMDD, paged),
one company's history from ``historical/lobbying/{ticker}``. Quiver dates a filing by the
day it was reported (a bare date): it is public at the end of that day in New York.

A filing is known by its ticker, day, client, registrant and issues; its amount and its
specific issue are values a corrected filing revises (an LD-2 amendment that Quiver shows in
place of the original is a revision of it). Quiver's rows carry no filing id and no
amendment flag (its schema's ``LobbyingRecord``), so an amendment dated on another day than
the original cannot be told from a new filing: it is stored as one.
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
    text,
    ticker,
    windowed,
)

if TYPE_CHECKING:
    from pas.scrapers.client import QuiverClient

NAME = "lobbying"
# A first scrape reaches back ten years (Quiver's lobbying history begins in 1999; the
# strategies look back a few years), one request window of 92 days (a filing quarter and
# a day) at a time, so an interrupted backfill resumes at the window it was reading.
HISTORY_DAYS = 10 * 365
WINDOW_DAYS = 92


def normalise(raw: Any) -> Record:
    row = as_row(raw)
    symbol = ticker(row, "Ticker")
    filed = day(row, "Date")
    assert filed is not None
    identity = {
        "ticker": symbol,
        "date": filed.isoformat(),
        "client": text(row, "Client", required=False),
        "registrant": text(row, "Registrant", required=False),
        "issue": text(row, "Issue", required=False),
    }
    fields = {
        **identity,
        "specific_issue": text(row, "Specific_Issue", required=False),
        "amount": dec(amount(row, "Amount")),
    }
    return Record(NAME, natural_key(NAME, identity), symbol, filed, day_end(filed), fields)


def fetch(client: QuiverClient, plan: FetchPlan) -> Iterator[Answer]:
    """Each requested ticker's paged history, or the windows of ``live/lobbying`` that
    coverage lacks (``date_from``/``date_to`` as YYYYMMDD, both inclusive, paged)."""
    if plan.tickers:
        for symbol in plan.tickers:
            for rows in client.pages(f"historical/lobbying/{symbol}", dataset=NAME):
                yield Answer(rows)
        return

    def request(first: date, last: date) -> Iterator[Sequence[Any]]:
        params = {"date_from": first.strftime("%Y%m%d"), "date_to": last.strftime("%Y%m%d")}
        return client.pages("live/lobbying", params, dataset=NAME)

    yield from windowed(client, plan, WINDOW_DAYS, request)


DATASET = Dataset(NAME, (), "corporate lobbying spend", fetch, normalise, history_days=HISTORY_DAYS)
