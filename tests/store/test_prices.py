"""Contract of daily closing prices, on every backend."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from pas.models import Price
from pas.store.base import Store


def test_prices_upsert_and_latest(store: Store) -> None:
    store.upsert_prices(
        [
            Price("AAPL", date(2026, 1, 2), Decimal("100")),
            Price("AAPL", date(2026, 1, 5), Decimal("101")),
            Price("MSFT", date(2026, 1, 2), Decimal("400")),
        ]
    )
    store.upsert_prices([Price("AAPL", date(2026, 1, 5), Decimal("102.25"))])
    latest = store.latest_prices(["AAPL", "MSFT", "NONE"])
    assert latest == {
        "AAPL": Price("AAPL", date(2026, 1, 5), Decimal("102.25")),
        "MSFT": Price("MSFT", date(2026, 1, 2), Decimal("400")),
    }
    assert store.latest_prices(["AAPL"], on_or_before=date(2026, 1, 4))["AAPL"].close == Decimal("100")
    assert store.latest_prices([]) == {}
    assert store.price_symbols() == ["AAPL", "MSFT"]


def test_price_history_is_per_symbol_oldest_first_within_the_range(store: Store) -> None:
    store.upsert_prices(
        [
            Price("SPY", date(2026, 1, 6), Decimal("101")),
            Price("SPY", date(2026, 1, 2), Decimal("99.5")),
            Price("SPY", date(2026, 1, 5), Decimal("100")),
            Price("AAPL", date(2026, 1, 5), Decimal("150.25")),
            Price("MSFT", date(2026, 1, 1), Decimal("400")),
        ]
    )
    history = store.price_history(["SPY", "AAPL", "MSFT", "NONE"], start=date(2026, 1, 2))
    assert list(history) == ["AAPL", "SPY"], "symbols without a close in the range are left out"
    assert [(p.day, p.close) for p in history["SPY"]] == [
        (date(2026, 1, 2), Decimal("99.5")),
        (date(2026, 1, 5), Decimal("100")),
        (date(2026, 1, 6), Decimal("101")),
    ]
    assert history["AAPL"] == [Price("AAPL", date(2026, 1, 5), Decimal("150.25"))]
    upto = store.price_history(["SPY"], end=date(2026, 1, 5))
    assert [p.day for p in upto["SPY"]] == [date(2026, 1, 2), date(2026, 1, 5)]
    assert store.price_history([]) == {}


def test_price_history_ranges_are_inclusive_per_symbol(store: Store) -> None:
    store.upsert_prices(
        [
            Price("BBB", date(2026, 1, 6), Decimal("20.5")),
            Price("AAA", date(2026, 1, 6), Decimal(11)),
            Price("AAA", date(2026, 1, 5), Decimal(10)),
            Price("AAA", date(2026, 1, 7), Decimal(12)),
        ]
    )
    assert store.price_history(["AAA", "BBB", "CCC"]) == {
        "AAA": [
            Price("AAA", date(2026, 1, 5), Decimal(10)),
            Price("AAA", date(2026, 1, 6), Decimal(11)),
            Price("AAA", date(2026, 1, 7), Decimal(12)),
        ],
        "BBB": [Price("BBB", date(2026, 1, 6), Decimal("20.5"))],
    }
    ranged = store.price_history(["AAA", "BBB"], date(2026, 1, 6), date(2026, 1, 6))
    assert {s: [p.close for p in ps] for s, ps in ranged.items()} == {"AAA": [11], "BBB": [Decimal("20.5")]}
    assert store.price_history([]) == {}


def test_closes_in_their_stored_form_are_the_closes_in_nano_dollars(store: Store) -> None:
    # What a backtest copies in: every symbol's closes of a range, by symbol then day.
    store.upsert_prices(
        [
            Price("BBB", date(2026, 1, 2), Decimal("20.5")),
            Price("AAA", date(2026, 1, 6), Decimal("0.000000001")),
            Price("AAA", date(2026, 1, 2), Decimal(10)),
            Price("AAA", date(2026, 1, 9), Decimal(12)),
        ]
    )
    assert store.price_units(date(2026, 1, 2), date(2026, 1, 6)) == [
        ("AAA", date(2026, 1, 2), 10_000_000_000),
        ("AAA", date(2026, 1, 6), 1),
        ("BBB", date(2026, 1, 2), 20_500_000_000),
    ]
    assert len(store.price_units()) == 4 and store.price_units(date(2026, 1, 10)) == []
    day = date(2026, 1, 9)
    assert store.upsert_price_units([("AAA", day, 12_250_000_000), ("CCC", day, 7)]) == 2
    assert store.latest_prices(["AAA", "CCC"]) == {
        "AAA": Price("AAA", date(2026, 1, 9), Decimal("12.25")),
        "CCC": Price("CCC", date(2026, 1, 9), Decimal("0.000000007")),
    }
    assert store.latest_price_units(["AAA", "BBB", "NONE"], on_or_before=date(2026, 1, 8)) == {
        "AAA": (date(2026, 1, 6), 1),
        "BBB": (date(2026, 1, 2), 20_500_000_000),
    }
    assert store.latest_price_units(["AAA"], on_or_before=date(2026, 1, 1)) == {}
    assert store.price_history(["AAA"], start=date(2026, 1, 6))["AAA"] == [
        Price("AAA", date(2026, 1, 6), Decimal("0.000000001")),
        Price("AAA", date(2026, 1, 9), Decimal("12.25")),
    ]


def test_latest_prices_is_each_symbols_newest_close_on_or_before_a_day(store: Store) -> None:
    # Symbols with closes on different days, one only after the day asked for: the answer the
    # backtest prices with, the same on every backend and whichever query serves it.
    days = [date(2026, 1, d) for d in (2, 5, 6, 7, 8)]
    store.upsert_prices(
        Price(f"S{n:03d}", day, Decimal(n + i) + Decimal("0.0001"))
        for n in range(60)
        for i, day in enumerate(days)
        if (n + i) % 3
    )
    store.upsert_prices([Price("LATE", date(2026, 1, 8), Decimal(5))])
    wanted = [f"S{n:03d}" for n in range(60)] + ["LATE", "NONE"]
    asked = date(2026, 1, 6)
    expected = {}
    for n in range(60):
        known = [(day, i) for i, day in enumerate(days) if (n + i) % 3 and day <= asked]
        if known:
            day, i = known[-1]
            expected[f"S{n:03d}"] = Price(f"S{n:03d}", day, Decimal(n + i) + Decimal("0.0001"))
    assert store.latest_prices(wanted, on_or_before=asked) == expected
    assert store.latest_prices(reversed(wanted), on_or_before=asked) == expected
    assert store.latest_prices(["LATE"])["LATE"].day == date(2026, 1, 8)


def test_sqlite_seeks_each_symbols_newest_close_down_the_primary_key(tmp_path: Path) -> None:
    # MAX(day) ... GROUP BY symbol walks every stored close; the seeks read a row or two a
    # symbol, so the work (SQLite's virtual machine steps, not a clock) does not grow with
    # the days stored.
    from pas.store.sqlite import SqliteStore

    def steps(days: int) -> int:
        with SqliteStore(tmp_path / f"{days}.db") as store:
            start = date(2020, 1, 1)
            store.upsert_prices(
                Price(s, start + timedelta(days=d), Decimal(d + 1)) for s in ("A", "C") for d in range(days)
            )
            counted = [0]

            def count() -> int:
                counted[0] += 1
                return 0

            store._db.set_progress_handler(count, 1)
            found = store.latest_prices(["A", "B", "C"], on_or_before=start + timedelta(days=days - 2))
            store._db.set_progress_handler(None, 1)
        assert (
            found["A"] == Price("A", start + timedelta(days=days - 2), Decimal(days - 1)) and "B" not in found
        )
        return counted[0]

    assert steps(3_000) < 1.2 * steps(30)


def test_closes_copied_from_another_store_replace_those_of_their_days(store: Store, tmp_path: Path) -> None:
    # A backtest's namespace gets the source's closes of its period: from a SQLite file by
    # SQLite itself, from any other store through their stored form.
    from pas.store.memory import MemoryStore
    from pas.store.sqlite import SqliteStore

    closes = [
        Price("AAA", date(2026, 1, 2), Decimal("10.5")),
        Price("AAA", date(2026, 1, 5), Decimal("11")),
        Price("BBB", date(2026, 1, 5), Decimal("0.000000001")),
        Price("AAA", date(2026, 1, 9), Decimal(12)),
    ]
    store.upsert_prices(
        [Price("AAA", date(2026, 1, 5), Decimal(9)), Price("CCC", date(2026, 1, 2), Decimal(1))]
    )
    with SqliteStore(tmp_path / "source.db") as on_file, MemoryStore() as in_memory:
        for source in (on_file, in_memory):
            source.upsert_prices(closes)
            assert store.copy_prices(source, date(2026, 1, 2), date(2026, 1, 5)) == 3
            assert store.price_units() == [
                ("AAA", date(2026, 1, 2), 10_500_000_000),
                ("AAA", date(2026, 1, 5), 11_000_000_000),
                ("BBB", date(2026, 1, 5), 1),
                ("CCC", date(2026, 1, 2), 1_000_000_000),
            ]
            store.upsert_prices([Price("AAA", date(2026, 1, 5), Decimal(9))])
        with store.bulk():  # no file can be attached inside a transaction
            assert store.copy_prices(on_file, date(2026, 1, 5), date(2026, 1, 9)) == 3
        assert store.latest_prices(["AAA"])["AAA"] == Price("AAA", date(2026, 1, 9), Decimal(12))
