"""Kept backtest runs: what each one was, and two of them side by side.

Every backtest keeps its results in a namespace of its own
(:func:`pas.store.open_backtest_store`, named by the run's id), so runs are never
replaced: they are listed, shown, reported and compared until ``pas backtest rm``. The
namespace holds one run record (command ``backtest``) whose status is ``ok`` only when
every day was simulated and measured, and whose details say what the run was:

- ``parameters``: the :class:`~pas.backtest.BacktestSpec` (period asked, capital,
  benchmark, allocation method and bounds, costs, trading limits) and the portfolios
  (id → strategy and its parameters);
- ``code_version``: ``pas VERSION+src.HASH``, the first 12 hex digits of a SHA-256 over
  the source of the ``pas`` package (its ``.py`` files, by path), so two runs of the
  same code carry the same version whether or not it is a git checkout;
- ``data_cut``: the wall time (UTC) the run started at: it saw the datasets as the store
  knew them then (records keep their revisions with the time pas saw each), and
  ``last_close``, the newest stored close of the benchmark;
- ``first_day`` / ``last_day``: the trading days simulated; and when it finished, its
  counts (builds, allocations, trading runs, refusals, notes).

Money in the details is a decimal string, as in every JSON pas writes.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from pas import __version__
from pas.backtest import RUN_COMMAND, SUMMARY_STATS, BacktestSpec, Summary
from pas.errors import InputError, LockHeldError
from pas.models import Portfolio, RunStatus, format_ts, new_run_id
from pas.portfolio.trading.lock import lock_owner_name
from pas.runs import HOST_KEY, PID_KEY, shown_status
from pas.store.base import Store

HASH_DIGITS = 12  # of the source hash in the code version
CLAIM_LOCK = "backtest-run-id:"
"""The live store's lock that holds a new run's id while its namespace is made."""
# Far longer than making a namespace takes; a claim left by a killed process only keeps
# its one id, which no later second generates again.
CLAIM_TTL_SEC = 600.0
MAX_CLAIMS = 100
MISSING = "missing"
"""The status of a namespace without a run record (a run killed before it wrote one)."""


@cache
def code_version() -> str:
    """``pas VERSION+src.HASH``: the package version and a hash of its source files."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return f"pas {__version__}+src.{digest.hexdigest()[:HASH_DIGITS]}"


def run_details(
    spec: BacktestSpec, portfolios: Sequence[Portfolio], source: Store, ran_at: datetime
) -> dict[str, Any]:
    """The details a run record keeps (see the module docstring).

    Args:
        source: the store the backtest reads its datasets and closes from.
        ran_at: the wall time the run starts at (UTC).
    """
    newest = source.latest_prices([spec.benchmark]).get(spec.benchmark)
    return {
        "parameters": {
            **_plain(asdict(spec)),
            "portfolios": {
                p.id: {"strategy": p.strategy, "params": _plain(dict(p.params))}
                for p in sorted(portfolios, key=lambda p: p.id)
            },
        },
        "code_version": code_version(),
        "data_cut": format_ts(ran_at),
        "last_close": None if newest is None else newest.day.isoformat(),
    }


