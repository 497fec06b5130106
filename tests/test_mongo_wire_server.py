"""scripts/mongo_wire_server.py: ready when its URI file appears, gone on SIGTERM or orphaned."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pymongo
import pytest

from tests.conftest import NO_WIRE_PYTHON, WIRE_PYTHON, WIRE_SCRIPT, wait_for_uri

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not WIRE_PYTHON, reason=os.environ.get("PAS_TEST_MONGO_SKIP_REASON") or NO_WIRE_PYTHON
    ),
]


def _gone(pid: int, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_it_serves_pymongo_and_stops_on_sigterm(tmp_path: Path) -> None:
    uri_file = tmp_path / "uri"
    proc = subprocess.Popen([WIRE_PYTHON, str(WIRE_SCRIPT), "--uri-file", str(uri_file)])
    try:
        text = wait_for_uri(uri_file, proc)
        assert text.startswith("mongodb://127.0.0.1:") and text.endswith("/?directConnection=true\n")
        with pymongo.MongoClient(text.strip(), serverSelectionTimeoutMS=10_000) as client:
            client.t.c.insert_one({"_id": 1})
            assert client.t.c.find_one({"_id": 1}) == {"_id": 1}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        proc.kill()
        proc.wait()


def test_it_stops_when_its_parent_dies(tmp_path: Path) -> None:
    uri_file = tmp_path / "uri"
    # A parent that prints the server's pid, then waits; killing it orphans the server.
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys; p = subprocess.Popen(sys.argv[1:]); print(p.pid, flush=True); p.wait()",
            WIRE_PYTHON,
            str(WIRE_SCRIPT),
            "--uri-file",
            str(uri_file),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    server = int(parent.stdout.readline())
    try:
        wait_for_uri(uri_file)
        parent.kill()
        parent.wait()
        assert _gone(server), "the orphaned server kept running"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(server, signal.SIGKILL)
