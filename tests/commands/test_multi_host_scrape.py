"""Two hosts scraping against one MongoDB share QuiverQuant's per-endpoint limits.

Two real ``pas scrape`` processes with different ``PAS_HOST_ID`` over the wire server; the
fake Quiver counts each endpoint's requests against the limit, as Quiver does, and answers
429 with ``Retry-After`` past it. A limit of one request an hour makes the count tell: on
the smooth schedule (``pas.scrapers.limits``) a second request within the hour, from
either host, is one too many.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pas.schedule import market_day
from tests.commands.test_multi_host import PAS, host_env
from tests.conftest import MongoServer
from tests.fakes.quiver import API_KEY, UNLIMITED_RATES, FakeQuiver, load_all, serve

pytestmark = pytest.mark.slow

ENDPOINT = "live/lobbying"  # a lobbying scrape asks it for about 40 pages and windows
HOUR_SEC = 3600.0


@pytest.fixture
def fake() -> Iterator[FakeQuiver]:
    with serve() as server:
        load_all(server, market_day(datetime.now(UTC)) - timedelta(days=1))
        server.limits[ENDPOINT] = (1, HOUR_SEC)  # Quiver's own count: one an hour
        yield server


def _env(tmp_path: Path, uri: str, db_name: str, fake: FakeQuiver, host: str, limits: str) -> dict[str, str]:
    return {
        **host_env(tmp_path, uri, db_name, host),
        "QUIVER_API_KEY": API_KEY,
        "QUIVER_BASE_URL": fake.url,
        "QUIVER_RATE_SEC": "0",
        "QUIVER_RATE_LIMITS": limits,
        "QUIVER_MAX_WAIT_SEC": "5",  # a wait longer than this stops the dataset as partial
        "WIKI_SOURCE": "quiver",
    }


def _hosts(
    tmp_path: Path, server: MongoServer, db_name: str, fake: FakeQuiver, limits: str
) -> list[dict[str, str]]:
    return [_env(tmp_path, server.uri, db_name, fake, host, limits) for host in ("host-a", "host-b")]


def _throttled(fake: FakeQuiver) -> int:
    """How many requests to the endpoint were past its limit (answered 429)."""
    return len([e for e in fake.log if e.path == ENDPOINT]) - len(fake.served[ENDPOINT])


def test_two_hosts_scraping_at_once_keep_the_endpoint_limit_between_them(
    fake: FakeQuiver, mongo_server: MongoServer, mongo_db: str, tmp_path: Path
) -> None:
    hosts = _hosts(tmp_path, mongo_server, mongo_db, fake, f"{UNLIMITED_RATES},{ENDPOINT}=1/hour")
    procs = [
        subprocess.Popen(
            [*PAS, "scrape", "lobbying", "--json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for env in hosts
    ]
    outcomes = [p.communicate(timeout=300) for p in procs]
    assert len(fake.served[ENDPOINT]) == 1, "one request an hour, whichever host sent it"
    assert _throttled(fake) == 0, "neither host went past the limit"
    for out, err in outcomes:
        assert "limit of 1/hour requests for live/lobbying is used up" in out + err, (out, err)


def test_a_throttled_answer_holds_the_other_host_back_too(
    fake: FakeQuiver, mongo_server: MongoServer, mongo_db: str, tmp_path: Path
) -> None:
    """Quiver's limit is tighter than pas was told (the key is shared with another tool):
    host-a learns it from a 429 with Retry-After; host-b must not spend a request to learn
    it again."""
    a, b = _hosts(tmp_path, mongo_server, mongo_db, fake, UNLIMITED_RATES)
    first = subprocess.run([*PAS, "scrape", "lobbying"], env=a, capture_output=True, text=True, timeout=300)
    assert _throttled(fake) == 1, first.stdout + first.stderr
    assert "is used up for lobbying" in first.stdout + first.stderr
    second = subprocess.run([*PAS, "scrape", "lobbying"], env=b, capture_output=True, text=True, timeout=300)
    assert "is used up for lobbying" in second.stdout + second.stderr
    assert _throttled(fake) == 1, "host-b waited for the time Quiver gave host-a"
    assert len(fake.served[ENDPOINT]) == 1
