"""The MongoDB store opened from settings, over the wire: what only a server shows.

A slow server told apart from an unreachable one, and the backtest namespace kept with
no more rights than ``readWrite`` on one database.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import pytest

from pas.config import StoreSettings
from pas.errors import StoreError
from pas.store import backtest_runs, open_backtest_store, open_store, remove_backtest
from tests.conftest import MongoServer
from tests.fakes.stall_proxy import StallProxy
from tests.store.builders import portfolio
from tests.store.test_mongo import Commands

# What the readWrite role allows (MongoDB's built-in roles; dropDatabase is not among
# them), as the commands pymongo sends for it.
READ_WRITE_COMMANDS = frozenset(
    {
        "aggregate",
        "count",
        "create",
        "createIndexes",
        "delete",
        "distinct",
        "drop",
        "find",
        "findAndModify",
        "getMore",
        "insert",
        "killCursors",
        "listCollections",
        "listIndexes",
        "update",
    }
)


def _settings(tmp_path: Path, uri: str, db_name: str, **kw: Any) -> StoreSettings:
    return StoreSettings(home=tmp_path, mongo_uri=uri, db_name=db_name, **kw)


def _host_port(uri: str) -> tuple[str, int]:
    host, _, port = uri.partition("://")[2].partition("/")[0].partition(":")
    return host, int(port)


def test_a_slow_server_is_told_apart_from_an_unreachable_one(
    mongo_server: MongoServer, mongo_db: str, tmp_path: Path
) -> None:
    with StallProxy(_host_port(mongo_server.uri)) as proxy:
        uri = f"mongodb://127.0.0.1:{proxy.port}/?directConnection=true"
        store = open_store(_settings(tmp_path, uri, mongo_db, mongo_socket_timeout_sec=0.5))
        store.add_portfolio(portfolio("alpha"))
        proxy.stall.set()
        with pytest.raises(StoreError) as slow:
            store.add_portfolio(portfolio("beta"))
        store.close()
    assert "did not answer within PAS_MONGO_SOCKET_TIMEOUT_SEC=0.5 s (NetworkTimeout)" in str(slow.value)
    assert "whether a write in flight was applied is unknown" in str(slow.value)
    assert "cannot reach" not in str(slow.value)
    with StallProxy(_host_port(mongo_server.uri)) as closed:
        gone = f"mongodb://127.0.0.1:{closed.port}/?directConnection=true"
    with pytest.raises(StoreError, match=r"^cannot reach MongoDB at mongodb://127\.0\.0\.1:\d+/"):
        open_store(_settings(tmp_path, gone, mongo_db, mongo_timeout_sec=0.5))


def test_a_backtest_needs_no_more_than_read_write_on_one_database(
    mongo_server: MongoServer, mongo_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Atlas's readWrite role has no dropDatabase, and may cover DB_NAME alone: a fresh
    backtest empties its own collections of that database."""
    import pymongo

    commands = Commands(mongo_db)
    every: list[str] = []

    class _Everything(Commands):
        def started(self, event: Any) -> None:
            every.append(event.database_name)

    real = pymongo.MongoClient
    monkeypatch.setattr(pymongo, "MongoClient", partial(real, event_listeners=[commands, _Everything("")]))
    settings = _settings(tmp_path, mongo_server.uri, mongo_db)
    with open_store(settings) as live:
        live.add_portfolio(portfolio("live"))
    for run in ("first", "second"):
        for _ in range(2):  # the second time replaces the first: a fresh namespace starts empty
            with open_backtest_store(settings, run, fresh=True) as backtest:
                assert backtest.list_portfolios() == [], "a fresh backtest starts empty"
                backtest.add_portfolio(portfolio(run))
    with open_backtest_store(settings, "second") as backtest:
        assert [p.id for p in backtest.list_portfolios()] == ["second"], "each run apart"
    assert backtest_runs(settings) == ["first", "second"]
    remove_backtest(settings, "first")
    assert backtest_runs(settings) == ["second"]
    with open_store(settings) as live:
        assert [p.id for p in live.list_portfolios()] == ["live"], "live data untouched"
    assert set(commands.names()) <= READ_WRITE_COMMANDS, set(commands.names()) - READ_WRITE_COMMANDS
    assert set(every) <= {mongo_db, "admin"}, "one database (admin: the driver's handshake)"
