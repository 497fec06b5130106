"""Debian's real ``cron`` daemon runs the tick line; the tick keeps New York time.

Installs Debian's ``cron`` package with apt-get when the daemon is missing (skips, saying
why, when it cannot), starts the daemon in a server zone other than New York's
(``TZ=Asia/Tokyo`` unless another is named, so a cron that honoured hours would be 13-14
hours off), and gives it
a crontab of one line running a tick every minute (the real line runs every five). The
schedule is compressed to minutes: four jobs whose New York slots are the next minutes
from now, every day. Each job runs a real ``pas`` command (``pas jobs``) through the real
tick (``pas.unattended.tick.run_tick``, the store's run records, the job locks). After
the daemon has run for a few minutes the run records are read back: each job's runs, the
New York time of each, and how late after its slot. This user's crontab is restored and
the daemon this script started is stopped at the end.

Run as root from the repository root: .venv/bin/python benchmarks/cron_daemon.py [MINUTES [ZONE]]
(``cron_daemon.py 6 UTC`` runs the daemon six minutes in UTC).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path[:0] = [str(Path(__file__).resolve().parent.parent)]

from pas.schedule import MARKET_TZ  # noqa: E402
from pas.store.sqlite import SqliteStore  # noqa: E402
from pas.unattended.tick import SLOT_KEY  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
JOB_COUNT = 4
SERVER_TZ = "Asia/Tokyo"
WRAPPER = """
import json, subprocess, sys
from datetime import datetime, time
from pas.store.sqlite import SqliteStore
from pas.unattended.jobs import Days, Job
from pas.unattended.tick import run_tick


class EveryDay(Job):
    def runs_on(self, day):
        return True


home, pas = sys.argv[1], sys.argv[2]
slots = json.load(open(home + "/slots.json"))
args = ("jobs", "--limit", "1")
jobs = [EveryDay(f"job{i}", time.fromisoformat(at), Days.TRADING, args, "") for i, at in enumerate(slots)]


def runner(job):
    done = subprocess.run([pas, "--home", home, *job.args], capture_output=True, text=True)
    return done.returncode, done.stdout + done.stderr


with SqliteStore(__import__("pathlib").Path(home) / "pas.db") as store:
    run_tick(store, store.clock(), runner, jobs)
"""


def ensure_cron() -> str | None:
    """The path of the cron daemon, installing Debian's package if needed; None: cannot."""
    if shutil.which("cron"):
        return shutil.which("cron")
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    done = subprocess.run(["apt-get", "install", "-y", "-q", "cron"], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-q", "cron"], capture_output=True, env=env)
    return shutil.which("cron")


def main() -> None:
    minutes = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    zone = sys.argv[2] if len(sys.argv) > 2 else SERVER_TZ
    ZoneInfo(zone)  # an unknown zone stops here, before the crontab is touched
    cron = ensure_cron()
    if cron is None:
        print("skipped: no cron daemon, and apt-get cannot install Debian's cron package (needs root, apt)")
        return
    if subprocess.run(["pgrep", "-x", "cron"], capture_output=True).returncode == 0:
        print("skipped: a cron daemon is already running on this machine; this script starts its own")
        return
    version = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", "cron"], capture_output=True, text=True
    ).stdout
    home = Path(tempfile.mkdtemp(prefix="pas-cron-"))
    start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=2)
    slots = [
        (start + timedelta(minutes=i)).astimezone(MARKET_TZ).time().isoformat("minutes")
        for i in range(JOB_COUNT)
    ]
    (home / "slots.json").write_text(json.dumps(slots))
    (home / "tick.py").write_text(WRAPPER)
    pas = str(ROOT / ".venv" / "bin" / "pas")
    line = f"* * * * * {sys.executable} {home}/tick.py {home} {pas} >> {home}/cron-out.log 2>&1\n"
    old = subprocess.run(["crontab", "-l"], capture_output=True, text=True)
    subprocess.run(["crontab", "-"], input=f"PYTHONPATH={ROOT}\n{line}", text=True, check=True)
    daemon = subprocess.Popen([cron, "-f"], env={**os.environ, "TZ": zone}, stderr=subprocess.DEVNULL)
    try:
        now = datetime.now(UTC)
        local = now.astimezone(ZoneInfo(zone))
        print(
            f"cron {version} started in TZ={zone} at {now:%H:%M:%S} UTC ({local:%H:%M:%S %Z} there, "
            f"{now.astimezone(MARKET_TZ):%H:%M:%S %Z} in New York); running {minutes} min"
        )
        print("slots (New York):", ", ".join(slots))
        time.sleep(minutes * 60)
    finally:
        daemon.terminate()
        daemon.wait()
        if old.returncode == 0:
            subprocess.run(["crontab", "-"], input=old.stdout, text=True, check=True)
        else:
            subprocess.run(["crontab", "-r"], capture_output=True)
    report(home, slots, ZoneInfo(zone))


def report(home: Path, slots: list[str], zone: ZoneInfo) -> None:
    with SqliteStore(home / "pas.db") as store:
        runs = [r for r in store.recent_runs(1000) if r.command.startswith("tick ")]
    print(f"{'job':<6}{'slot NY':>8}{'runs':>6}  started (NY)  (server)  late s  status")
    for i, slot in enumerate(slots):
        mine = [r for r in runs if r.command == f"tick job{i}"]
        for r in mine or [None]:
            if r is None:
                print(f"job{i:<3}{slot:>8}{0:>6}  -")
                continue
            at = r.started_at.astimezone(MARKET_TZ)
            late = (r.started_at - datetime.fromisoformat(r.details[SLOT_KEY])).total_seconds()
            there = r.started_at.astimezone(zone)
            print(
                f"job{i:<3}{slot:>8}{len(mine):>6}  {at:%H:%M:%S}      {there:%H:%M:%S}  {late:>6.0f}  "
                f"{r.status.value}"
            )
    out = home / "cron-out.log"
    print("tick output (cron would mail it):", out.read_text().strip() or "none" if out.exists() else "none")


if __name__ == "__main__":
    main()
