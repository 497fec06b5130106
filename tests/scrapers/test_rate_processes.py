"""Two processes scraping at once share one rate limit (their state is in the store)."""

from __future__ import annotations

import itertools
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.fakes.quiver import API_KEY, FakeQuiver

RATE_SEC = 0.25
PER_PROCESS = 4
# Scheduling and loopback jitter between a slot's start and the request's arrival.
SLACK_SEC = 0.06

WORKER = textwrap.dedent(
    """
    import sys, time, requests
    from pathlib import Path
    from pas.scrapers.client import QuiverClient
    from pas.store.sqlite import SqliteStore

    url, db, key, rate, count, go = sys.argv[1:7]
    store = SqliteStore(Path(db))
    while time.time() < float(go):
        time.sleep(0.005)
    client = QuiverClient(
        session=requests.Session(), cache=store, limiter=store, api_key=key, base_url=url,
        rate_sec=float(rate), cache_ttl_sec=0, sleep=time.sleep, clock=store.clock,
    )
    for i in range(int(count)):
        client.get("live/wikipedia", {"n": i})
    store.close()
    """
)


@pytest.mark.slow
def test_two_processes_respect_the_rate_limit(fake: FakeQuiver, tmp_path: Path) -> None:
    import time

    fake.rows["live/wikipedia"] = []
    db = tmp_path / "shared.db"
    from pas.store.sqlite import SqliteStore

    SqliteStore(db).close()  # schema created once, before the race
    go = time.time() + 1.5  # both start together, after their imports
    repo = Path(__file__).resolve().parents[2]
    args = [fake.url, str(db), API_KEY, str(RATE_SEC), str(PER_PROCESS), str(go)]
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKER, *args], cwd=repo, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    for p in procs:
        _, err = p.communicate(timeout=30)
        assert p.returncode == 0, err.decode()
    times = sorted(e.at for e in fake.log)
    assert len(times) == 2 * PER_PROCESS
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= RATE_SEC - SLACK_SEC, gaps
