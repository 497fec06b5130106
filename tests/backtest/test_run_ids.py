"""Kept runs' ids: two backtests started in the same second never share a namespace."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pas.backtest_runs import CLAIM_LOCK, claimed_run_id, next_run_id
from pas.store.sqlite import SqliteStore

NOW = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
# A run kept in the same second whose last digits leave a new id almost surely below it,
# so each new id is "the one after it".
KEPT = ["261201000000fffe"]


def test_two_runs_claiming_an_id_in_the_same_second_get_two_ids(tmp_path: Path) -> None:
    # The defect: both processes listed the same kept runs, took the same id, and the
    # second's fresh namespace wiped the first's while it ran.
    assert next_run_id(NOW, KEPT) == next_run_id(NOW, KEPT) == "261201000000ffff"
    with SqliteStore(tmp_path / "pas.db") as live:
        with claimed_run_id(live, NOW, lambda: KEPT, owner="first") as first:
            with claimed_run_id(live, NOW, lambda: KEPT, owner="second") as second:
                assert live.lock_owner(CLAIM_LOCK + second) == "second"
            assert first != second and KEPT[0] not in (first, second)
            assert live.lock_owner(CLAIM_LOCK + first) == "first"
        assert live.lock_owner(CLAIM_LOCK + first) is None, "the claim ends once the namespace exists"
