"""``pas doctor``: check the whole installation; a table of checks with a fix for each failure."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import typer

from pas.commands._app import AppState, JsonOption, print_json, print_table, state
from pas.errors import EXIT_FAILED, PasError

if TYPE_CHECKING:
    from pas.unattended.doctor import Check

CRONTAB_TIMEOUT_SEC = 10.0


def _crontab() -> str | None:
    """This user's crontab (``crontab -l``), or None when there is none."""
    if shutil.which("crontab") is None:
        return None
    done = subprocess.run(
        ["crontab", "-l"], capture_output=True, text=True, timeout=CRONTAB_TIMEOUT_SEC, check=False
    )
    return done.stdout if done.returncode == 0 else None


def _broker_check(app_state: AppState) -> Check:
    from pas.unattended.doctor import failed, passed

    alpaca = app_state.settings.alpaca
    if not alpaca.api_key or not alpaca.api_secret:
        return passed("broker", "no Alpaca keys: pas trades on the simulated broker only (--broker sim)")
    from pas.portfolio.broker.alpaca_settings import alpaca_from_settings, is_live_url

    mode = "LIVE" if is_live_url(alpaca.base_url) else "paper"  # the live-trading guard's own rule

    try:
        account = alpaca_from_settings(alpaca).account()
    except PasError as exc:
        return failed(
            "broker", f"Alpaca ({mode}): {exc}", "check ALPACA_API_KEY, ALPACA_API_SECRET, ALPACA_BASE_URL"
        )
    if account.blocked:
        return failed(
            "broker", f"Alpaca ({mode}): the account is blocked", "see the account in Alpaca's dashboard"
        )
    return passed("broker", f"Alpaca ({mode}): account active, equity {account.equity:,.2f}")


def _checks(app_state: AppState) -> list[Check]:
    from pas.runs import pid_alive
    from pas.store import schema_versions
    from pas.unattended import doctor

    try:
        settings = app_state.settings
    except PasError as exc:
        return [doctor.failed("settings", str(exc), "correct the setting named above")]
    checks = [doctor.passed("settings", "parsed and valid")]
    try:
        checks.append(doctor.check_schema(schema_versions(settings.store)))
    except PasError as exc:
        return [*checks, doctor.failed("store schema", str(exc), "check PAS_HOME")]
    if not checks[-1].ok:
        return checks  # opening a store a newer pas wrote fails; nothing more can be checked
    try:
        store = app_state.store
    except PasError as exc:
        return [*checks, doctor.failed("store", str(exc), "check PAS_HOME or MONGO_URI")]
    checks.append(doctor.passed("store", store.describe()))
    checks.append(doctor.check_disk(shutil.disk_usage(settings.store.home).free))
    checks.append(_broker_check(app_state))
    checks += _data_checks(app_state)
    checks.append(doctor.check_breaker(store))
    checks.append(doctor.check_crontab(_crontab()))
    checks += doctor.check_jobs(store, app_state.host, pid_alive)
    checks.append(doctor.check_env_file(app_state.env_file))
    return checks


def _data_checks(app_state: AppState) -> list[Check]:
    """The plan's datasets, the Quiver key asked live, each dataset's newest record and the
    newest closes of held symbols."""
    from pas.strategies import datasets_read
    from pas.unattended import doctor

    settings, store = app_state.settings, app_state.store
    needed, unloadable = datasets_read(store.list_portfolios())
    checks = doctor.check_plan(needed, unloadable)
    checks += _quiver_checks(app_state, needed)
    newest = {name: store.latest_public_at(name) for name in sorted(needed)}
    checks += doctor.check_datasets(newest, store.clock(), settings.data.build_max_stale_days)
    checks.append(doctor.check_closes(store, store.clock(), settings.data.price_max_stale_days))
    return checks


def _quiver_checks(app_state: AppState, needed: Mapping[str, Sequence[str]]) -> list[Check]:
    """The key asked live at QUIVER_BASE_URL with one small request per Quiver dataset the
    plan needs (one dataset when the plan needs none: the daily scrape still uses the key)."""
    from pas.commands._wiring import quiver_client
    from pas.scrapers.probe import PROBES, probe_datasets
    from pas.unattended import doctor

    settings = app_state.settings
    if not settings.quiver.api_key:
        return [
            doctor.failed(
                "Quiver key", "QUIVER_API_KEY is not set", "set QUIVER_API_KEY in the settings file"
            )
        ]
    from_quiver = [
        n for n in sorted(needed) if n in PROBES and not (n == "wiki" and settings.wiki.source != "quiver")
    ]
    probes = probe_datasets(quiver_client(app_state, refresh=True), from_quiver or [next(iter(PROBES))])
    return doctor.check_quiver(settings.quiver.base_url, probes, needed)


def doctor(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Check the installation: settings, store, disk, broker, data, breaker, schedule, file modes.

    Exits 0 when every check passes, 1 when any fails; each failure names its fix. The
    Quiver key is asked live, once per Quiver dataset the portfolios' strategies read.

    Example: pas doctor
    """
    checks = _checks(state(ctx))
    if as_json:
        print_json([{"check": c.name, "ok": c.ok, "detail": c.detail, "fix": c.fix} for c in checks])
    else:
        rows = [(c.name, "ok" if c.ok else "FAIL", c.detail, c.fix) for c in checks]
        print_table("pas doctor", ["check", "result", "found", "fix"], rows)
    if not all(c.ok for c in checks):
        raise typer.Exit(EXIT_FAILED)
