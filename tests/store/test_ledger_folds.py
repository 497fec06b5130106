"""Positions kept as fills are written (issue 18): on every backend, the kept fold of a
portfolio's ledger always equals the fold of the ledger itself, whatever wrote the fills
in whatever order, after removals and re-adds, and after a crash between the fills and
their fold."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pas.models import Fill, Side, format_ts, to_units
from pas.store.base import Store
from pas.store.rules import LedgerFold
from tests.store.builders import T0, portfolio

PORTFOLIOS = ("alpha", "beta")
SYMBOLS = ("AAA", "BBB", "CCC")


def _refolded(store: Store, pid: str) -> LedgerFold:
    """The fold of the ledger as stored, computed from nothing."""
    return LedgerFold().add(store.ledger(pid))


def _random_fills(rng: random.Random, serial: Iterator[int], pid: str, n: int) -> list[Fill]:
    """Fills at random times (earlier than the ledger's last ones too), some selling more
    than is held (a position crossing zero, as imported data can), some at one time."""
    return [
        Fill(
            portfolio=pid,
            symbol=rng.choice(SYMBOLS),
            side=rng.choice([Side.BUY, Side.BUY, Side.SELL]),
            qty=Decimal(rng.randint(1, 40)) / 4,
            price=Decimal(rng.randint(100, 99_999)) / 1000,
            ts=T0 + timedelta(minutes=rng.choice([rng.randint(0, 500), 250])),
            fill_id=f"{pid}-{next(serial)}",
            commission=Decimal(rng.randint(0, 3)) / 100,
        )
        for _ in range(n)
    ]


@pytest.mark.parametrize("seed", range(6))
def test_the_kept_fold_equals_the_ledgers_fold_through_any_sequence_of_writes(
    store: Store, seed: int
) -> None:
    rng = random.Random(seed)
    serial = iter(range(10**6))
    for pid in PORTFOLIOS:
        store.add_portfolio(portfolio(pid))
    written: list[Fill] = []
    for _ in range(12):
        action = rng.random()
        pid = rng.choice(PORTFOLIOS)
        if action < 0.1:  # removed and added again: the new one inherits nothing
            store.remove_portfolio(pid)
            store.add_portfolio(portfolio(pid))
            written = [f for f in written if f.portfolio != pid]
        elif action < 0.25 and written:  # the same fills again (a re-sync): nothing changes
            store.append_fills(rng.sample(written, min(3, len(written))))
        else:  # one batch over both portfolios, in no particular order
            batch = [f for p in PORTFOLIOS for f in _random_fills(rng, serial, p, rng.randint(0, 6))]
            rng.shuffle(batch)
            store.append_fills(batch)
            written += batch
        for p in PORTFOLIOS:
            assert store.ledger_fold(p) == _refolded(store, p), (seed, p)
    assert any(store.ledger(p) for p in PORTFOLIOS)


def test_a_fill_older_than_the_last_one_folded_is_folded_in_its_place(store: Store) -> None:
    # Average cost depends on the order: buying 1 at 10 then selling 1 at 20 realises 10;
    # a buy at 30 recorded later but dated before them changes what the sell realised.
    store.add_portfolio(portfolio())
    at = [T0 + timedelta(minutes=m) for m in range(3)]
    store.append_fills([Fill("alpha", "AAA", Side.BUY, Decimal(1), Decimal(10), at[1], "b")])
    store.append_fills([Fill("alpha", "AAA", Side.SELL, Decimal(1), Decimal(20), at[2], "s")])
    assert store.ledger_fold("alpha").realized == {"AAA": 10 * 10**18}
    store.append_fills([Fill("alpha", "AAA", Side.BUY, Decimal(1), Decimal(30), at[0], "early")])
    fold = store.ledger_fold("alpha")
    assert fold.realized == {"AAA": 0}  # (20 − the average of 30 and 10) × 1
    assert fold.qty == {"AAA": 10**9} and fold.cost == {"AAA": 20 * 10**18}
    assert fold == _refolded(store, "alpha")


def test_positions_are_read_without_the_ledger(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    # The point of keeping the fold: `pas positions` reads one row, not every fill.
    store.add_portfolio(portfolio())
    store.append_fills([Fill("alpha", "AAA", Side.BUY, Decimal(2), Decimal(10), T0, "b1")])
    expected = _refolded(store, "alpha")

    def no_ledger(*args: Any, **kw: Any) -> Any:
        raise AssertionError("ledger_fold read the whole ledger")

    monkeypatch.setattr(store, "ledger", no_ledger)
    if store.backend == "sqlite":
        monkeypatch.setattr("pas.store.sqlite.folds.LEDGER_SQL", "not SQL")
    else:  # only the fills after the last one folded (none) are asked for
        collection = store._collection  # type: ignore[attr-defined]

        class Fills:
            def __init__(self, real: Any) -> None:
                self.real = real

            def __getattr__(self, name: str) -> Any:
                return getattr(self.real, name)

            def find(self, query: dict[str, Any], *args: Any) -> Any:
                assert "ts" in query, "ledger_fold read the whole ledger"
                return self.real.find(query, *args)

        monkeypatch.setattr(
            store,
            "_collection",
            lambda name: Fills(collection(name)) if name == "fills" else collection(name),
        )
    assert store.ledger_fold("alpha") == expected


def test_a_portfolio_without_fills_has_an_empty_fold(store: Store) -> None:
    store.add_portfolio(portfolio())
    assert store.ledger_fold("alpha") == LedgerFold()


# -- crashes and upgrades, per backend --------------------------------------------------


def _fills(n: int, pid: str = "alpha", start: int = 0) -> list[Fill]:
    return [
        Fill(
            pid,
            "AAA",
            Side.BUY if i % 3 else Side.SELL,
            Decimal(1),
            Decimal(10 + i),
            T0 + timedelta(minutes=i),
            f"{pid}-{i}",
        )
        for i in range(start, start + n)
    ]


def test_sqlite_writes_fills_and_their_fold_in_one_transaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pas.store.sqlite import SqliteStore, folds

    store = SqliteStore(tmp_path / "pas.db")
    store.add_portfolio(portfolio())
    store.append_fills(_fills(3))

    def crash(*args: Any) -> None:
        raise OSError("power lost")

    with monkeypatch.context() as patched:
        patched.setattr(folds, "fold_fills_after", crash)
        with pytest.raises(OSError, match="power lost"):
            store.append_fills(_fills(3, start=3))
    assert len(store.ledger("alpha")) == 3  # the fills went with their fold
    store.append_fills(_fills(3, start=3))
    assert store.ledger_fold("alpha") == _refolded(store, "alpha")
    store.close()


def test_sqlite_migration_folds_the_ledgers_stored_before_it(tmp_path: Path) -> None:
    from pas.store.sqlite import SqliteStore
    from pas.store.sqlite.store import FOLDS_VERSION, MIGRATIONS

    path = tmp_path / "pas.db"
    db = sqlite3.connect(path)
    for script in MIGRATIONS[: FOLDS_VERSION - 1]:
        db.executescript(script)
    for n, f in enumerate(_fills(7) + _fills(4, "beta")):
        side = f.side.value
        db.execute(
            "INSERT INTO fills (fill_id, portfolio, symbol, side, qty_n, price_n, commission_n, ts)"
            " VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
            (f.fill_id, f.portfolio, f.symbol, side, to_units(f.qty), to_units(f.price), format_ts(f.ts)),
        )
        assert n < 11
    db.execute(f"PRAGMA user_version = {FOLDS_VERSION - 1}")
    db.commit()
    db.close()
    store = SqliteStore(path)
    (kept,) = store._db.execute("SELECT COUNT(*) FROM ledger_folds").fetchone()
    assert kept == 2
    for pid in ("alpha", "beta"):
        assert store.ledger_fold(pid) == _refolded(store, pid)
        assert store.ledger_fold(pid).qty
    store.close()


@pytest.fixture
def mongomock_store() -> Iterator[Store]:
    import mongomock

    from pas.store.mongo import MongoStore
    from tests.conftest import _mongomock_accepts_sort

    _mongomock_accepts_sort()
    store = MongoStore(mongomock.MongoClient(tz_aware=True), "pas_test", where="mongomock")
    yield store
    store.close()


def test_mongo_folds_again_after_a_crash_between_the_fills_and_their_fold(
    mongomock_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pas.store.mongo import folds

    store = mongomock_store
    store.add_portfolio(portfolio())
    store.append_fills(_fills(4))

    def crash(*args: Any) -> None:
        raise OSError("killed")

    with monkeypatch.context() as patched:
        patched.setattr(folds, "_save", crash)
        with pytest.raises(OSError, match="killed"):
            store.append_fills(_fills(3, start=4))
    assert len(store.ledger("alpha")) == 7  # the fills were written, their fold was not
    assert store.ledger_fold("alpha") == _refolded(store, "alpha")
    # An older fill, written by a process that died before its fold: the count tells.
    with monkeypatch.context() as patched:
        patched.setattr(folds, "_save", crash)
        with pytest.raises(OSError, match="killed"):
            store.append_fills(
                [Fill("alpha", "AAA", Side.BUY, Decimal(5), Decimal(1), T0 - timedelta(days=1), "old")]
            )
    assert store.ledger_fold("alpha") == _refolded(store, "alpha")
    assert store.ledger_fold("alpha").qty["AAA"] == to_units(Decimal(6))  # 7 fills net 1, and 5


def test_mongo_builds_a_missing_fold_and_never_keeps_an_older_one(mongomock_store: Store) -> None:
    from pas.store.mongo import MongoStore

    store = mongomock_store
    assert isinstance(store, MongoStore)
    store.add_portfolio(portfolio())
    store.append_fills(_fills(5))
    folds = store._collection("ledger_folds")
    stale = folds.find_one({"_id": "alpha"})
    store.append_fills(_fills(2, start=5))
    # A slow writer puts back what it read before the last write: the document is not
    # the one it read any more, so nothing is written.
    assert stale is not None
    from pas.store.mongo.folds import _save

    _save(
        store,
        "alpha",
        stale,
        stale["fills"],
        {"ts": stale["last_ts"], "seq": stale["last_seq"]},
        LedgerFold(),
    )
    assert store.ledger_fold("alpha") == _refolded(store, "alpha")
    folds.delete_many({})  # a database from before the collection
    assert store.ledger_fold("alpha") == _refolded(store, "alpha")
    assert folds.count_documents({}) == 1
