"""``pas doctor``: checks of the whole installation, each with the fix when it fails.

Every check is a small function of what it inspects (settings, store, broker, crontab
text, file modes), all passed in, so each is tested on its own. A check that cannot run
because an earlier one failed (no store, no keys) fails too, naming what to fix first:
when pas cannot tell, it says so instead of passing.
"""

from __future__ import annotations

import shlex
import stat
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import takewhile
from pathlib import Path

from pas.freshness import is_stale
from pas.models import RunStatus
from pas.runs import shown_status
from pas.schedule import MARKET_TZ
from pas.scrapers.client import QuiverAuthError, QuiverEntitlementError
from pas.scrapers.probe import Probe
from pas.store.base import Store
from pas.unattended.jobs import JOBS
from pas.unattended.tick import RUN_SCAN, TICK_PREFIX

KEY_FIX = "check QUIVER_API_KEY (and QUIVER_AUTH_SCHEME: Token or Bearer)"
QUIVER_DOWN_FIX = "try again later; check QUIVER_BASE_URL"
MIN_FREE_BYTES = 500_000_000
"""Free disk space below this (about a year of runs, records and closes) fails the check."""


@dataclass(frozen=True)
class Check:
    """One line of the doctor's table.

    Attributes:
        name: what was checked.
        ok: whether it passed.
        detail: what was found.
        fix: how to fix it (empty when it passed).
    """

    name: str
    ok: bool
    detail: str
    fix: str = ""


def passed(name: str, detail: str) -> Check:
    """A passing check."""
    return Check(name, True, detail)


def failed(name: str, detail: str, fix: str) -> Check:
    """A failing check with its fix."""
    return Check(name, False, detail, fix)


def check_schema(versions: tuple[int | None, int] | None) -> Check:
    """The store's schema version against this pas's, read before the store is opened
    (opening migrates an older one).

    Args:
        versions: ``(stored, current)`` (``stored`` None: no store yet), or None for a
            backend that keeps no version (MongoDB).
    """
    name = "store schema"
    if versions is None:
        return passed(name, "MongoDB keeps no schema version: pas applies its indexes at every open")
    stored, current = versions
    if stored is None:
        return passed(name, f"no store yet: pas creates it at schema {current}")
    if stored > current:
        return failed(
            name,
            f"schema {stored}, newer than this pas's {current}: a newer pas wrote it",
            "upgrade pas to the version that wrote the store (this one cannot read it)",
        )
    if stored < current:
        return passed(
            name,
            f"schema {stored}, older than this pas's {current}: pas migrates it in place when it "
            "opens the store (the checks below open it); back up the store before upgrading",
        )
    return passed(name, f"schema {current}, current")


def check_disk(free_bytes: int) -> Check:
    """Enough free space under ``PAS_HOME`` for the store and the log."""
    detail = f"{free_bytes / 1e9:.1f} GB free"
    if free_bytes < MIN_FREE_BYTES:
        return failed("disk space", detail, f"free at least {MIN_FREE_BYTES / 1e9:.1f} GB under PAS_HOME")
    return passed("disk space", detail)


def check_env_file(path: Path | None) -> Check:
    """The settings file, which holds the keys, is readable by its owner only."""
    if path is None:
        return passed("settings file permissions", "no settings file (settings come from the environment)")
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return failed(
            "settings file permissions",
            f"{path} is mode {stat.filemode(mode)}: other users can read its keys",
            f"chmod 600 '{path}'",
        )
    return passed("settings file permissions", f"{path} is mode {stat.filemode(mode)}")


def check_crontab(crontab: str | None) -> Check:
    """This user's crontab runs ``pas ... tick``.

    Args:
        crontab: the output of ``crontab -l``, or None when the user has none (or there is no
            ``crontab`` command).
    """
    if crontab is None:
        return failed("schedule installed", "no crontab for this user", "pas cron | crontab -")
    ticks = [line.strip() for line in crontab.splitlines() if _runs_tick(line.strip())]
    if not ticks:
        return failed("schedule installed", "the crontab has no `pas tick` line", "pas cron | crontab -")
    if len(ticks) > 1:
        return failed("schedule installed", f"{len(ticks)} `pas tick` lines", "keep one: crontab -e")
    return passed("schedule installed", ticks[0])


def _runs_tick(line: str) -> bool:
    """Whether a crontab line runs ``pas ... tick``: its command (after the five time fields,
    or one ``@daily``-style field) has a word naming ``pas`` followed by the word ``tick``,
    before any redirection or ``#`` comment."""
    if not line or line.startswith("#"):
        return False
    fields = line.split(None, 1 if line.startswith("@") else 5)
    if len(fields) < (2 if line.startswith("@") else 6):
        return False  # a variable (MAILTO=...) or not a job
    try:
        words = shlex.split(fields[-1], comments=True)
    except ValueError:
        return False
    words = list(takewhile(lambda word: not word.startswith((">", "<", "|", ";", "&", "2>", "1>")), words))
    pas = [i for i, word in enumerate(words) if Path(word).name == "pas"]
    return bool(pas) and "tick" in words[pas[0] + 1 :]


