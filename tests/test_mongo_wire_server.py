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

_ROOT = Path(__file__).resolve().parent.parent
_SCRIPT = _ROOT / "scripts" / "mongo_wire_server.py"
# The wire venv's Python, exported by `scripts/dev test` when it made one.
_PYTHON = os.environ.get("PAS_TEST_MONGO_WIRE_PYTHON", "")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not _PYTHON,
        reason=os.environ.get("PAS_TEST_MONGO_SKIP_REASON")
        or "no wire server Python: PAS_TEST_MONGO_WIRE_PYTHON is not set (`scripts/dev test` sets it)",
    ),
]


def _wait_for(path: Path, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, "the server never wrote its URI"
        time.sleep(0.05)
    return path.read_text()


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
    proc = subprocess.Popen([_PYTHON, str(_SCRIPT), "--uri-file", str(uri_file)])
    try:
        text = _wait_for(uri_file)
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
            _PYTHON,
            str(_SCRIPT),
            "--uri-file",
            str(uri_file),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    server = int(parent.stdout.readline())
    try:
        _wait_for(uri_file)
        parent.kill()
        parent.wait()
        assert _gone(server), "the orphaned server kept running"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(server, signal.SIGKILL)
