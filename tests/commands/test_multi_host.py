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
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from pas.models import Portfolio, Price, Schedule
from pas.records import Record, natural_key
from pas.store.mongo import MongoStore
from tests.conftest import MongoServer

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("closes_of_long_ago")]

PAS = [sys.executable, "-c", "from pas.cli import main; main()"]
HELD_PAS = [sys.executable, str(Path(__file__).resolve().parents[1] / "fakes" / "held_pas.py")]
# Monday 5 January 2026, 10:00 in New York: a trading day on which a daily build is due.
MONDAY = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


def host_env(tmp_path: Path, uri: str, db_name: str, host: str) -> dict[str, str]:
    """The environment of one host of the cluster: a home of its own, the shared MongoDB."""
    home = tmp_path / host
    home.mkdir(exist_ok=True)
    return {
        **os.environ,
        "PAS_HOME": str(home),
        "MONGO_URI": uri,
        "DB_NAME": db_name,
        "PAS_HOST_ID": host,
        "PAS_MONGO_TIMEOUT_SEC": "60",  # a busy emulation is slow to answer, not gone
    }


def _env(tmp_path: Path, uri: str, db_name: str, host: str) -> dict[str, str]:
    return {**host_env(tmp_path, uri, db_name, host), "PAS_BROKER": "sim", "SIM_MARKET": "always"}


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


class Held:
    """A ``pas`` process held at one function of its work (tests/fakes/held_pas.py)."""

    def __init__(self, env: dict[str, str], where: Path, hold: str, *args: str, now: str = "-") -> None:
        where.mkdir()
        self.where = where
        self.proc = subprocess.Popen(
            [*HELD_PAS, now, hold, str(where), *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait_inside(self) -> None:
        deadline = time.monotonic() + 120
        while not (self.where / "inside").exists():
            assert self.proc.poll() is None, self.proc.communicate()
            assert time.monotonic() < deadline, "the held process never got there"
            time.sleep(0.05)

    def release(self) -> subprocess.CompletedProcess[str]:
        (self.where / "go").touch()
        out, err = self.proc.communicate(timeout=300)
        return subprocess.CompletedProcess(self.proc.args, self.proc.returncode, out, err)


def _held_pas(env: dict[str, str], now: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``pas ARGS`` on a clock starting at ``now``, held nowhere."""
    return subprocess.run(
        [*HELD_PAS, now, "-", "-", *args], env=env, capture_output=True, text=True, timeout=300
    )


def test_two_hosts_building_at_one_slot_build_each_portfolio_once(
    shared: tuple[dict[str, str], dict[str, str]], mongo_server: MongoServer, mongo_db: str, tmp_path: Path
) -> None:
    """host-a is held inside its build, after the strategy ran and before it stores the
    weights: the moment a second builder would also find the portfolio due."""
    a, b = shared
    with MongoStore(mongo_server.client(), mongo_db) as store:
        store.upsert_records("contracts", [_award("AAA", "300", 2), _award("BBB", "100", 1)])
        store.add_portfolio(
            Portfolio("gov", "gov_contracts", Schedule.DAILY, MONDAY, capital=Decimal(10000), broker="sim")
        )
    now = MONDAY.isoformat()
    held = Held(a, tmp_path / "held-a", "pas.workflows:store_builds", "build", "--due", now=now)
    held.wait_inside()
    refused = _held_pas(b, now, "build", "--due")
    assert refused.returncode == 4, refused.stderr
    assert "another pas build (host-a:" in refused.stderr and "holds the build lock until" in refused.stderr
    built = held.release()
    assert built.returncode == 0, built.stderr
    again = _held_pas(b, now, "build", "--due")  # the next tick of host-b, the build stored
    assert again.returncode == 0, again.stderr
    assert "no portfolio is due for a build today" in again.stdout
    with MongoStore(mongo_server.client(), mongo_db) as store:
        assert [w.source for w in store.weights_history("gov")] == ["build"], "one weight set"
        builds = [r for r in store.recent_runs(100) if r.command == "build --due" and r.details.get("built")]
        assert [r.details["built"] for r in builds] == ["gov"], "one run built it"
        sent = [o.client_order_id for o in store.sim_orders()]
        assert len(sent) == 2 and len(set(sent)) == 2, sent


def test_a_host_rebalancing_while_another_trades_is_refused_and_sends_nothing_twice(
    shared: tuple[dict[str, str], dict[str, str]], mongo_server: MongoServer, mongo_db: str, tmp_path: Path
) -> None:
    """host-a is held inside its trading run, the trading lock taken, before it plans."""
    a, b = shared
    held = Held(a, tmp_path / "held-a", "pas.portfolio.trading.run:_run", "rebalance", "--all")
    held.wait_inside()
    refused = _pas(b, "rebalance", "--all")
    assert refused.returncode == 4, refused.stderr
    assert (
        "another trading run (host-a:" in refused.stderr and "holds the trading lock until" in refused.stderr
    )
    traded = held.release()
    assert traded.returncode == 0, traded.stderr
    again = _pas(b, "rebalance", "--all")
    assert again.returncode == 0, again.stderr
    with MongoStore(mongo_server.client(), mongo_db) as store:
        sent = [o.client_order_id for o in store.sim_orders()]
        assert len(sent) == 2 and len(set(sent)) == 2, sent
        assert store.holdings("lobby") == {"AAA": Decimal(400), "BBB": Decimal(150)}


def _award(ticker: str, amount: str, days_ago: int) -> Record:
    """A contract award to ``ticker`` public ``days_ago`` days before MONDAY."""
    public = MONDAY - timedelta(days=days_ago)
    return Record(
        "contracts",
        natural_key("contracts", {"t": ticker}),
        ticker,
        public.date(),
        public,
        {"amount": amount},
    )


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


def test_a_lock_whose_host_is_gone_expires_by_its_ttl_and_is_taken_over_naming_it(
    shared: tuple[dict[str, str], dict[str, str]], mongo_server: MongoServer, mongo_db: str
) -> None:
    """host-a died holding the lock (no host can see another's processes): host-b is
    refused until the lease runs out, then takes over and says from whom."""
    _, b = shared
    now = datetime.now(UTC)
    with MongoStore(mongo_server.client(), mongo_db, clock=lambda: now) as store:
        assert store.acquire_lock("trading", "host-a:4242", 3600)
    refused = _pas(b, "rebalance", "--all")
    assert refused.returncode == 4, refused.stderr
    until = f"{now + timedelta(seconds=3600):%Y-%m-%d %H:%M:%S} UTC"
    assert f"another trading run (host-a:4242) holds the trading lock until {until}" in refused.stderr
    past = now - timedelta(hours=2)
    with MongoStore(mongo_server.client(), mongo_db, clock=lambda: past) as store:
        store.release_lock("trading", "host-a:4242")
        assert store.acquire_lock("trading", "host-a:4242", 3600), "a lease that ended an hour ago"
    taken = _pas(b, "rebalance", "--all")
    assert taken.returncode == 0, taken.stderr
    expired = f"{past + timedelta(seconds=3600):%Y-%m-%d %H:%M:%S} UTC"
    assert f"took over the trading lock from host-a:4242, whose lease expired at {expired}" in taken.stdout
    with MongoStore(mongo_server.client(), mongo_db) as store:
        assert len(store.sim_orders()) == 2
        assert store.lock_owner("trading") is None
