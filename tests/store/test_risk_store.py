"""Price history and the circuit breaker's state in the store, on every backend."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

from pas.models import BreakerState, Price
from pas.store.base import Store


def test_price_history_is_per_symbol_oldest_first_within_the_range(store: Store) -> None:
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


def test_breaker_state_round_trips_with_compare_and_swap(store: Store) -> None:
    assert store.breaker_state() == BreakerState()
    when = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
    first = BreakerState(
        high_water_mark=Decimal("125000.5"), hwm_at=when, last_equity=Decimal(120000), last_equity_at=when
    )
    assert store.save_breaker_state(first)
    assert store.breaker_state() == replace(first, version=1)
    # A writer that read version 0 lost the race: nothing is written.
    assert not store.save_breaker_state(replace(first, high_water_mark=Decimal(1)))
    tripped = replace(store.breaker_state(), tripped=True, reason="why", since=when, reset_reason="")
    assert store.save_breaker_state(tripped)
    assert not store.save_breaker_state(tripped)  # stale version 1
    assert store.breaker_state() == replace(tripped, version=2)
