"""Shared fixtures: a clean environment, a settable clock, and the store on every backend."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, settings

from pas.config import SETTING_NAMES
from pas.store.base import Store

if TYPE_CHECKING:
    import pymongo

# Property tests judge results, not speed: on a loaded 2-core machine hypothesis's
# per-example deadline and its "input generation is slow" check fail tests that are right.
settings.register_profile("pas", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("pas")

# Environment variables that would change what a test sees if the developer has them set.
_ISOLATED = (*SETTING_NAMES, "PAS_ENV_FILE", "PAS_BROKER", "XDG_DATA_HOME")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's settings; rich renders at a fixed width."""
    for name in list(os.environ):
        isolated = name in _ISOLATED or name.startswith(("ALPACA_", "QUIVER_", "PAS_", "BREAKER_"))
        if isolated and not name.startswith("PAS_TEST_"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _mongomock_accepts_sort() -> None:
    """pymongo >= 4.9 passes ``sort=`` to the bulk builder; mongomock 4.3 predates it.

    The shim drops an unset ``sort`` (pas never sets one) so that the real pymongo
    ``UpdateOne``/``ReplaceOne`` objects can be used against mongomock unchanged.
    """
    from mongomock.collection import BulkOperationBuilder

    for name in ("add_update", "add_replace"):
        original = getattr(BulkOperationBuilder, name)
        if getattr(original, "_pas_shim", False):
            continue

        def shim(
            self: object, *args: object, _original: Any = original, sort: object = None, **kw: object
        ) -> Any:
            assert sort is None, "pas never sorts inside a bulk write"
            return _original(self, *args, **kw)

        shim._pas_shim = True  # type: ignore[attr-defined]
        setattr(BulkOperationBuilder, name, shim)


# The MongoDB server of the "mongo" backend: `scripts/dev test` starts mongoeco's wire
# server and sets PAS_TEST_MONGO_URI (or says why it could not); a developer may point it
# at a local mongod or Atlas instead.
_MONGO_URI = os.environ.get("PAS_TEST_MONGO_URI", "")
_MONGO_SKIP_REASON = os.environ.get("PAS_TEST_MONGO_SKIP_REASON") or (
    "no MongoDB server: PAS_TEST_MONGO_URI is not set (`scripts/dev test` starts one)"
)


@dataclass(frozen=True)
class MongoServer:
    """A MongoDB server reached over TCP by real pymongo.

    Attributes:
        uri: the connection string, from ``PAS_TEST_MONGO_URI``.
        is_mongoeco: whether the server is mongoeco's emulation rather than a mongod.
    """

    uri: str
    is_mongoeco: bool

    def client(self) -> pymongo.MongoClient[dict[str, Any]]:
        import pymongo

        return pymongo.MongoClient(self.uri)


@pytest.fixture(scope="session")
def mongo_server() -> MongoServer:
    """The test MongoDB server; the test is skipped, with the reason, when there is none."""
    if not _MONGO_URI:
        pytest.skip(_MONGO_SKIP_REASON)
    import pymongo

    with pymongo.MongoClient(_MONGO_URI) as client:
        build = client.admin.command("buildInfo")
    return MongoServer(_MONGO_URI, is_mongoeco=build.get("gitVersion") == "mongoeco")


@pytest.fixture
def mongo_db(mongo_server: MongoServer) -> Iterator[str]:
    """A database name of this test's own on the test server, dropped afterwards.

    Unique across xdist workers and test runs sharing one server, so none sees another's data.
    """
    name = f"pas_test_{uuid.uuid4().hex[:16]}"
    yield name
    with mongo_server.client() as client:
        client.drop_database(name)


# The wire venv's Python, exported by `scripts/dev test` when it made one, and the server.
WIRE_PYTHON = os.environ.get("PAS_TEST_MONGO_WIRE_PYTHON", "")
WIRE_SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "mongo_wire_server.py"
NO_WIRE_PYTHON = "no wire server Python: PAS_TEST_MONGO_WIRE_PYTHON is not set (scripts/dev test sets it)"


def wait_for_uri(uri_file: Path, proc: subprocess.Popen[bytes] | None = None, timeout: float = 60) -> str:
    """The text a wire server (scripts/mongo_wire_server.py) writes to ``uri_file`` once it
    serves; fails if ``proc``, the server, exits first or nothing comes in ``timeout`` s."""
    import time

    deadline = time.monotonic() + timeout
    while not uri_file.exists():
        assert proc is None or proc.poll() is None, "the wire server exited before it served"
        assert time.monotonic() < deadline, "the wire server never wrote its URI"
        time.sleep(0.05)
    return uri_file.read_text()


@pytest.fixture
def own_mongo_server(mongo_server: MongoServer, tmp_path: Path) -> Iterator[MongoServer]:
    """A MongoDB server no other test writes to, for a test of transactions.

    mongoeco's MVCC version is server-wide: a transaction on the shared server fails to
    commit ("Write conflict") whenever another xdist worker writes anything meanwhile,
    which on a busy run can be every attempt. So over mongoeco the test gets a wire server
    of its own (started with the wire venv's Python); a real mongod or Atlas, whose
    conflicts are per document, is shared as it is.
    """
    if not mongo_server.is_mongoeco:
        yield mongo_server
        return
    if not WIRE_PYTHON:
        pytest.skip(NO_WIRE_PYTHON)
    uri_file = tmp_path / "own-mongo-uri"
    proc = subprocess.Popen([WIRE_PYTHON, str(WIRE_SCRIPT), "--uri-file", str(uri_file)])
    try:
        yield MongoServer(wait_for_uri(uri_file, proc).strip(), is_mongoeco=True)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _over_the_wire_markers(request: pytest.FixtureRequest, server: MongoServer) -> None:
    """Applies the markers that single out tests which cannot pass over a real socket.

    ``not_over_the_wire(reason)`` skips a test that pokes pymongo internals (real pymongo
    defeats such patches); ``mongoeco_skip(reason)`` skips one too slow for the emulation;
    ``wire_xfail(reason)`` expects a known store defect to fail on the wire server,
    strictly, so its fix is noticed.
    """
    skip = request.node.get_closest_marker("not_over_the_wire")
    if skip is None and server.is_mongoeco:
        skip = request.node.get_closest_marker("mongoeco_skip")
    if skip is not None:
        pytest.skip(skip.args[0])
    xfail = request.node.get_closest_marker("wire_xfail")
    if xfail is not None and server.is_mongoeco:
        request.applymarker(pytest.mark.xfail(reason=xfail.args[0], strict=True))


@pytest.fixture(params=["sqlite", "memory", "mongomock", "mongo"])
def store(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> Iterator[Store]:
    """The store on every backend: SQLite, the backtest's working store in memory, pymongo
    over mongomock, and a server over TCP.

    The "mongo" backend is skipped, with the reason, when there is no test server.
    """
    backend: str = request.param
    if backend == "sqlite":
        from pas.store.sqlite import SqliteStore

        s: Store = SqliteStore(tmp_path / "pas.db", clock=clock)
    elif backend == "memory":
        from pas.store.memory import MemoryStore

        s = MemoryStore(clock=clock)
    elif backend == "mongomock":
        import mongomock

        from pas.store.mongo import MongoStore

        _mongomock_accepts_sort()

        s = MongoStore(mongomock.MongoClient(tz_aware=True), "pas_test", where="mongomock", clock=clock)
    else:
        from pas.store.mongo import MongoStore

        server: MongoServer = request.getfixturevalue("mongo_server")
        _over_the_wire_markers(request, server)
        s = MongoStore(server.client(), request.getfixturevalue("mongo_db"), where="test server", clock=clock)
    yield s
    s.close()
