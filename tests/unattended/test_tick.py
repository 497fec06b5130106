"""`pas tick` on a store: once per slot from the run records, the lock, outcomes recorded."""

from __future__ import annotations

from datetime import datetime

from pas.models import Run, RunStatus
from pas.runs import HOST_KEY, PID_KEY, shown_status
from pas.schedule import MARKET_TZ
from pas.store.base import Store
from pas.unattended.jobs import JOBS, Job
from pas.unattended.tick import RETRY_KEY, SLOT_KEY, run_tick, slots_done
from tests.conftest import FakeClock

MONDAY_1030 = datetime(2026, 3, 9, 10, 30, tzinfo=MARKET_TZ)


class Recorder:
    """A runner that records the jobs it ran and answers with a fixed outcome per job."""

    def __init__(self, outcomes: dict[str, tuple[int, str]] | None = None) -> None:
        self.ran: list[str] = []
        self.outcomes = outcomes or {}

    def __call__(self, job: Job) -> tuple[int, str]:
        self.ran.append(job.name)
        return self.outcomes.get(job.name, (0, f"{job.name} done"))


def test_a_tick_runs_the_due_jobs_in_order_and_a_second_tick_runs_none(
    store: Store, clock: FakeClock
) -> None:
    clock.now = MONDAY_1030
    runner = Recorder()
    results = run_tick(store, clock(), runner)
    assert runner.ran == ["scrape", "build", "allocate", "rebalance"]
    assert [r.exit_code for r in results] == [0, 0, 0, 0]
    assert run_tick(store, clock(), runner) == []
    assert runner.ran == ["scrape", "build", "allocate", "rebalance"]
    runs = {r.command: r for r in store.recent_runs(10)}
    assert runs["tick build"].status is RunStatus.OK
    assert runs["tick build"].details[SLOT_KEY] == "2026-03-09T09:45:00-04:00"
    assert runs["tick build"].details["summary"] == "build done"


def test_a_failed_or_refused_job_is_recorded_and_not_retried_in_its_slot(
    store: Store, clock: FakeClock
) -> None:
    clock.now = MONDAY_1030
    runner = Recorder(
        {"scrape": (1, "error: Quiver answered 503\n"), "rebalance": (3, "error: breaker tripped")}
    )
    results = run_tick(store, clock(), runner)
    assert [(r.job.name, r.exit_code) for r in results] == [
        ("scrape", 1),
        ("build", 0),
        ("allocate", 0),
        ("rebalance", 3),
    ]
    runs = {r.command: r for r in store.recent_runs(10)}
    assert (runs["tick scrape"].status, runs["tick scrape"].error) == (
        RunStatus.FAILED,
        "error: Quiver answered 503",
    )
    assert runs["tick rebalance"].status is RunStatus.REFUSED
    assert run_tick(store, clock(), runner) == []  # at most once per slot, even after a failure


def test_a_killed_tick_still_counts_its_slot_as_run(store: Store, clock: FakeClock) -> None:
    # A rebalance killed with kill -9 left its record running: its slot is not run again
    # (it may have sent orders); `pas jobs` shows it abandoned and the trading run resumes it.
    clock.now = MONDAY_1030
    slot = datetime(2026, 3, 9, 10, 15, tzinfo=MARKET_TZ)
    killed = Run(
        "k1",
        "tick rebalance",
        clock(),
        RunStatus.RUNNING,
        details={SLOT_KEY: slot.isoformat(), PID_KEY: 999_999, HOST_KEY: "h"},
    )
    store.start_run(killed)
    assert slots_done(store)["rebalance"] == slot
    runner = Recorder()
    run_tick(store, clock(), runner)
    assert "rebalance" not in runner.ran
    assert shown_status(store.recent_runs(20)[-1], "h", alive=lambda pid: False) == "abandoned"