def check_jobs(store: Store, host: str, alive: Callable[[int], bool]) -> list[Check]:
    """The last run of each scheduled job and its outcome (a job that never ran passes:
    a fresh installation has not reached its first slot)."""
    last: dict[str, tuple[datetime, str, str]] = {}
    for run in store.recent_runs(RUN_SCAN):
        name = run.command.removeprefix(TICK_PREFIX)
        if run.command.startswith(TICK_PREFIX) and name not in last:
            last[name] = (run.started_at, shown_status(run, host, alive), run.error)
    checks = []
    for job in JOBS:
        what = f"last {job.name}"
        if job.name not in last:
            checks.append(passed(what, "not run yet"))
            continue
        at, status, error = last[job.name]
        detail = f"{at:%Y-%m-%d %H:%M} UTC {status}" + (f": {error}" if error else "")
        if status in (RunStatus.OK.value, RunStatus.RUNNING.value):
            checks.append(passed(what, detail))
        else:
            checks.append(failed(what, detail, f"see `pas jobs`; run `pas {' '.join(job.args)}` by hand"))
    return checks


def check_breaker(store: Store) -> Check:
    """The circuit breaker is not tripped."""
    state = store.breaker_state()
    if state.tripped:
        return failed(
            "circuit breaker", f"tripped: {state.reason}", "pas risk reset (once the cause is understood)"
        )
    return passed("circuit breaker", "not tripped")


def check_plan(needed: Mapping[str, Sequence[str]], unloadable: Mapping[str, str]) -> list[Check]:
    """The datasets the portfolios' strategies read, and any strategy that cannot be loaded.

    Args:
        needed: for each dataset, the portfolios whose strategy reads it.
        unloadable: for each portfolio whose strategy cannot be loaded, why.
    """
    if needed:
        detail = "; ".join(f"{name} ({', '.join(ids)})" for name, ids in sorted(needed.items()))
    else:
        detail = "none: no portfolio has a strategy that reads a dataset"
    checks = [passed("datasets the plan needs", detail)]
    checks += [
        failed(
            f"strategy of {pid}", error, f"pas portfolio show {pid}; fix its strategy or install its module"
        )
        for pid, error in sorted(unloadable.items())
    ]
    return checks


def check_quiver(base_url: str, probes: Sequence[Probe], needed: Mapping[str, Sequence[str]]) -> list[Check]:
    """The Quiver key, asked live at ``base_url``, and each Quiver dataset the plan needs.

    Args:
        probes: what Quiver answered (:func:`pas.scrapers.probe.probe_datasets`); a key
            refused on the first stops the probes.
        needed: for each dataset, the portfolios whose strategy reads it.
    """
    refused = [p for p in probes if isinstance(p.error, QuiverAuthError)]
    if refused:
        return [failed("Quiver key", f"refused by {base_url}: {refused[0].error}", KEY_FIX)]
    answered = [p for p in probes if p.error is None or isinstance(p.error, QuiverEntitlementError)]
    if answered:
        key = passed("Quiver key", f"accepted by {base_url}")
    else:
        error = probes[0].error if probes else "nothing asked"
        key = failed("Quiver key", f"could not be checked at {base_url}: {error}", QUIVER_DOWN_FIX)
    checks = [key]
    for probe in probes:
        if probe.dataset not in needed:
            continue
        what, users = f"Quiver dataset {probe.dataset}", ", ".join(needed[probe.dataset])
        if probe.error is None:
            checks.append(passed(what, f"answered (read by {users})"))
        elif isinstance(probe.error, QuiverEntitlementError):
            checks.append(
                failed(
                    what,
                    f"not in your subscription plan (read by {users})",
                    f"upgrade the plan at quiverquant.com, or give {users} another strategy",
                )
            )
        else:
            checks.append(failed(what, f"{probe.error} (read by {users})", QUIVER_DOWN_FIX))
    return checks


def check_datasets(newest: Mapping[str, datetime | None], now: datetime, max_days: int) -> list[Check]:
    """The newest record public of each dataset is at most ``max_days`` old."""
    checks = []
    for name, at in newest.items():
        what = f"newest {name} record"
        if at is None:
            checks.append(failed(what, "none stored", f"pas scrape {name}"))
        elif (now - at).days > max_days:
            checks.append(failed(what, f"{at:%Y-%m-%d} ({(now - at).days} days old)", f"pas scrape {name}"))
        else:
            checks.append(passed(what, f"{at:%Y-%m-%d}"))
    return checks


def check_closes(store: Store, now: datetime, max_days: int) -> Check:
    """Every symbol a portfolio holds has a close that is not stale: at most ``max_days``
    (``PRICE_MAX_STALE_DAYS``) calendar days before today in New York, the rule of
    :mod:`pas.freshness` that ``pas rebalance``, ``pas metrics update`` and ``pas risk`` follow."""
    held = sorted({s for p in store.list_portfolios() for s, q in store.holdings(p.id).items() if q})
    if not held:
        return passed("newest closes of held symbols", "no positions")
    latest = store.latest_prices(held)
    today = now.astimezone(MARKET_TZ).date()
    old = [
        f"{s} ({latest[s].day})" if s in latest else f"{s} (none)"
        for s in held
        if s not in latest or is_stale(latest[s].day, today, max_days)
    ]
    if old:
        return failed(
            "newest closes of held symbols",
            f"stale: {', '.join(old[:10])}, more than PRICE_MAX_STALE_DAYS={max_days} days before {today}",
            "pas prices fetch",
        )
    newest = min(p.day for p in latest.values())
    return passed("newest closes of held symbols", f"{len(held)} symbols, oldest close {newest}")
