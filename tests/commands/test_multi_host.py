"""Two hosts, one MongoDB: two `pas` processes with different PAS_HOST_ID over the wire.

The hosts share a host name (as containers of one image do), so only PAS_HOST_ID tells
them apart: one trading run at a time across them, no order sent twice, and neither
takes the other's lock for a dead process of its own.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from pas.models import Price
from pas.store.mongo import MongoStore
from tests.conftest import MongoServer

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("closes_of_long_ago")]

PAS = [sys.executable, "-c", "from pas.cli import main; main()"]


def _env(tmp_path: Path, uri: str, db_name: str, host: str) -> dict[str, str]:
    home = tmp_path / host
    home.mkdir(exist_ok=True)
    return {
        **os.environ,
        "PAS_HOME": str(home),
        "MONGO_URI": uri,
        "DB_NAME": db_name,
        "PAS_HOST_ID": host,
        "PAS_BROKER": "sim",
        "SIM_MARKET": "always",
        "PAS_MONGO_TIMEOUT_SEC": "60",  # a busy emulation is slow to answer, not gone
    }


def _pas(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PAS, *args], env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def shared(mongo_server: MongoServer, mongo_db: str, tmp_path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Two hosts' settings over one database holding two funded portfolios with targets."""
    a, b = (_env(tmp_path, mongo_server.uri, mongo_db, host) for host in ("host-a", "host-b"))
    with MongoStore(mongo_server.client(), mongo_db) as store:
        store.upsert_prices(
            [Price("AAA", date(2020, 1, 2), Decimal(10)), Price("BBB", date(2020, 1, 2), Decimal(20))]
        )
    for args in (
        ("portfolio", "add", "lobby", "--capital", "10000"),
        ("portfolio", "set-weights", "lobby", "AAA=0.4", "BBB=0.3"),
    ):
        done = _pas(a, *args)
        assert done.returncode == 0, done.stderr
    return a, b


def test_two_hosts_rebalancing_at_once_send_each_order_once(
    shared: tuple[dict[str, str], dict[str, str]], mongo_server: MongoServer, mongo_db: str
) -> None:
    cmd = ["rebalance", "--all"]
    procs = [
        subprocess.Popen([*PAS, *cmd], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for env in shared
    ]
    outcomes = [(p.wait(timeout=300), p.stderr.read() if p.stderr else "") for p in procs]
    codes = sorted(code for code, _ in outcomes)
    # Either the second waited out the first (4: lock held) or started after it had traded
    # everything (0, nothing left to send); never two runs sending.
    assert codes in ([0, 0], [0, 4]), outcomes
    for code, err in outcomes:
        if code == 4:
            assert "holds the trading lock" in err and ("host-a:" in err or "host-b:" in err)
    with MongoStore(mongo_server.client(), mongo_db) as store:
        sent = [o.client_order_id for o in store.sim_orders()]
        assert len(sent) == 2 and len(set(sent)) == 2, sent
        assert store.holdings("lobby") == {"AAA": Decimal(400), "BBB": Decimal(150)}
        assert store.lock_owner("trading") is None


def test_a_host_never_takes_over_the_lock_of_another_host_with_the_same_name(
    shared: tuple[dict[str, str], dict[str, str]], mongo_server: MongoServer, mongo_db: str
) -> None:
    a, b = shared
    # host-a runs as the machine's host name too would; its pid means nothing on host-b.
    with MongoStore(mongo_server.client(), mongo_db) as store:
        assert store.acquire_lock("trading", "host-a:999999999", 600)
    refused = _pas(b, "rebalance", "--all")
    assert refused.returncode == 4, refused.stderr
    assert "another trading run (host-a:999999999) holds the trading lock" in refused.stderr
    taken = _pas(a, "rebalance", "--all")  # host-a itself knows that pid is dead
    assert taken.returncode == 0, taken.stderr
    with MongoStore(mongo_server.client(), mongo_db) as store:
        assert len(store.sim_orders()) == 2


def test_without_host_ids_two_hosts_of_one_name_would_take_each_others_lock(
    shared: tuple[dict[str, str], dict[str, str]], mongo_server: MongoServer, mongo_db: str
) -> None:
    """Why PAS_HOST_ID exists: the host name alone cannot tell two containers apart."""
    _, b = shared
    del b["PAS_HOST_ID"]
    with MongoStore(mongo_server.client(), mongo_db) as store:
        assert store.acquire_lock("trading", f"{socket.gethostname()}:999999999", 600)
    assert _pas(b, "rebalance", "--all").returncode == 0, "taken over: the same name, a pid gone here"
