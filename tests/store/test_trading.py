"""Contract of trading runs, their orders and the sync cursor, on every backend."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from pas.models import TradeOrderStatus, TradeRun, TradeRunStatus
from pas.store.base import Store
from tests.store.builders import T0, trade_order


class _Crashing:
    """A collection whose one method dies as the process would; the rest pass through."""

    def __init__(self, collection: Any, method: str) -> None:
        self._collection = collection
        self._method = method

    def __getattr__(self, name: str) -> Any:
        if name == self._method:

            def crash(*args: object, **kw: object) -> None:
                raise KeyboardInterrupt  # stands in for the process dying

            return crash
        return getattr(self._collection, name)


def _crashing_on(collection: str, method: str, real: Callable[[str], Any]) -> Callable[[str], Any]:
    """A stand-in for ``MongoStore._collection`` (the store's fault seam): real pymongo
    builds a new Collection on each attribute access, so patching one would not stick."""

    def collection_of(name: str) -> Any:
        return _Crashing(real(name), method) if name == collection else real(name)

    return collection_of


def test_trade_runs_and_orders_round_trip_and_update(store: Store) -> None:
    assert store.unfinished_trade_run() is None
    run = TradeRun("r1", T0, "sim", ("a", "b"))
    store.create_trade_run(run, [trade_order("c2", 1), trade_order("c1", 0)])
    assert store.unfinished_trade_run() == run
    assert [o.client_order_id for o in store.trade_orders("r1")] == ["c1", "c2"]
    assert store.trade_orders("r1")[0] == trade_order("c1", 0)
    assert store.trade_orders(unsettled=True) == []
    store.update_trade_order("c1", TradeOrderStatus.SENDING)
    store.update_trade_order("c1", TradeOrderStatus.SENT, broker_order_id="B1", broker_status="new")
    store.update_trade_order("c2", TradeOrderStatus.FAILED, error="rejected")
    (sent,) = store.trade_orders(unsettled=True)
    assert (sent.client_order_id, sent.broker_order_id, sent.broker_status) == ("c1", "B1", "new")
    store.update_trade_order("c1", TradeOrderStatus.SETTLED, broker_status="filled")
    assert store.trade_orders("r1")[0].broker_order_id == "B1"  # kept when not given
    assert store.trade_orders("r1")[1].error == "rejected"
    store.set_trade_run_status("r1", TradeRunStatus.SUBMITTED)
    assert store.unfinished_trade_run() is None


def test_the_sync_cursor_is_per_broker_and_moves(store: Store) -> None:
    assert store.sync_cursor("alpaca") is None
    store.save_sync_cursor("alpaca", T0 + timedelta(microseconds=7), "f1")
    store.save_sync_cursor("sim", T0, "s1")
    assert store.sync_cursor("alpaca") == (T0 + timedelta(microseconds=7), "f1")
    store.save_sync_cursor("alpaca", T0 + timedelta(hours=1), "f2")
    assert store.sync_cursor("alpaca") == (T0 + timedelta(hours=1), "f2")
    assert store.sync_cursor("sim") == (T0, "s1")


def test_a_run_is_never_stored_without_its_orders(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """A crash between the two writes (Mongo) leaves orphan planned orders, never a run;
    the next run sweeps them. SQLite writes both in one transaction."""
    from pas.store.mongo import MongoStore

    if isinstance(store, MongoStore):
        monkeypatch.setattr(store, "_collection", _crashing_on("trade_runs", "insert_one", store._collection))
        with pytest.raises(KeyboardInterrupt):
            store.create_trade_run(
                TradeRun("r0", T0, "sim", ("a",)), [replace(trade_order("c0", 0), run_id="r0")]
            )
        monkeypatch.undo()
        assert store.unfinished_trade_run() is None
        assert [o.client_order_id for o in store.trade_orders("r0")] == ["c0"]
    store.create_trade_run(TradeRun("r1", T0, "sim", ("a",)), [trade_order("c1", 0)])
    assert store.trade_orders("r0") == []
    assert [o.client_order_id for o in store.trade_orders()] == ["c1"]
    assert store.unfinished_trade_run() == TradeRun("r1", T0, "sim", ("a",))
