"""Each dataset's normaliser: point-in-time dates, amounts, keys, and rejected rows."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from pas.scrapers import DATASETS, resolve
from pas.scrapers.base import Reject
from pas.scrapers.congress import amount_range
from pas.scrapers.congress import normalise as congress
from pas.scrapers.contracts import normalise as contracts
from pas.scrapers.insiders import insider_sentiment
from pas.scrapers.insiders import normalise as insiders
from pas.scrapers.lobbying import normalise as lobbying
from pas.scrapers.wiki import normalise as wiki
from tests.fakes.quiver import congress_rows, contract_rows, insider_rows, lobbying_rows, wiki_rows

NEWEST = date(2026, 1, 2)


def test_names_and_seed_aliases() -> None:
    assert list(DATASETS) == ["congress", "lobbying", "wiki", "insiders", "contracts"]
    assert [d.name for d in resolve("politician")] == ["congress"]
    assert [d.name for d in resolve("dc_insider")] == ["insiders"]
    assert [d.name for d in resolve("gov_contracts")] == ["contracts"]
    assert len(resolve("all")) == 5


def test_congress_public_at_is_upload_time_never_trade_date() -> None:
    row = congress_rows(1, NEWEST)[0]
    r = congress(row)
    assert r.event_date == date.fromisoformat(row["Traded"])
    # "2026-01-02 18:00:00" has no zone: New York time (EST), 23:00 UTC.
    assert r.public_at == datetime(2026, 1, 2, 23, 0, tzinfo=UTC)
    del row["Quiver_Upload_Time"]
    # Without an upload time: the end of the filing day in New York, never last_modified.
    assert congress(row).public_at == datetime(2026, 1, 3, 5, 0, tzinfo=UTC)
    assert "ExcessReturn" not in r.fields and "PriceChange" not in r.fields and "SPYChange" not in r.fields


def test_congress_live_field_names() -> None:
    live = {
        "Representative": "Jane Doe",
        "TransactionDate": "2025-12-01",
        "ReportDate": "2025-12-20",
        "Ticker": "NVDA",
        "Transaction": "Purchase",
        "Range": "$15,001 - $50,000",
        "House": "Senate",
        "TickerType": "ST",
    }
    r = congress(live)
    assert r.fields["low"] == "15001" and r.fields["high"] == "50000"
    assert r.public_at == datetime(2025, 12, 21, 5, 0, tzinfo=UTC)  # the end of ReportDate in New York


@pytest.mark.parametrize(
    ("value", "low", "high"),
    [
        ("$1,001 - $15,000", "1001", "15000"),
        ("1001.0", "1001", "15000"),
        (15001, "15001", "50000"),
        ("Over $50,000,000", "50000001", None),
        ("2500", "2500", "2500"),
    ],
)
def test_amount_ranges_keep_both_bounds(value: Any, low: str, high: str | None) -> None:
    lo, hi = amount_range(value)
    assert lo == Decimal(low)
    assert hi == (None if high is None else Decimal(high))


def test_lobbying_and_wiki_public_at_the_end_of_their_day_in_new_york() -> None:
    r = lobbying(lobbying_rows(1, NEWEST)[0])
    assert r.public_at == datetime(2026, 1, 3, 5, 0, tzinfo=UTC)
    assert r.fields["amount"] == "10000"
    w = wiki(wiki_rows(NEWEST)[0])
    assert w.public_at == datetime(2026, 1, 3, 5, 0, tzinfo=UTC)
    assert w.fields["views"] == "1000"


def test_contracts_public_on_announcement_not_action_date() -> None:
    row = contract_rows(1, NEWEST)[0]
    r = contracts(row)
    assert r.public_at == datetime(2026, 1, 3, 5, 0, tzinfo=UTC)  # the end of Date in New York
    assert r.fields["action_date"] == "2025-12-31"
    assert r.fields["amount"] == "125000.5"


def test_insiders_public_at_file_date_else_uploaded() -> None:
    row = insider_rows(1, NEWEST)[0]  # zone-less times: New York's (EST)
    assert insiders(row).public_at == datetime(2026, 1, 3, 2, 30, tzinfo=UTC)
    del row["fileDate"]
    assert insiders(row).public_at == datetime(2026, 1, 3, 3, 0, tzinfo=UTC)
    del row["uploaded"]
    with pytest.raises(Reject, match="missing fileDate"):
        insiders(row)


def test_distinct_rows_on_one_day_have_distinct_keys() -> None:
    a, b = lobbying_rows(2, NEWEST)
    b["Date"] = a["Date"]
    b["Ticker"] = a["Ticker"]
    assert lobbying(a).key != lobbying(b).key
    assert lobbying(a).key == lobbying(dict(a)).key


def test_insider_sentiment_is_net_open_market_buying() -> None:
    rows = insider_rows(8, NEWEST)
    for row in rows:
        row["Ticker"] = "AAPL"
    records = [insiders(r) for r in rows]
    as_of = datetime(2026, 1, 3, 5, tzinfo=UTC)
    buys = sum(Decimal(r["Shares"]) * Decimal("50.25") for r in rows[:6] if r["TransactionCode"] == "P")
    sells = sum(Decimal(r["Shares"]) * Decimal("50.25") for r in rows[:6] if r["TransactionCode"] == "S")
    assert insider_sentiment(records, as_of) == {"AAPL": buys - sells}
    assert insider_sentiment(records, datetime(2025, 1, 1, tzinfo=UTC)) == {}


BASE_LOBBY = lobbying_rows(1, NEWEST)[0]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"Ticker": None}, "missing ticker"),
        ({"Ticker": 42}, "ticker is not text"),
        ({"Ticker": "$where"}, "malformed ticker"),
        ({"Date": "yesterday"}, "unparseable Date"),
        ({"Date": 20260101}, "unparseable Date"),
        ({"Amount": "lots"}, "unparseable Amount"),
        ({"Amount": "NaN"}, "missing Amount"),  # Quiver's NaN is a number it does not have
        ({"Amount": True}, "unparseable Amount"),
        ({"Amount": {"$gt": 0}}, "unparseable Amount"),
        ({"Client": ["a"]}, "Client is not text"),
        ({"Issue": "x" * 1_000_000}, "Issue too long"),
    ],
)
def test_bad_rows_are_rejected_with_a_reason(change: dict[str, Any], reason: str) -> None:
    with pytest.raises(Reject) as info:
        lobbying({**BASE_LOBBY, **change})
    assert str(info.value) == reason


def test_non_stock_ticker_types_are_rejected() -> None:
    row = {**congress_rows(1, NEWEST)[0], "TickerType": "OP"}
    with pytest.raises(Reject, match="not a stock"):
        congress(row)


def test_hostile_keys_are_not_read() -> None:
    row = {**BASE_LOBBY, "$where": "sleep(100)", "a.b": 1, "$set": {"x": 1}}
    r = lobbying(row)
    assert not any(k.startswith("$") or "." in k for k in r.fields)


def test_not_an_object_is_rejected() -> None:
    for normalise in (congress, lobbying, wiki, insiders, contracts):
        with pytest.raises(Reject, match="not an object"):
            normalise(["AAPL", "2026-01-01"])
