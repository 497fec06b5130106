"""``pas`` as a real process: the installed entry point, exit codes, the Mongo timeout."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

# The console script the package installs, next to the interpreter running the tests.
_SCRIPT = Path(sys.executable).parent / "pas"
PAS = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-c", "from pas.cli import main; main()"]


def run(args: list[str], home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PAS, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(home), "PAS_HOME": str(home / "data"), **env},
    )


def test_help_and_a_round_trip(tmp_path: Path) -> None:
    assert "Usage: pas" in run(["--help"], tmp_path).stdout
    assert run(["portfolio", "add", "p1", "--capital", "100"], tmp_path).returncode == 0
    listed = run(["portfolio", "list"], tmp_path)
    assert listed.returncode == 0 and "p1" in listed.stdout
    missing = run(["positions", "nope"], tmp_path)
    assert (missing.returncode, missing.stderr) == (
        2,
        "error: no portfolio 'nope' (see `pas portfolio list`)\n",
    )
    assert (tmp_path / "data" / "pas.db").is_file()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_unreachable_mongo_fails_and_names_the_setting(tmp_path: Path) -> None:
    uri = f"mongodb://pasuser:s3cretpw@127.0.0.1:{_closed_port()}/?directConnection=true"
    result = run(["portfolio", "list"], tmp_path, MONGO_URI=uri, PAS_MONGO_TIMEOUT_SEC="1")
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot reach MongoDB at mongodb://pasuser:****@127.0.0.1:")
    assert "check MONGO_URI" in result.stderr
    assert "s3cretpw" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1


def test_unwritable_home_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = run(["portfolio", "list"], tmp_path, PAS_HOME=str(blocker / "sub"))
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: cannot open the embedded database {blocker / 'sub' / 'pas.db'}")
    assert "check that PAS_HOME points to a writable directory" in result.stderr
