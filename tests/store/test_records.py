"""Contract of scraped records, on every backend."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from pas.records import Record, UpsertCounts, natural_key
from pas.store.base import Store
from tests.conftest import FakeClock

T0 = datetime(2026, 1, 2, tzinfo=UTC)


def rec(n: int, ticker: str = "AAPL", amount: str = "100", public: datetime = T0) -> Record:
    return Record(
        dataset="lobbying",
        key=natural_key("lobbying", {"n": n, "ticker": ticker}),
        ticker=ticker,
        event_date=date(2026, 1, 1),
        public_at=public,
        fields={"Amount": amount, "Client": f"client {n}"},
    )


def test_upsert_counts_new_updated_unchanged_and_keeps_first_seen(store: Store, clock: FakeClock) -> None:
    assert store.upsert_records("lobbying", [rec(1), rec(2)]) == UpsertCounts(2, 0, 0)
    first = {r.key: r.first_seen for r in store.records("lobbying")}
    clock.advance(3600)
    assert store.upsert_records("lobbying", [rec(1), rec(2, amount="200"), rec(3)]) == UpsertCounts(1, 1, 1)
    stored = {r.key: r for r in store.records("lobbying")}
    assert len(stored) == 3
    assert stored[rec(2).key].fields["Amount"] == "200"
    assert stored[rec(2).key].first_seen == first[rec(2).key]
    assert stored[rec(3).key].first_seen == clock.now


def test_records_point_in_time_ticker_and_since(store: Store) -> None:
    store.upsert_records(
        "lobbying",
        [rec(i, ticker="MSFT" if i % 2 else "AAPL", public=T0 + timedelta(days=i)) for i in range(6)],
    )
    store.upsert_records("wiki", [Record("wiki", "k", "AAPL", date(2026, 1, 1), T0, {"Views": 5})])
    as_of = store.records("lobbying", as_of=T0 + timedelta(days=2))
    assert [r.public_at for r in as_of] == [T0, T0 + timedelta(days=1), T0 + timedelta(days=2)]
    assert {r.ticker for r in store.records("lobbying", ticker="MSFT")} == {"MSFT"}
    assert len(store.records("lobbying", since=T0 + timedelta(days=4))) == 2
    assert store.latest_public_at("lobbying") == T0 + timedelta(days=5)
    assert store.latest_public_at("congress") is None


def test_hostile_field_names_are_stored_as_data(store: Store) -> None:
    fields = {"$where": "sleep(1000)", "a.b": {"$gt": ""}, "Amount": "1"}
    r = Record("lobbying", "k1", "AAPL", date(2026, 1, 1), T0, fields)
    assert store.upsert_records("lobbying", [r]).new == 1
    (back,) = store.records("lobbying")
    assert back.fields == fields


def test_duplicate_keys_in_one_batch_are_one_record(store: Store) -> None:
    counts = store.upsert_records("lobbying", [rec(1), rec(1), rec(1, amount="5")])
    assert counts == UpsertCounts(1, 1, 1)
    assert [r.fields["Amount"] for r in store.records("lobbying")] == ["5"]


def test_mongo_insert_race_counts_the_loser_as_unchanged() -> None:
    # Two scrapes of one dataset can both find a key missing and both insert it; the unique
    # index keeps one copy and the second writer must not fail.
    import mongomock

    from pas.store.mongo import MongoStore

    store = MongoStore(mongomock.MongoClient(tz_aware=True), "race")
    docs = [{"dataset": "lobbying", "key": f"k{n}", "digest": "d"} for n in range(3)]
    assert store._insert_new([dict(d) for d in docs]) == 0
    assert store._insert_new([dict(d) for d in docs] + [{"dataset": "lobbying", "key": "k9"}]) == 3
    assert store._collection("records").count_documents({}) == 4


def test_newest_records_read_one_page_newest_first(store: Store) -> None:
    # pas data shows one page; the store reads that page, not the whole dataset.
    tickers = ("AAPL", "MSFT", "TSLA")
    records = [rec(i, ticker=tickers[i % 3], public=T0 + timedelta(days=i // 2)) for i in range(12)]
    store.upsert_records("lobbying", records)
    every = store.records("lobbying")
    assert store.newest_records("lobbying", 5) == every[-5:][::-1]
    assert store.count_records("lobbying") == 12
    since = T0 + timedelta(days=2)
    two = [r for r in every if r.ticker in ("AAPL", "TSLA") and r.public_at >= since]
    assert store.newest_records("lobbying", 3, tickers=["TSLA", "AAPL"], since=since) == two[-3:][::-1]
    assert store.newest_records("lobbying", 100, tickers=["TSLA", "AAPL"], since=since) == two[::-1]
    assert store.count_records("lobbying", tickers=["TSLA", "AAPL"], since=since) == len(two)
    assert store.newest_records("congress", 5) == [] and store.count_records("congress") == 0
