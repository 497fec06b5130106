"""``pas cron``, ``pas schedule`` and ``pas tick``: the schedule from cron in New York time."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from pas.commands._app import AppState, JsonOption, err_console, print_json, print_table, state
from pas.errors import EXIT_FAILED, EXIT_OK, PasError

if TYPE_CHECKING:
    from pas.models import Run
    from pas.unattended.jobs import Job
    from pas.unattended.tick import JobResult, Runner

# A job that runs longer than this is stopped (a scrape of every dataset within Quiver's
# hourly limits takes well under an hour).
JOB_TIMEOUT_SEC = 3 * 3600.0


def pas_executable() -> str:
    """The absolute path of this installation's ``pas``."""
    beside = Path(sys.executable).parent / "pas"
    if beside.is_file():
        return str(beside)
    found = shutil.which("pas")
    return str(Path(found).absolute()) if found else "pas"


def _root_args(app_state: AppState) -> list[str]:
    """The root options a job needs to see the same settings and store as this process."""
    args = [] if app_state.env_file is None else ["--env-file", str(app_state.env_file.absolute())]
    return [
        *args,
        "--home",
        str(app_state.settings.store.home.absolute()),
        "--log-format",
        app_state.log_format,
    ]


def cron(ctx: typer.Context) -> None:
    """Print the crontab line for this installation, ready for `crontab -e`.

    One line runs `pas tick` every five minutes; the tick runs each job at its New York
    time whatever the server's zone. Paths are absolute and quoted, since cron runs with
    neither this shell's environment nor its directory.

    Example: pas cron | crontab -
    """
    from pas.schedule import crontab

    app_state = state(ctx)
    env_file = None if app_state.env_file is None else str(app_state.env_file.absolute())
    home = str(app_state.settings.store.home.absolute())
    sys.stdout.write(crontab(pas_executable(), env_file, home))


