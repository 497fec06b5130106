"""Contract of scraped records, on every backend."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

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


def test_a_revision_keeps_the_values_it_replaces_until_pas_saw_it(store: Store, clock: FakeClock) -> None:
    store.upsert_records("lobbying", [rec(1, amount="120000")])
    clock.advance(86400)
    revised_at = clock.now
    later_public = T0 + timedelta(days=3)  # an edit that would make it public later
    assert store.upsert_records("lobbying", [rec(1, amount="125000", public=later_public)]) == UpsertCounts(
        0, 1, 0
    )
    clock.advance(86400)
    store.upsert_records("lobbying", [rec(1, amount="130000")])

    def amounts(as_of: datetime | None) -> list[str]:
        return [r.fields["Amount"] for r in store.records("lobbying", as_of=as_of)]

    # Public at T0 with its first values, which stand until pas first saw the correction.
    assert amounts(T0) == amounts(revised_at - timedelta(seconds=1)) == ["120000"]
    assert amounts(revised_at) == ["125000"]
    assert amounts(clock.now) == amounts(None) == ["130000"]
    (stored,) = store.records("lobbying")
    assert stored.public_at == T0  # an edit never moves public_at
    assert store.upsert_records("lobbying", [rec(1, amount="130000")]) == UpsertCounts(0, 0, 1)
    assert amounts(revised_at) == ["125000"]


def test_records_under_the_old_keys_are_dropped_once_with_their_coverage(tmp_path: Path) -> None:
    # Keys used to hash corrected values (amounts) and bare dates were 00:00 UTC: records
    # stored so would be duplicated by the next scrape, so an upgraded store starts over.
    import sqlite3

    import mongomock

    from pas.store.mongo import MongoStore
    from pas.store.sqlite import SqliteStore
    from pas.store.sqlite.store import MIGRATIONS

    path = tmp_path / "old.db"
    with SqliteStore(path) as fresh:
        fresh.upsert_records("lobbying", [rec(1)])
        fresh.coverage_put("lobbying", "{}")
    db = sqlite3.connect(path)
    db.execute("DROP TABLE record_revisions")  # as written by the version before
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) - 1}")
    db.commit()
    db.close()
    with SqliteStore(path) as upgraded:
        assert upgraded.records("lobbying") == [] and upgraded.coverage_get("lobbying") is None
        upgraded.upsert_records("lobbying", [rec(1)])
    with SqliteStore(path) as again:
        assert len(again.records("lobbying")) == 1

    client = mongomock.MongoClient(tz_aware=True)
    client["old"]["records"].insert_one({"dataset": "lobbying", "key": "old-key"})
    client["old"]["scrape_coverage"].insert_one({"_id": "lobbying", "coverage": "{}"})
    upgraded_mongo = MongoStore(client, "old")
    assert upgraded_mongo._collection("records").count_documents({}) == 0
    assert upgraded_mongo.coverage_get("lobbying") is None
    upgraded_mongo.upsert_records("lobbying", [rec(1)])
    assert len(MongoStore(client, "old").records("lobbying")) == 1
