"""Fixtures for scraper tests: a fake Quiver server and a client whose sleep moves the clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from pas.scrapers.client import QuiverClient
from pas.scrapers.limits import RateLimit
from pas.store.sqlite import SqliteStore
from tests.conftest import FakeClock
from tests.fakes.quiver import API_KEY, FakeQuiver, serve

UNLIMITED = {
    "bulk/": RateLimit(10**9, 1.0),
    "live/": RateLimit(10**9, 1.0),
    "historical/": RateLimit(10**9, 1.0),
}


class Sleeper:
    """Records requested sleeps and advances the fake clock instead of waiting."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.clock.advance(seconds)


@pytest.fixture
def fake() -> Iterator[FakeQuiver]:
    with serve() as server:
        yield server


@pytest.fixture
def sleeper(clock: FakeClock) -> Sleeper:
    return Sleeper(clock)


@pytest.fixture
def sqlite_store(tmp_path: Path, clock: FakeClock) -> Iterator[SqliteStore]:
    s = SqliteStore(tmp_path / "pas.db", clock=clock)
    yield s
    s.close()


@pytest.fixture
def client(
    fake: FakeQuiver, sqlite_store: SqliteStore, clock: FakeClock, sleeper: Sleeper
) -> Iterator[QuiverClient]:
    with requests.Session() as session:
        yield QuiverClient(
            session=session,
            cache=sqlite_store,
            limiter=sqlite_store,
            api_key=API_KEY,
            base_url=fake.url,
            rate_sec=1.1,
            timeout_sec=2.0,
            # Tests of other things are not slowed by the endpoints' limits (tests of the
            # limits set them); the shared QUIVER_RATE_SEC slot still applies.
            rate_limits=UNLIMITED,
            sleep=sleeper,
            clock=clock,
        )
