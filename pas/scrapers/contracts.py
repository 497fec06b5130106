"""Federal government contract awards to listed companies.

All recent awards come from ``live/govcontractsall``, one company's from
``historical/govcontractsall/{ticker}``. An award is public on its announcement ``Date``;
``action_date`` (when the agency signed) is kept but never used as the public date.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from pas.records import Record, natural_key
from pas.scrapers.base import (
    Dataset,
    FetchPlan,
    amount,
    as_row,
    day,
    dec,
    midnight,
    per_ticker,
    single,
    text,
    ticker,
)

if TYPE_CHECKING:
    from pas.scrapers.client import QuiverClient

NAME = "contracts"


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
        "amount": dec(amount(row, "Amount")),
    }
    return Record(NAME, natural_key(NAME, identity), symbol, announced, midnight(announced), identity)


def fetch(client: QuiverClient, plan: FetchPlan) -> Iterator[Sequence[Any]]:
    if plan.tickers:
        yield from per_ticker(client, "historical/govcontractsall", plan, NAME)
    else:
        yield from single(client, "live/govcontractsall", {}, NAME)


DATASET = Dataset(NAME, ("gov_contracts",), "government contract awards", fetch, normalise)
