"""A month of ``pas tick`` with nobody watching, against the fake Alpaca and fake Quiver.

22 trading days from 2026-10-19 to 2026-11-17 (New York's DST ends on 1 November), an
injected clock, ``pas tick`` through the command line every five minutes from 06:00 to
18:30 New York on weekdays and every hour otherwise (ticks in between find nothing due
by construction), each job run in-process through the real commands. Injected trouble:
a Quiver outage day (every request answers 503), a 429 storm (each endpoint answers 429
with Retry-After three times, then serves), a rebalance killed after its first accepted
order (new targets give it orders to send; the tick dies with it, and its run records are
left as a kill -9 leaves them, running with a pid that is gone), a week without new closes at the broker so
that the closes are stale on its last day (more than PRICE_MAX_STALE_DAYS=5 days old; the
backlog arrives the day after), the machine off one morning (no ticks 06:00-11:00), and a
weekly rebalance with new targets locked out by another run holding the trading lock at
its slot (the next tick runs it again). Prints what each trouble did (the exit codes of the
jobs of its day), each job's run times in New York and the build's UTC hours on both sides
of the DST change, the slots caught up, the lock-outs retried, the alerts by job and cause
(as the webhook receiver got them), double orders, and the ledger against the broker's
positions at the end.

Run from the repository root: .venv/bin/python benchmarks/month_unattended.py
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parent.parent)]

from typer.testing import CliRunner  # noqa: E402

from pas.cli import app  # noqa: E402
from pas.commands import _wiring  # noqa: E402
from pas.commands._app import AppState  # noqa: E402
from pas.models import Portfolio, Schedule, WeightSet  # noqa: E402
from pas.portfolio.trading import run as trading_run  # noqa: E402
from pas.portfolio.trading.lock import LOCK_NAME  # noqa: E402
from pas.schedule import MARKET_TZ, is_trading_day  # noqa: E402
from pas.store.sqlite import SqliteStore  # noqa: E402
from pas.unattended.jobs import JOBS, Job  # noqa: E402
from pas.unattended.tick import RETRY_KEY, TICK_PREFIX  # noqa: E402
from tests.fakes import quiver  # noqa: E402
from tests.fakes.alpaca import KEY_ID, SECRET, FakeAlpaca  # noqa: E402

START = date(2026, 10, 19)
TRADING_DAYS = 22
SYMBOLS = {"AAA": "50", "BBB": "80", "CCC": "120", "DDD": "30"}
OUTAGE_DAY, STORM_DAY, OFF_DAY = date(2026, 10, 21), date(2026, 10, 23), date(2026, 11, 9)
# No new closes at the broker from STALE_FROM to STALE_DAY: on STALE_DAY the newest close
# (2026-10-21) is 6 days old, stale; the backlog arrives the next day.
STALE_FROM, STALE_DAY = date(2026, 10, 22), date(2026, 10, 27)
KILLED_REBALANCE = date(2026, 11, 2)
LOCKED_REBALANCE = date(2026, 11, 16)  # another run holds the trading lock at 10:15
DST_END = date(2026, 11, 1)
PORTFOLIOS = {"alpha": {"AAA": 0.4, "BBB": 0.5}, "beta": {"BBB": 0.3, "CCC": 0.3, "DDD": 0.3}}
# New targets before the killed and the locked-out rebalance, so that each has orders to
# send at unchanged prices (a moved price would be refused by the PRICE_COLLAR first).
NEW_TARGETS = {
    KILLED_REBALANCE: ("alpha", {"AAA": 0.5, "BBB": 0.4}),
    LOCKED_REBALANCE: ("beta", {"BBB": 0.2, "CCC": 0.4, "DDD": 0.3}),
}
TROUBLE = {
    OUTAGE_DAY: "Quiver outage (503)",
    STORM_DAY: "429 storm",
    STALE_DAY: "stale closes",
    KILLED_REBALANCE: "rebalance killed",
    OFF_DAY: "machine off 06:00-11:00",
    LOCKED_REBALANCE: "rebalance locked out",
}


class Clock:
    def __init__(self) -> None:
        self.now = datetime.combine(START, datetime.min.time(), tzinfo=MARKET_TZ).astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now


class Killed(BaseException):
    """The rebalance process dies after its first accepted order (as kill -9 would)."""


class Receiver:
    def __init__(self) -> None:
        self.texts: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                outer.texts.append(json.loads(self.rfile.read(int(self.headers["Content-Length"])))["text"])
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def next_close(now: datetime) -> datetime:
    """The next NYSE close after ``now``: 16:00 New York on a trading day (20:00 UTC in summer
    time, 21:00 in winter; the fake's default is 21:00 UTC all year)."""
    day = now.astimezone(MARKET_TZ).date()
    while True:
        close = datetime.combine(day, datetime.min.time().replace(hour=16), tzinfo=MARKET_TZ)
        if is_trading_day(day) and close > now:
            return close.astimezone(UTC)
        day += timedelta(days=1)


def ticks(days: list[date]) -> list[datetime]:
    """The tick times of the month in UTC: every 5 minutes 06:00-18:30 NY on weekdays, hourly otherwise."""
    out = []
    day = START
    while day <= days[-1]:
        for minute in range(0, 24 * 60, 5):
            at = datetime.combine(day, datetime.min.time(), tzinfo=MARKET_TZ) + timedelta(minutes=minute)
            busy = day.weekday() < 5 and 6 * 60 <= minute <= 18 * 60 + 30
            off = day == OFF_DAY and 6 * 60 <= minute < 11 * 60
            if (busy or minute % 60 == 0) and not off:
                out.append(at.astimezone(UTC))
        day += timedelta(days=1)
    return out


def main() -> None:  # noqa: C901, PLR0915 - one scenario, read top to bottom
    time.sleep = lambda seconds: None  # retries and fill polls on the injected clock
    _wiring.pause = lambda seconds: None
    clock = Clock()
    count = int(sys.argv[1]) if len(sys.argv) > 1 else TRADING_DAYS
    days = [d for d in (START + timedelta(days=i) for i in range(40)) if is_trading_day(d)][:count]
    receiver = Receiver()
    with FakeAlpaca(clock=clock) as broker, tempfile.TemporaryDirectory() as home:
        fake_q = quiver.FakeQuiver()
        threading.Thread(target=fake_q.server.serve_forever, daemon=True).start()
        broker.cash = Decimal(200_000)
        for s, p in {**SYMBOLS, "SPY": "600"}.items():
            broker.set_price(s, p)
            broker.add_bars(s, {START - timedelta(days=3): p})  # the Friday before: a first return
        with SqliteStore(Path(home) / "pas.db", clock=clock) as store:
            for pid, weights in PORTFOLIOS.items():
                store.add_portfolio(
                    Portfolio(pid, "manual", Schedule.WEEKLY, clock(), capital=Decimal(100_000))
                )
                store.put_weights(WeightSet(pid, clock(), weights))
        env = {
            "PAS_HOME": home,
            "ALPACA_API_KEY": KEY_ID,
            "ALPACA_API_SECRET": SECRET,
            "ALPACA_BASE_URL": broker.url,
            "ALPACA_DATA_URL": broker.url,
            "QUIVER_API_KEY": quiver.API_KEY,
            "QUIVER_BASE_URL": fake_q.url,
            "QUIVER_RATE_SEC": "0",
            "QUIVER_RATE_LIMITS": quiver.UNLIMITED_RATES,
            "WIKI_SOURCE": "quiver",
            "ALERT_WEBHOOK_URL": receiver.url,
            "FILL_TIMEOUT_SEC": "5",
            "MAX_ORDER_NOTIONAL": "1000000",
        }
        ran: dict[str, list[datetime]] = defaultdict(list)
        codes: dict[date, list[str]] = defaultdict(list)
        killed = [False]
        locked = [False]
        mails: list[str] = []
        backlog: list[date] = []
        storm = {"429s": 0}

        def prepare(job: Job, today: date) -> None:
            if job.name == "scrape":
                quiver.load_all(fake_q, today - timedelta(days=1))
                fake_q.faults.clear()  # trouble lasts one day
                paths = list(fake_q.rows)
                if today == OUTAGE_DAY:
                    for path in paths:
                        fake_q.faults[path].extend(
                            quiver.Fault(503, "Service Unavailable") for _ in range(50)
                        )
                if today == STORM_DAY:
                    for path in paths:
                        fake_q.faults[path].extend(
                            quiver.Fault(429, "Too Many Requests", {"Retry-After": "1"}) for _ in range(3)
                        )
                    storm["429s"] = 3 * len(paths)
            if (
                job.name == "rebalance"
                and today in NEW_TARGETS
                and not (locked[0] and today == LOCKED_REBALANCE)
            ):
                pid, weights = NEW_TARGETS[today]
                with SqliteStore(Path(home) / "pas.db", clock=clock) as targets:
                    targets.put_weights(WeightSet(pid, clock(), weights))
            if job.name == "rebalance" and today == LOCKED_REBALANCE and not locked[0]:
                locked[0] = True  # another host's run holds the lock for a minute
                with SqliteStore(Path(home) / "pas.db", clock=clock) as held:
                    held.acquire_lock(LOCK_NAME, "another-host:4242", 60.0)
            if job.name == "prices":
                backlog.append(today)
                if not STALE_FROM <= today <= STALE_DAY:  # the feed delivers, the backlog too
                    for day in backlog:
                        for s, p in {**SYMBOLS, "SPY": "600"}.items():
                            broker.add_bars(s, {day: broker.prices.get(s, Decimal(p))})
                    backlog.clear()

        def runner(job: Job) -> tuple[int, str]:
            today = clock().astimezone(MARKET_TZ).date()
            ran[job.name].append(clock().astimezone(MARKET_TZ))
            prepare(job, today)
            submit = trading_run._submit
            if job.name == "rebalance" and today == KILLED_REBALANCE and not killed[0]:
                killed[0] = True

                def die(*args: Any) -> Any:
                    submit(*args)  # the broker accepted the order; then the process dies
                    raise Killed

                trading_run._submit = die
            try:
                obj = AppState(environ=os.environ, clock=clock)
                result = CliRunner().invoke(app, list(job.args), obj=obj, env=env)
            except Killed:
                codes[today].append(f"{job.name} killed after its first accepted order")
                raise
            finally:
                trading_run._submit = submit
            if job.name == "scrape" and today == STORM_DAY:
                served = storm["429s"] - sum(len(q) for q in fake_q.faults.values())
                codes[today].append(f"scrape exit {result.exit_code} after {served} answers 429")
            else:
                codes[today].append(
                    f"{job.name} {clock().astimezone(MARKET_TZ):%H:%M} exit {result.exit_code}"
                )
            return result.exit_code, result.output

        for at in ticks(days):
            clock.now = at
            broker.next_close = next_close(at)  # the last completed session, as Alpaca's clock says
            obj = AppState(environ=os.environ, clock=clock, job_runner=runner)
            try:
                mailed = CliRunner().invoke(app, ["tick"], obj=obj, env=env).output
            except Killed:  # the tick process died with its rebalance: nothing more of it runs
                mailed = ""
                print(
                    f"tick killed at {clock().astimezone(MARKET_TZ):%Y-%m-%d %H:%M %Z} during the rebalance"
                )
                as_kill_9_leaves_them(Path(home) / "pas.db")
            if mailed:
                mails.append(mailed)
        fake_q.server.shutdown()
        print("trouble injected, and what the day's jobs did:")
        for day, what in sorted(TROUBLE.items()):
            if day <= days[-1]:
                print(f"  {day} {what}: {'; '.join(codes[day])}")
        report(ran, days, receiver, broker, home, clock)
        print(f"mails cron would send (tick output): {len(mails)}; the first:")
        print("   " + mails[0].strip().replace("\n", "\n   ") if mails else "   none")


def report(
    ran: dict[str, list[datetime]],
    days: list[date],
    receiver: Receiver,
    broker: FakeAlpaca,
    home: str,
    clock: Clock,
) -> None:
    print(f"{len(days)} trading days {days[0]} .. {days[-1]} (New York DST ended 2026-11-01)")
    print(f"{'job':<10}{'runs':>5}  New York times (distinct)  late runs (caught up)")
    caught = 0
    retried = _retries(home, clock)
    for job in JOBS:
        times = [t for t in ran.get(job.name, []) if (job.name, t) not in retried]
        late = [t for t in times if t.time() != job.at]
        caught += len(late)
        distinct = sorted({t.strftime("%H:%M") for t in times})
        late_text = ", ".join(f"{t:%m-%d %H:%M}" for t in late)
        print(f"{job.name:<10}{len(times):>5}  {', '.join(distinct):<26} {late_text}")
        expected = sum(job.runs_on(d) for d in days)
        if len(times) != expected or len({t.date() for t in times}) != len(times):
            print(f"  !! {job.name}: {len(times)} runs for {expected} slots")
    print(f"missed slots caught up: {caught}")
    build = next(job for job in JOBS if job.name == "build")
    on_time = [t for t in ran.get("build", []) if t.time() == build.at]
    utc = sorted({(t.date() > DST_END, t.astimezone(UTC).strftime("%H:%M")) for t in on_time})
    print(
        f"build on time in UTC (New York {build.at:%H:%M}): before the DST change",
        ", ".join(h for after, h in utc if not after) or "-",
        "; after it",
        ", ".join(h for after, h in utc if after) or "-",
    )
    print(
        "lock-outs run again at the next tick:",
        ", ".join(f"{name} {at:%m-%d %H:%M}" for name, at in sorted(retried)) or "none",
    )
    causes = Counter(_job_and_cause(text) for text in receiver.texts)
    print("alerts sent by job and cause:", dict(causes) or "none")
    for text in receiver.texts:
        print("  ", text[:300])
    client_ids = Counter(o["client_order_id"] for o in broker.orders.values())
    per_slot = Counter((o["symbol"], o["created_at"][:10]) for o in broker.orders.values())
    print(
        f"orders at the broker: {len(broker.orders)}; double orders (same client id): "
        f"{sum(n - 1 for n in client_ids.values())}; symbols ordered twice on one day: "
        f"{sum(1 for n in per_slot.values() if n > 1)}"
    )
    with SqliteStore(Path(home) / "pas.db", clock=clock) as store:
        ledger: dict[str, Decimal] = defaultdict(Decimal)
        for pid in PORTFOLIOS:
            for s, q in store.holdings(pid).items():
                ledger[s] += q
    positions = {s: q for s, q in broker.positions.items() if q}
    ledger = {s: q for s, q in ledger.items() if q}
    print("ledger vs broker at the end:", "equal" if ledger == positions else "DIFFERENT")
    for s in sorted(set(ledger) | set(positions)):
        print(f"  {s}: ledger {ledger.get(s, 0)}  broker {positions.get(s, 0)}")


def as_kill_9_leaves_them(db_path: Path) -> None:
    """The runs the in-process kill ended, as a real ``kill -9`` leaves them: still
    ``running``, recorded with the pid of a process that is gone. (In-process, the exception
    unwinds through the run records, which write ``failed``; a killed process writes nothing.)"""
    gone = subprocess.Popen(["true"])
    gone.wait()
    with sqlite3.connect(db_path) as db:
        db.execute(
            "UPDATE runs SET status = 'running', ended_at = NULL, error = '',"
            " details = json_set(details, '$.pid', ?) WHERE error LIKE 'Killed%'",
            (gone.pid,),
        )
    db.close()


def _job_and_cause(alert: str) -> str:
    """``prices failed`` from ``pas on HOST: prices (prices fetch) of 2026-10-27 16:50 EDT failed, ...``."""
    if " found abandoned, " in alert:
        return "abandoned runs"
    job = alert.split(": ", 1)[1].split(" ", 1)[0]
    cause = alert.split(" of ", 1)[1].split(", exit")[0].split(" ", 3)[-1]
    return f"{job} {cause}"


def _retries(home: str, clock: Clock) -> set[tuple[str, datetime]]:
    """The (job, New York start) of each tick run that retried a locked-out slot."""
    with SqliteStore(Path(home) / "pas.db", clock=clock) as store:
        return {
            (r.command.removeprefix(TICK_PREFIX), r.started_at.astimezone(MARKET_TZ))
            for r in store.recent_runs(100_000)
            if r.command.startswith(TICK_PREFIX) and r.details.get(RETRY_KEY)
        }


if __name__ == "__main__":
    main()