def test_a_job_whose_lock_another_tick_holds_is_left_to_it(store: Store, clock: FakeClock) -> None:
    clock.now = MONDAY_1030
    assert store.acquire_lock("tick scrape", "another tick", 3600)
    runner = Recorder()
    run_tick(store, clock(), runner)
    assert "scrape" not in runner.ran and "build" in runner.ran


def test_abandoned_only_for_a_dead_process_on_this_host() -> None:
    def run(status: RunStatus, host: str) -> Run:
        return Run("r", "build", MONDAY_1030, status, details={PID_KEY: 42, HOST_KEY: host})

    assert shown_status(run(RunStatus.RUNNING, "here"), "here", alive=lambda pid: False) == "abandoned"
    assert shown_status(run(RunStatus.RUNNING, "here"), "here", alive=lambda pid: True) == "running"
    assert shown_status(run(RunStatus.RUNNING, "other"), "here", alive=lambda pid: False) == "running"
    assert shown_status(run(RunStatus.OK, "here"), "here", alive=lambda pid: False) == "ok"


def test_jobs_table_is_in_dependency_order() -> None:
    names = [j.name for j in JOBS]
    assert names.index("sync") < names.index("prices") < names.index("metrics") < names.index("risk")
    assert names.index("sync") < names.index("reconcile")  # the day's fills recorded first
    assert names.index("allocate") < names.index("rebalance")


def test_a_locked_out_job_runs_again_at_the_next_tick_once(store: Store, clock: FakeClock) -> None:
    # Issue 12: a `build --due` locked out by another trading run (exit 4) did nothing; its
    # slot is not spent, so the next tick runs it again, and a second lock-out is final.
    clock.now = MONDAY_1030
    locked = (4, "error: another trading run (h:1) holds the trading lock; wait for it to finish\n")
    runner = Recorder({"build": locked})
    first = run_tick(store, clock(), runner)
    assert [(r.exit_code, r.retry) for r in first if r.job.name == "build"] == [(4, True)]
    clock.advance(300)
    again = run_tick(store, clock(), runner)
    assert [(r.job.name, r.exit_code, r.retry) for r in again] == [("build", 4, False)]
    runs = [r for r in store.recent_runs(20) if r.command == "tick build"]
    assert [(r.status, r.details.get(RETRY_KEY)) for r in runs] == [
        (RunStatus.LOCKED, True),
        (RunStatus.LOCKED, None),
    ]
    clock.advance(300)
    assert run_tick(store, clock(), runner) == []  # at most one retry per slot
    assert runner.ran.count("build") == 2


def test_a_locked_out_job_that_then_runs_spends_its_slot(store: Store, clock: FakeClock) -> None:
    clock.now = MONDAY_1030
    runner = Recorder({"rebalance": (4, "error: another trading run holds the trading lock\n")})
    run_tick(store, clock(), runner)
    runner.outcomes.clear()
    clock.advance(300)
    assert [r.job.name for r in run_tick(store, clock(), runner)] == ["rebalance"]
    slot = datetime(2026, 3, 9, 10, 15, tzinfo=MARKET_TZ)
    assert slots_done(store)["rebalance"] == slot
    clock.advance(300)
    assert run_tick(store, clock(), runner) == []


def test_a_lock_out_is_not_retried_on_a_later_new_york_day(store: Store, clock: FakeClock) -> None:
    # Catch-up stays within the New York day: Monday's locked-out build is not run on Tuesday
    # (Tuesday's own slot runs, and `pas build --due` then trades Monday's untraded targets).
    clock.now = MONDAY_1030
    runner = Recorder({"build": (4, "error: locked\n")})
    run_tick(store, clock(), runner)
    runner.outcomes.clear()
    clock.now = datetime(2026, 3, 10, 9, 50, tzinfo=MARKET_TZ)
    ran = [(r.job.name, r.slot.day, r.retry) for r in run_tick(store, clock(), runner)]
    assert ("build", 10, False) in ran
    assert runner.ran.count("build") == 2
