"""Applied allocations in the store, on every backend."""

from __future__ import annotations

from datetime import UTC, date, datetime

from pas.models import AppliedAllocation
from pas.store.base import Store

T = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


def test_allocations_round_trip_newest_first_and_as_of(store: Store) -> None:
    assert store.latest_allocation() is None and store.allocation_history() == []
    first = AppliedAllocation(date(2026, 1, 2), T, "score", {"b": 0.3, "a": 0.7}, 0.8, 0.1)
    second = AppliedAllocation(date(2026, 1, 9), T, "equal", {"a": 0.5, "b": 0.5})
    same_day = AppliedAllocation(date(2026, 1, 9), T, "risk_parity", {"a": 0.4, "b": 0.6}, 1.0, 0.12)
    for a in (first, second, same_day):
        store.put_allocation(a)
    # Newest by as-of day; on the same day the one applied last wins.
    assert store.allocation_history() == [same_day, second, first]
    assert store.allocation_history(limit=1) == [same_day]
    assert store.latest_allocation() == same_day
    assert store.latest_allocation(as_of=date(2026, 1, 8)) == first, "no look-ahead"
    assert store.latest_allocation(as_of=date(2026, 1, 1)) is None
    assert second.ex_ante_vol is None and store.allocation_history()[1].ex_ante_vol is None