def schedule(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Show each scheduled job and its next run, in New York and in this machine's time.

    Example: pas schedule
    """
    from pas.unattended.jobs import JOBS, next_slot

    now = state(ctx).store.clock()
    rows = [(job, next_slot(job, now)) for job in JOBS]
    if as_json:
        print_json(
            [
                {
                    "job": job.name,
                    "command": " ".join(job.args),
                    "new_york_time": job.at.strftime("%H:%M"),
                    "days": job.days.value,
                    "next_new_york": slot,
                    "next_local": slot.astimezone(),
                    "next_utc": slot.astimezone(UTC),
                }
                for job, slot in rows
            ]
        )
        return
    fmt = "%a %Y-%m-%d %H:%M %Z"
    table = [
        (job.name, " ".join(job.args), job.days.value, slot.strftime(fmt), slot.astimezone().strftime(fmt))
        for job, slot in rows
    ]
    print_table("Schedule", ["job", "command", "days", "next run (New York)", "next run (local)"], table)


def _signal(number: int) -> str:
    """``signal 9 (SIGKILL)``; the number alone for a signal Python does not name."""
    try:
        return f"signal {number} ({signal.Signals(number).name})"
    except ValueError:
        return f"signal {number}"


def _subprocess_runner(app_state: AppState) -> Callable[[Job], tuple[int, str]]:
    root = [pas_executable(), *_root_args(app_state)]

    def run(job: Job) -> tuple[int, str]:
        try:
            done = subprocess.run(
                [*root, *job.args], capture_output=True, text=True, timeout=JOB_TIMEOUT_SEC, check=False
            )
        except subprocess.TimeoutExpired:
            return 1, f"error: {' '.join(job.args)} ran longer than {JOB_TIMEOUT_SEC:.0f} s and was stopped"
        output = done.stdout + done.stderr
        if done.returncode < 0:  # ended by a signal (the OOM killer, kill -9): a failure, exit 1
            return (
                EXIT_FAILED,
                f"{output}error: {' '.join(job.args)} was killed by {_signal(-done.returncode)}\n",
            )
        return done.returncode, output

    return run


def _secrets(app_state: AppState) -> list[str | None]:
    """The values of the settings that must never leave the machine."""
    settings = app_state.settings
    return [
        settings.alpaca.api_key,
        settings.alpaca.api_secret,
        settings.quiver.api_key,
        settings.unattended.alert_webhook_url,
    ]


def _redacting(runner: Callable[[Job], tuple[int, str]], secrets: list[str | None]) -> Runner:
    """``runner`` with every secret taken out of the job's output before the tick keeps any
    of it (run records, the run log, the printed lines, the alert)."""
    from pas.unattended.alerts import redact

    def run(job: Job) -> tuple[int, str]:
        code, output = runner(job)
        return code, redact(output, secrets)

    return run


def _post(app_state: AppState, text: str) -> None:
    """Posts an alert to ALERT_WEBHOOK_URL when it is set; an undelivered one is one more
    printed line."""
    from pas.unattended import alerts

    url = app_state.settings.unattended.alert_webhook_url
    if url is None:
        return
    import requests

    try:
        with requests.Session() as session:
            alerts.send(session, url, text, _secrets(app_state))
    except PasError as exc:
        err_console().print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)


def _post_tick_failure(app_state: AppState, exc: PasError) -> None:
    """A tick that stopped before running any job (its store cannot be opened) posts that
    too: its error line reaches MAILTO only, and a webhook-only installation would run
    nothing, silently, until someone looked."""
    from pas.clock import system_clock
    from pas.unattended.alerts import tick_failed

    at = (app_state.clock or system_clock)()
    _post(app_state, tick_failed(app_state.host, at, f"error: {exc}"))


def _report_abandoned(app_state: AppState, runs: Sequence[Run]) -> None:
    """Prints (for MAILTO) and posts the one alert of the runs this tick found abandoned."""
    from pas.unattended import alerts

    text = alerts.abandoned(app_state.host, runs)
    err_console().print(
        alerts.redact(text, _secrets(app_state)), markup=False, highlight=False, soft_wrap=True
    )
    _post(app_state, text)


def _report_failure(app_state: AppState, result: JobResult) -> None:
    """Prints a failed job's output (cron mails it) and posts the alert to the webhook."""
    from pas.unattended import alerts

    secrets = _secrets(app_state)
    text = alerts.message(result, app_state.host)
    out = err_console()
    out.print(alerts.redact(result.output.rstrip(), secrets), markup=False, highlight=False, soft_wrap=True)
    out.print(alerts.redact(text, secrets), markup=False, highlight=False, soft_wrap=True)
    _post(app_state, text)


def tick(ctx: typer.Context) -> None:
    """Run the scheduled jobs that are due now in New York time; cron calls it every 5 minutes.

    Each job runs at most once per slot (the run records say which ran); a slot missed
    while the machine was off runs at the next tick of the same New York day, and so does
    one whose job was locked out by another run (once, quietly). Silent unless
    a job fails: then its output and one alert line are printed (cron mails them to
    MAILTO) and posted to ALERT_WEBHOOK_URL when set. Exits with the first failed job's code.

    Example: pas tick
    """
    from pas.runs import pid_alive
    from pas.unattended.tick import run_tick, settle_abandoned

    app_state = state(ctx)
    runner = _redacting(app_state.job_runner or _subprocess_runner(app_state), _secrets(app_state))
    try:
        store = app_state.store
        results = run_tick(store, store.clock(), runner, host=app_state.host)
        abandoned = settle_abandoned(store, app_state.host, pid_alive)
    except PasError as exc:
        _post_tick_failure(app_state, exc)
        raise
    failed = [r for r in results if r.exit_code != EXIT_OK and not r.retry]
    for result in failed:
        _report_failure(app_state, result)
    if abandoned:
        _report_abandoned(app_state, abandoned)
    if failed or abandoned:
        raise typer.Exit(failed[0].exit_code if failed else EXIT_FAILED)