def _plain(value: Any) -> Any:
    """Decimals as decimal strings, days and times as ISO-8601, containers recursively."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)


@dataclass(frozen=True)
class KeptRun:
    """One kept backtest run, as its record tells.

    Attributes:
        run_id: its id, the name of its namespace.
        status: ``ok``, ``failed``, ``running``, ``abandoned`` (recorded as running, its
            process gone) or ``missing`` (no record).
        error: why it failed, when it did.
        details: its record's details (see the module docstring).
    """

    run_id: str
    status: str
    error: str
    details: Mapping[str, Any]

    @property
    def parameters(self) -> Mapping[str, Any]:
        """The spec and portfolios it ran with."""
        found = self.details.get("parameters")
        return found if isinstance(found, Mapping) else {}

    @property
    def portfolios(self) -> list[str]:
        """The ids of its portfolios, sorted."""
        return sorted(self.parameters.get("portfolios", {}))


def kept_run(store: Store, run_id: str, host: str) -> KeptRun:
    """The record of the backtest run kept in ``store`` (its namespace).

    Args:
        host: this host among those sharing one store (``PAS_HOST_ID``, or the host name),
            as the backtest recorded it: only a run of this host is probed and judged
            abandoned, as every other run record is (:func:`pas.runs.shown_status`).
    """
    runs = [r for r in store.recent_runs(limit=50) if r.command == RUN_COMMAND]
    if not runs:
        return KeptRun(run_id, MISSING, "", {})
    run = max(runs, key=lambda r: r.started_at)
    return KeptRun(run_id, shown_status(run, host), run.error, dict(run.details))


def check_removable(runs: Sequence[KeptRun]) -> None:
    """Refuses to delete a run that is still running: its process would go on writing
    into a namespace that no longer exists and then report the run as kept.

    A run recorded as running on another host cannot be probed from here, so it counts as
    running until it ends (or is removed with ``--force``); an ``abandoned`` one (its
    process gone) may be deleted.

    Raises:
        LockHeldError: one of ``runs`` is running.
    """
    for run in runs:
        if run.status == RunStatus.RUNNING.value:
            pid, host = run.details.get(PID_KEY), run.details.get(HOST_KEY)
            raise LockHeldError(
                f"backtest run {run.run_id} is still running (pid {pid} on {host}); wait for it "
                "to end or stop it, then remove it (--force removes it anyway)"
            )


@contextmanager
def claimed_run_id(
    live: Store, now: datetime, kept: Callable[[], Sequence[str]], *, owner: str | None = None
) -> Iterator[str]:
    """A new run's id (:func:`next_run_id`) that no other process takes, held while the
    caller makes its namespace.

    Two backtests started in the same second list the same kept runs and would take the
    same id, and the second's fresh namespace would wipe the first's while it ran. So the
    id is claimed as a lock in the live store (``CLAIM_LOCK`` + id), which both backends
    take atomically; a taken one, or one already kept, is passed over for the next. The
    claim is released when the body ends: by then the namespace exists and every later
    listing of ``kept`` shows it.

    Args:
        live: the live store (shared by every process that starts a backtest).
        kept: lists the kept runs' ids, oldest first (read again at each try).
        owner: who claims it, as in every lock (``PAS_HOST_ID`` and pid); default this
            process (host name and pid).

    Raises:
        LockHeldError: no free id after ``MAX_CLAIMS`` tries.
    """
    holder = owner or lock_owner_name()
    passed: set[str] = set()
    for _ in range(MAX_CLAIMS):
        known = sorted({*kept(), *passed})
        run_id = next_run_id(now, known)
        if run_id not in known and live.acquire_lock(CLAIM_LOCK + run_id, holder, CLAIM_TTL_SEC):
            try:
                yield run_id
            finally:
                live.release_lock(CLAIM_LOCK + run_id, holder)
            return
        passed.add(run_id)
    raise LockHeldError(f"no free backtest run id after {MAX_CLAIMS} tries; run `pas backtest` again")


def next_run_id(now: datetime, kept: Sequence[str]) -> str:
    """A new run's id (:func:`pas.models.new_run_id`: the UTC second plus 4 random hex
    digits) that sorts after the newest kept one when both start in the same second, so
    "oldest first" and "the newest run" follow the order the runs started in."""
    run_id = new_run_id(now)
    newest = kept[-1] if kept else ""
    if run_id <= newest and run_id[:12] == newest[:12] and newest[12:] < "ffff":
        return newest[:12] + f"{int(newest[12:], 16) + 1:04x}"
    return run_id


def resolve_run(wanted: str | None, kept: Sequence[str]) -> str:
    """The run a command names: ``wanted``, or the newest kept one when None.

    Raises:
        InputError: there is no kept run, or none named ``wanted``.
    """
    if not kept:
        raise InputError("no kept backtest run; run `pas backtest` first")
    if wanted is None:
        return kept[-1]
    if wanted not in kept:
        raise InputError(f"no backtest run {wanted!r}; see `pas backtest list`")
    return wanted


@dataclass(frozen=True)
class Compared:
    """One statistic of one book in two runs (NaN where a run lacks it).

    Attributes:
        statistic: its label (``annual return``); ``name`` is its snake_case name.
    """

    book: str
    statistic: str
    name: str
    first: float
    second: float

    @property
    def difference(self) -> float:
        """second − first (NaN when either is NaN)."""
        return self.second - self.first


def compare(first: Summary, second: Summary) -> list[Compared]:
    """The statistics of two runs side by side, book by book: the books of ``first`` in
    its order, then those only ``second`` has."""
    books = [*first.columns, *(c for c in second.columns if c not in first.columns)]
    return [
        Compared(book, label, name, _value(first, label, book), _value(second, label, book))
        for book in books
        for label, name, _ in SUMMARY_STATS
    ]


def _value(summary: Summary, label: str, book: str) -> float:
    return summary.values.get(label, {}).get(book, math.nan)
