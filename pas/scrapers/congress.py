"""Trades by members of the US Congress (STOCK Act disclosures).

History comes from ``bulk/congresstrading`` (paged, ``version=V2``), recent rows from
``live/congresstrading``, one ticker from ``historical/congresstrading/{ticker}``. The
live and bulk feeds name fields differently; both are read. Amounts are disclosed as
ranges (``$1,001 - $15,000``): both bounds are kept.

A trade is public (:func:`public_time`) when Quiver uploaded it (``Quiver_Upload_Time``),
never before its filing day (``Filed``, the disclosure date) and never on the trade day;
``last_modified`` (when Quiver last edited the row) is never a public time. A trade is
known by its ticker, member, trade day and kind (purchase, sale); the filing day, the
amount range and the description are values an amended report (PTR) or an edit by Quiver
revises. Quiver's rows carry no report id and no amendment flag (its schema's
``CongressionalTradeV2``): an amended report that Quiver shows in place of the original is
a revision of it; one shown beside it is the same trade twice in one answer, which pas
cannot tell from two equal trades and keeps as two.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pas.records import Record, natural_key
from pas.schedule import day_end, day_start
from pas.scrapers.base import (
    Answer,
    Dataset,
    FetchPlan,
    Reject,
    as_row,
    dateless_feed,
    day,
    dec,
    moment,
    per_ticker,
    reaches_back,
    single,
    text,
    ticker,
    to_decimal,
)

if TYPE_CHECKING:
    from pas.scrapers.client import QuiverClient

NAME = "congress"
# Bulk congress trading allows 5 requests an hour and asks for large pages rather than
# many small ones; a page of this many rows is a few megabytes of JSON.
BULK_PAGE_SIZE = 10_000
# The STOCK Act's reporting bands: a bare lower bound from Quiver is widened to its band.
BANDS: tuple[tuple[int, int | None], ...] = (
    (1, 1000),
    (1001, 15000),
    (15001, 50000),
    (50001, 100000),
    (100001, 250000),
    (250001, 500000),
    (500001, 1000000),
    (1000001, 5000000),
    (5000001, 25000000),
    (25000001, 50000000),
    (50000001, None),
)
# QuantConnect's processor of the real feed: "QuiverQuant started to record
# Quiver_Upload_Time on Aug 28th 2023; all data prior to that date has this value".
UPLOAD_TIME_BEGAN = date(2023, 8, 28)
# Ticker types that are listed stock; options, bonds and funds are rejected.
STOCK_TYPES = frozenset({"", "ST", "STOCK", "CS", "COMMON STOCK"})
_RANGE_SPLIT = re.compile(r"\s*-\s*")
# The chamber names of Quiver's schema: V1 ``House`` "Representatives or Senate", V2
# ``Chamber`` "Senate or House".
CHAMBERS = {"representatives": "House", "house": "House", "senate": "Senate"}


def amount_range(value: Any) -> tuple[Decimal, Decimal | None]:
    """(lower, upper) bounds of a disclosed amount; upper None for 'Over $50,000,000'."""
    if isinstance(value, str):
        raw = value.strip()
        if raw.lower().startswith("over"):
            return to_decimal(raw[4:], "amount") + 1, None
        parts = _RANGE_SPLIT.split(raw) if " - " in raw or "-$" in raw else [raw]
        if len(parts) == 2:
            low, high = to_decimal(parts[0], "amount"), to_decimal(parts[1], "amount")
            if high < low:
                raise Reject("unparseable amount")
            return low, high
    low = to_decimal(value, "amount")
    for band_low, band_high in BANDS:
        if low == band_low:
            return low, None if band_high is None else Decimal(band_high)
    return low, low


def normalise(raw: Any) -> Record:
    row = as_row(raw)
    symbol = ticker(row, "Ticker")
    kind = text(row, "TickerType", "Ticker_Type", required=False).upper()
    if kind not in STOCK_TYPES:
        raise Reject("not a stock")
    traded = day(row, "Traded", "TransactionDate")
    filed = day(row, "Filed", "ReportDate")
    assert traded is not None and filed is not None
    transaction = text(row, "Transaction")
    size = row.get("Trade_Size_USD") or row.get("Range") or row.get("Amount")
    if size is None:
        raise Reject("missing Trade_Size_USD")
    low, high = amount_range(size)
    identity = {
        "ticker": symbol,
        "name": text(row, "Name", "Representative"),
        "traded": traded.isoformat(),
        "transaction": transaction,
    }
    fields = {
        **identity,
        "chamber": chamber_of(row),
        "filed": filed.isoformat(),
        "low": dec(low),
        "high": dec(high),
        "description": text(row, "Description", required=False),
        "party": text(row, "Party", required=False),
        "ticker_type": kind,
    }
    public_at = public_time(
        filed, moment(row, "Quiver_Upload_Time"), day(row, "Quiver_Upload_Time", required=False)
    )
    return Record(NAME, natural_key(NAME, identity), symbol, traded, public_at, fields)


def chamber_of(row: Mapping[str, Any]) -> str:
    """The chamber as one name, ``House`` or ``Senate`` (another value as sent, '' when absent).

    Quiver's V1 rows (live and per-ticker feeds) say ``House: "Representatives"``, its V2 rows
    (the bulk feed) ``Chamber: "House"``: one trade read from both keeps one value instead of
    a revision at every scrape that reads the other feed.
    """
    chamber = text(row, "Chamber", "House", required=False)
    return CHAMBERS.get(chamber.lower(), chamber)


def public_time(filed: date, uploaded: datetime | None, upload_day: date | None) -> datetime:
    """When a trade became public: its upload time, never before its filing day.

    Args:
        filed: the filing (disclosure) day.
        uploaded: ``Quiver_Upload_Time`` as a public time (None when absent).
        upload_day: the day of ``Quiver_Upload_Time`` as written.

    Returns:
        ``uploaded`` when it falls on or after the start of the filing day in New York;
        else (no upload time, one before the filing day: a data bug, or the 2023-08-28 stamp
        Quiver gave every trade filed before it began recording upload times) the end of
        the filing day in New York.
    """
    backfill_stamp = upload_day == UPLOAD_TIME_BEGAN and filed < UPLOAD_TIME_BEGAN
    if uploaded is None or backfill_stamp or uploaded < day_start(filed):
        return day_end(filed)
    return uploaded


def each_chamber_reaches_back(rows: Sequence[Any], since: datetime) -> bool:
    """Whether the live feed's rows reach back past ``since`` in each chamber.

    ``live/congresstrading`` is two capped lists, "up to 500 from the House and 500 from the
    Senate" (Quiver's quickstart): a busy House's rows can end days after the Senate's
    reach months back, so the oldest row of the answer says nothing of the other chamber.
    """
    chambers: dict[str, list[Any]] = defaultdict(list)
    for raw in rows:
        try:
            chamber = chamber_of(raw) if isinstance(raw, Mapping) else ""
        except Reject:
            chamber = ""
        chambers[chamber].append(raw)
    return bool(chambers) and all(reaches_back(group, DATASET, since) for group in chambers.values())


def fetch(client: QuiverClient, plan: FetchPlan) -> Iterator[Answer]:
    """One ticker's history, or the bulk feed (backfill, then new rows); the live feed,
    which holds the recent weeks, spares the bulk feed when each chamber's rows in it reach
    back far enough (:func:`each_chamber_reaches_back`)."""
    if plan.tickers:
        yield from per_ticker(client, "historical/congresstrading", plan, NAME)
        return
    yield from dateless_feed(
        client,
        plan,
        DATASET,
        "bulk/congresstrading",
        {"version": "V2"},
        BULK_PAGE_SIZE,
        recent=lambda: single(client, "live/congresstrading", {}, NAME),
        recent_reaches_back=each_chamber_reaches_back,
    )


DATASET = Dataset(
    name=NAME,
    aliases=("politician",),
    description="trades by members of Congress",
    fetch=fetch,
    normalise=normalise,
)
