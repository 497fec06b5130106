"""Contract of scraped records, on every backend."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from pas.errors import InputError
from pas.records import Record, RecordColumns, UpsertCounts, natural_key
from pas.store.base import Store
from pas.store.sqlite import SqliteStore
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
    # Strategies read the same view as columns.
    assert list(store.record_columns("lobbying", ["Amount"], T0).fields["Amount"]) == ["120000"]
    assert list(store.record_columns("lobbying", ["Amount"], revised_at).fields["Amount"]) == ["125000"]
    assert list(store.record_columns("lobbying", ["Amount"], clock.now).fields["Amount"]) == ["130000"]


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
    revisions = next(i for i, script in enumerate(MIGRATIONS) if "CREATE TABLE record_revisions" in script)
    # Undo the migrations after it, so the file is as that version left it.
    undo = {
        "ADD COLUMN broker": ["ALTER TABLE portfolios DROP COLUMN broker"],
        "ADD COLUMN limit_price_n": [
            "ALTER TABLE sim_orders DROP COLUMN limit_price_n",
            "ALTER TABLE sim_orders DROP COLUMN time_in_force",
        ],
        "CREATE TABLE ledger_folds": ["DROP TABLE ledger_folds"],
    }
    for script in MIGRATIONS[revisions + 1 :]:
        (statements,) = [sql for marker, sql in undo.items() if marker in script]
        for sql in statements:
            db.execute(sql)
    db.execute(f"PRAGMA user_version = {revisions}")
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


def test_record_columns_are_the_point_in_time_view_with_the_named_fields(store: Store) -> None:
    odd = {"Amount": "7", "flag": True, "off": False, "nested": {"b": [1, "x"], "a": None}, "$where": "1"}
    store.upsert_records(
        "lobbying",
        [
            rec(0, public=T0 + timedelta(days=1, microseconds=250)),
            rec(1, ticker="MSFT", public=T0),
            Record("lobbying", "odd", "ODD", date(2025, 12, 31), T0 + timedelta(days=2), odd),
            rec(3, public=T0 + timedelta(days=3)),  # after the as-of time
            rec(4, public=T0 - timedelta(days=1)),  # before since
        ],
    )
    store.upsert_records("wiki", [Record("wiki", "w", "AAPL", date(2026, 1, 1), T0, {"Amount": "9"})])
    fields = ["Amount", "flag", "off", "nested", "$where", "a.b", "missing"]
    got = store.record_columns("lobbying", fields, as_of=T0 + timedelta(days=2), since=T0)
    assert len(got) == 3
    assert list(got.ticker) == ["MSFT", "AAPL", "ODD"]
    assert got.event_date.tolist() == [date(2026, 1, 1), date(2026, 1, 1), date(2025, 12, 31)]
    assert got.public_at.tolist() == [
        datetime(2026, 1, 2),
        datetime(2026, 1, 3, 0, 0, 0, 250),
        datetime(2026, 1, 4),
    ]
    assert {name: list(values) for name, values in got.fields.items()} == {
        "Amount": ["100", "100", "7"],
        "flag": [None, None, 1],
        "off": [None, None, 0],
        "nested": [None, None, '{"a":null,"b":[1,"x"]}'],
        "$where": [None, None, "1"],
        "a.b": [None, None, None],  # a name, never a path into "a"
        "missing": [None, None, None],
    }
    # The same columns as the records themselves, as RecordColumns.of reads them.
    records = store.records("lobbying", as_of=T0 + timedelta(days=2), since=T0)
    expected = RecordColumns.of(records, fields)
    assert list(expected.ticker) == list(got.ticker)
    assert expected.public_at.tolist() == got.public_at.tolist()
    assert {k: list(v) for k, v in expected.fields.items()} == {k: list(v) for k, v in got.fields.items()}


def test_record_columns_keep_every_microsecond_and_day_at_the_edges(store: Store) -> None:
    # SQLite hands the times over as integers (days, microseconds since 1970): exact before
    # 1970, at a leap day, the last microsecond of a day and far ahead.
    times = [
        (date(1969, 12, 31), datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC)),
        (date(2024, 2, 29), datetime(2024, 2, 29, 23, 59, 59, 999_999, tzinfo=UTC)),
        (date(2026, 1, 1), datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=UTC)),
        (date(2099, 12, 31), datetime(2099, 12, 31, 12, 30, 15, 123_456, tzinfo=UTC)),
    ]
    records = [Record("wiki", f"k{n}", "AAPL", day, at, {"views": "1"}) for n, (day, at) in enumerate(times)]
    store.upsert_records("wiki", records)
    got = store.record_columns("wiki", ["views"], as_of=datetime(2100, 1, 1, tzinfo=UTC))
    expected = RecordColumns.of(records, ["views"])
    assert got.event_date.tolist() == expected.event_date.tolist() == [day for day, _ in times]
    naive = [at.replace(tzinfo=None) for _, at in times]
    assert got.public_at.tolist() == expected.public_at.tolist() == naive


def test_record_columns_are_in_public_then_key_order_with_every_column_aligned(store: Store) -> None:
    # SQLite hands each column over as one text: they must stay aligned and in order.
    keys = ["k5", "k1", "k9", "k3", "k7", "k2"]
    publics = [T0 + timedelta(hours=h) for h in (2, 1, 1, 3, 1, 2)]
    records = [
        Record("wiki", key, f"T{n}", date(2025, 12, n + 1), public, {"views": str(n), "o": {"n": n}})
        for n, (key, public) in enumerate(zip(keys, publics, strict=True))
    ]
    store.upsert_records("wiki", records)
    got = store.record_columns("wiki", ["views", "o"], as_of=T0 + timedelta(days=1))
    ordered = sorted(records, key=lambda r: (r.public_at, r.key))
    expected = RecordColumns.of(ordered, ["views", "o"])
    assert list(got.ticker) == list(expected.ticker) == ["T1", "T4", "T2", "T5", "T0", "T3"]
    assert got.event_date.tolist() == expected.event_date.tolist()
    assert got.public_at.tolist() == expected.public_at.tolist()
    assert {k: list(v) for k, v in got.fields.items()} == {k: list(v) for k, v in expected.fields.items()}


def test_record_columns_of_nothing_and_a_quoted_name(store: Store) -> None:
    empty = store.record_columns("congress", ["name"], as_of=T0)
    assert len(empty) == 0
    assert list(empty.fields["name"]) == []
    assert empty.public_at.dtype == "datetime64[us]"
    with pytest.raises(InputError, match="record field 'a\"b' has a double quote"):
        store.record_columns("congress", ['a"b'], as_of=T0)


def test_sqlite_reads_record_columns_from_the_covering_index(tmp_path: Path) -> None:
    # The speed of every build: one range scan of an index holding what is read, in
    # (public_at, key) order, with no table lookup and no sort.
    with SqliteStore(tmp_path / "pas.db") as store:
        statements: list[str] = []
        store._db.set_trace_callback(statements.append)
        store.record_columns("lobbying", ["Amount"], as_of=T0, since=T0 - timedelta(days=9))
        store._db.set_trace_callback(None)
        # First whether any record was revised after the as-of time (one index seek), then
        # the columns.
        revised, query = statements
        seek = store._db.execute(f"EXPLAIN QUERY PLAN {revised}").fetchall()
        plan = store._db.execute(f"EXPLAIN QUERY PLAN {query}").fetchall()
    assert next(row[-1] for row in seek).startswith("SEARCH record_revisions USING COVERING INDEX")
    # The columns are aggregated (one text each) over the scan, which stays one search of
    # the covering index and sorts nothing.
    details = [row[-1] for row in plan]
    assert [d for d in details if d.startswith("SEARCH")] == [
        next(d for d in details if d.startswith("SEARCH r USING COVERING INDEX records_columns"))
    ], details
    assert not any("TEMP B-TREE" in d for d in details), details
