"""The semantics both backends share, as pure functions (no store needed)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from pas.records import Record, UpsertCounts, natural_key
from pas.store.rules import LockGrant, classify_records, lock_expiry, lock_grant

NOW = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


def _rec(n: int, amount: str = "100") -> Record:
    return Record(
        "lobbying", natural_key("lobbying", {"n": n}), "AAPL", date(2026, 1, 1), NOW, {"Amount": amount}
    )


def test_classify_compares_digests_and_a_repeated_key_with_its_earlier_copy() -> None:
    stored = {_rec(1).key: _rec(1).digest(), _rec(2).key: _rec(2).digest()}
    batch = [_rec(1), _rec(2, amount="5"), _rec(3), _rec(3), _rec(3, amount="7")]
    changes = classify_records(batch, stored)
    assert [r.key for r, _ in changes.new] == [_rec(3).key]
    assert [(r.fields["Amount"], d) for r, d in changes.changed] == [
        ("5", _rec(2, "5").digest()),
        ("7", _rec(3, "7").digest()),
    ]
    assert changes.counts == UpsertCounts(1, 2, 2)
    assert stored == {_rec(1).key: _rec(1).digest(), _rec(2).key: _rec(2).digest()}, "input left as it was"


def test_a_lock_is_free_unheld_own_or_expired() -> None:
    later = lock_expiry(NOW, 30)
    assert later == NOW + timedelta(seconds=30)
    assert lock_grant(None, None, "me", NOW) == LockGrant(True)
    assert lock_grant("me", later, "me", NOW) == LockGrant(True), "the holder renews its own lock"
    assert lock_grant("other", later, "me", NOW) == LockGrant(False, "other", later)
    assert lock_grant("other", later, "me", later) == LockGrant(True, "other", later), "expired at its expiry"
    assert bool(LockGrant(True)) and not LockGrant(False, "other", later), "a grant is true when acquired"
