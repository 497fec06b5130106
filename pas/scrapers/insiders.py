"""Trades by corporate insiders (SEC Form 4), and the insider sentiment derived from them.

``live/insiders`` is paged (``page``/``page_size``, newest first) and takes ``ticker``.
A trade is public when its Form 4 was filed (``fileDate``, "when the transaction was filed
and became publicly available" in Quiver's schema), else when Quiver uploaded it; a filing
day without a time is public at the end of that day in New York.

A trade is known by its ticker, day, insider, codes, shares and price. Quiver's rows carry
no accession number and no amendment flag (its schema's ``Form4Entry``), so a Form 4/A is
told from its original only by what it restates: one that repeats the trade (a later
``fileDate``, other holdings after it) is a revision of it, one that corrects the shares or
the price is stored as another trade.
Quiver has no insider-score endpoint: :func:`insider_sentiment` derives one from the
stored trades, as net open-market buying.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pas.records import Record, natural_key
from pas.scrapers.base import (
    Answer,
    Dataset,
    FetchPlan,
    Reject,
    amount,
    as_row,
    dateless_feed,
    day,
    dec,
    moment,
    paged_since,
    text,
    ticker,
)

if TYPE_CHECKING:
    from pas.scrapers.client import QuiverClient

NAME = "insiders"
# Form 4 transaction codes of open-market trades: P purchase, S sale. Grants (A), option
# exercises (M), tax withholding (F) and gifts (G) say little about an insider's view.
OPEN_MARKET_BUY = "P"
OPEN_MARKET_SELL = "S"


def normalise(raw: Any) -> Record:
    row = as_row(raw)
    symbol = ticker(row, "Ticker")
    traded = day(row, "Date")
    assert traded is not None
    code = text(row, "TransactionCode").upper()
    if len(code) > 4:
        raise Reject("unparseable TransactionCode")
    direction = text(row, "AcquiredDisposedCode", required=False).upper()
    if direction not in ("", "A", "D"):
        raise Reject("unparseable AcquiredDisposedCode")
    shares = amount(row, "Shares")
    price = amount(row, "PricePerShare", required=False)
    public_at = moment(row, "fileDate", "uploaded")
    if public_at is None:
        raise Reject("missing fileDate")
    identity = {
        "ticker": symbol,
        "date": traded.isoformat(),
        "name": text(row, "Name"),
        "code": code,
        "acquired_disposed": direction,
        "shares": dec(shares),
        "price": dec(price),
    }
    fields = {
        **identity,
        "file_date": str(day(row, "fileDate", "uploaded")),
        "shares_owned_following": dec(amount(row, "SharesOwnedFollowing", required=False)),
    }
    return Record(NAME, natural_key(NAME, identity), symbol, traded, public_at, fields)


# ``live/insiders`` serves 100 requests a minute; pages of this size keep a backfill short.
PAGE_SIZE = 1000


def fetch(client: QuiverClient, plan: FetchPlan) -> Iterator[Answer]:
    """Each requested ticker's trades (``ticker``), or the whole feed (backfill, then new rows)."""
    if not plan.tickers:
        yield from dateless_feed(client, plan, DATASET, "live/insiders", {}, PAGE_SIZE)
    for symbol in plan.tickers:
        for rows in paged_since(client, "live/insiders", {"ticker": symbol}, DATASET, plan.since, PAGE_SIZE):
            yield Answer(rows)


def insider_sentiment(
    records: Iterable[Record], as_of: datetime, window_days: int = 90
) -> dict[str, Decimal]:
    """Net open-market buying per ticker: dollars bought minus dollars sold by insiders in
    trades public within ``window_days`` before ``as_of`` (point-in-time; only trades
    public at or before ``as_of`` count). Tickers with no such trade are left out.

    Returns:
        Dollars per ticker: positive means insiders were net buyers.
    """
    start = as_of - timedelta(days=window_days)
    net: dict[str, Decimal] = defaultdict(Decimal)
    for r in records:
        if not start < r.public_at <= as_of:
            continue
        code = r.fields.get("code")
        if code not in (OPEN_MARKET_BUY, OPEN_MARKET_SELL) or r.fields.get("price") is None:
            continue
        value = Decimal(r.fields["shares"]) * Decimal(r.fields["price"])
        net[r.ticker] += value if code == OPEN_MARKET_BUY else -value
    return dict(net)


DATASET = Dataset(NAME, ("dc_insider",), "trades by corporate insiders (Form 4)", fetch, normalise)
