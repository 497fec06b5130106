"""Issues 2 and 18 benchmark: CLI start-up, and `pas positions` on a 1,000,000-fill ledger.

Builds a ledger of 1,000,000 fills over 20 portfolios and 500 symbols in the embedded
store (through the library's own append_fills), then times, as separate processes, a
bare Typer app with Rich help (the floor any Typer CLI pays), `pas --help`, `pas
positions <one portfolio>` (a 500-row table) with its output captured and on a terminal
(a pseudo-terminal the benchmark reads), its `--json`, `pas jobs` and `pas config`. Each
figure is the median of ``--repeat`` runs after a warm-up, in wall seconds. Goal (issue
18): `pas positions` at most 1.5× `pas --help`, as a whole process, on a terminal too.

``--before DIR`` also times every command with the ``pas`` package of DIR first on the
Python path (the code before a change: ``git archive REF pas | tar -x -C DIR``) on its
own copy of the ledger (``--before-db``, a database of that code's schema), alternating
the two sides run by run, and prints the medians and their ratio.

Usage: python benchmarks/cli_startup_bench.py [--fills N] [--repeat R] [--home DIR]
       [--before DIR --before-db FILE]
"""

from __future__ import annotations

import argparse
import os
import pty
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from _before_after import print_ratios

from pas.models import Fill, Portfolio, Price, Schedule, Side
from pas.store.base import Store
from pas.store.sqlite import SqliteStore

PORTFOLIOS = 20
SYMBOLS = 500
BATCH = 50_000
GOAL_POSITIONS_OVER_HELP = 1.5
# `python -c` puts the working directory first on the path: run from one without a `pas`,
# so that --before's PYTHONPATH picks the code the commands run.
NEUTRAL_DIR = tempfile.gettempdir()
TERMINAL = "<on a terminal>"  # the last word of a command run with stdout on a pseudo-terminal
BARE_APP = '''
import typer

app = typer.Typer(rich_markup_mode="rich", help="A bare app.")


@app.command()
def hello(name: str, count: int = 1) -> None:
    """Say hello [bold]NAME[/bold] COUNT times."""


@app.command()
def bye() -> None:
    """Say goodbye."""


app()
'''


def build_ledger(store: Store, n_fills: int) -> None:
    """Writes the benchmark's portfolios, ``n_fills`` fills and one close per symbol to ``store``."""
    rng = random.Random(42)
    start = datetime(2021, 1, 4, 14, 30, tzinfo=UTC)
    symbols = [f"S{i:03d}" for i in range(SYMBOLS)]
    for p in range(PORTFOLIOS):
        store.add_portfolio(Portfolio(f"p{p:02d}", "manual", Schedule.DAILY, start, Decimal(1_000_000)))
    held: dict[tuple[int, str], int] = {}
    batch: list[Fill] = []
    for n in range(n_fills):
        p = n % PORTFOLIOS
        symbol = rng.choice(symbols)
        qty = rng.randint(1, 100)
        side = Side.BUY
        if rng.random() < 0.3 and held.get((p, symbol), 0) >= qty:
            side = Side.SELL
        held[(p, symbol)] = held.get((p, symbol), 0) + (qty if side is Side.BUY else -qty)
        batch.append(
            Fill(
                portfolio=f"p{p:02d}",
                symbol=symbol,
                side=side,
                qty=Decimal(qty),
                price=Decimal(rng.randint(1000, 50000)) / 100,
                ts=start + timedelta(seconds=n * 7),
                fill_id=f"bench-{n}",
                commission=Decimal("0.01"),
            )
        )
        if len(batch) == BATCH:
            store.append_fills(batch)
            batch.clear()
    if batch:
        store.append_fills(batch)
    store.upsert_prices(Price(s, date(2026, 1, 2), Decimal(rng.randint(1000, 50000)) / 100) for s in symbols)


def run_once(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one run of a command; a command ending in
    TERMINAL is run with its stdout on a pseudo-terminal. CPU time is the steadier figure
    on a machine others load."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    if cmd[-1] == TERMINAL:
        wall = run_on_terminal(cmd[:-1], env)
    else:
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, capture_output=True, cwd=NEUTRAL_DIR)
        wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def run_on_terminal(cmd: list[str], env: dict[str, str]) -> float:
    """Wall time of one run with stdout on a pseudo-terminal, read until the command closes it."""
    master, slave = pty.openpty()
    t0 = time.perf_counter()
    process = subprocess.Popen(
        cmd, env=env, stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.DEVNULL, cwd=NEUTRAL_DIR
    )
    os.close(slave)
    while True:
        try:
            if not os.read(master, 65536):
                break
        except OSError:  # EIO: the command closed the terminal
            break
    if process.wait() != 0:
        raise subprocess.CalledProcessError(process.returncode, cmd)
    elapsed = time.perf_counter() - t0
    os.close(master)
    return elapsed


def commands(bare: Path) -> dict[str, list[str]]:
    """The commands timed, by name (pas through the interpreter, so PYTHONPATH picks it)."""
    pas = [sys.executable, "-c", "from pas.cli import main; main()"]
    return {
        "bare Typer app --help (floor)": [sys.executable, str(bare), "--help"],
        "pas --help": [*pas, "--help"],
        "pas positions p07": [*pas, "positions", "p07"],
        "pas positions p07 (terminal)": [*pas, "positions", "p07", TERMINAL],
        "pas positions p07 --json": [*pas, "positions", "p07", "--json"],
        "pas jobs": [*pas, "jobs"],
        "pas config": [*pas, "config"],
    }


def environment(home: Path, pythonpath: Path | None) -> dict[str, str]:
    """The environment of one side: its store, and its pas first on the path if given."""
    env = {**os.environ, "PAS_HOME": str(home), "COLUMNS": "200"}
    env.pop("PYTHONPATH", None)
    # Each side's bytecode is written at the warm-up and read after, as an installed pas
    # does: with PYTHONDONTWRITEBYTECODE set, a --before tree from `git archive` (no .pyc)
    # and every edited module would be compiled again on every run.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return env


def timed(
    sides: dict[str, dict[str, str]], cmds: dict[str, list[str]], repeat: int
) -> dict[str, dict[str, tuple[float, float]]]:
    """Median wall and CPU seconds per side and command; the sides alternate run by run,
    after a warm-up."""
    runs: dict[str, dict[str, list[tuple[float, float]]]] = {side: {n: [] for n in cmds} for side in sides}
    order = list(sides)
    for env in sides.values():
        for cmd in cmds.values():
            run_once(cmd, env)
    for n in range(repeat):
        for side in order if n % 2 == 0 else order[::-1]:
            for name, cmd in cmds.items():
                runs[side][name].append(run_once(cmd, sides[side]))
    return {
        side: {
            name: (statistics.median(w for w, _ in t), statistics.median(c for _, c in t))
            for name, t in found.items()
        }
        for side, found in runs.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fills", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--home", type=Path, default=None, help="reuse a ledger built earlier")
    parser.add_argument("--before", type=Path, help="also time the pas package of DIR")
    parser.add_argument("--before-db", type=Path, help="the ledger for --before, in its schema")
    args = parser.parse_args()

    home = args.home or Path(tempfile.mkdtemp(prefix="pas-bench-"))
    if not (home / "pas.db").exists():
        t0 = time.perf_counter()
        with SqliteStore(home / "pas.db") as store:
            build_ledger(store, args.fills)
        build = time.perf_counter() - t0
        print(
            f"built ledger: {args.fills:,} fills, {PORTFOLIOS} portfolios, {SYMBOLS} symbols in {build:.1f} s"
        )
        print(f"  ({args.fills / build:,.0f} fills/s through append_fills; database in {home})")
    work = Path(tempfile.mkdtemp(prefix="pas-bench-startup-"))
    bare = work / "bare_app.py"
    bare.write_text(BARE_APP)
    sides = {"after": environment(home, None)}
    if args.before is not None:
        if args.before_db is None:
            parser.error("--before needs --before-db, a ledger in the schema of that code")
        (work / "before").mkdir()
        shutil.copy(args.before_db, work / "before" / "pas.db")
        sides["before"] = environment(work / "before", args.before)
    cmds = commands(bare)
    medians = timed(sides, cmds, args.repeat)
    after = medians["after"]
    (floor, floor_cpu), (help_time, help_cpu) = after["bare Typer app --help (floor)"], after["pas --help"]
    print(f"median of {args.repeat} runs each; wall seconds and CPU seconds, and their ratios")
    print(
        f"{'command':32} {'wall s':>7} {'CPU s':>6} {'× bare (wall/CPU)':>18} {'× pas --help (wall/CPU)':>24}"
    )
    for name, (wall, cpu) in after.items():
        bare_ratio = f"{wall / floor:.2f} / {cpu / floor_cpu:.2f}"
        help_ratio = f"{wall / help_time:.2f} / {cpu / help_cpu:.2f}"
        print(f"{name:32} {wall:7.3f} {cpu:6.3f} {bare_ratio:>18} {help_ratio:>24}")
    for name in ("pas positions p07", "pas positions p07 (terminal)"):
        ratio, cpu_ratio = after[name][0] / help_time, after[name][1] / help_cpu
        met = "met" if ratio <= GOAL_POSITIONS_OVER_HELP else "MISSED"
        goal = f"(goal ≤ {GOAL_POSITIONS_OVER_HELP})"
        print(f"goal {met}: {name} = {ratio:.2f}× pas --help wall, {cpu_ratio:.2f}× CPU {goal}")
    if "before" in medians:
        print(f"\nbefore ({args.before}) and after, medians of {args.repeat} alternating runs:")
        for figure, index in (("wall", 0), ("CPU", 1)):
            print(f"{figure} seconds:")
            of = {side: {name: pair[index] for name, pair in got.items()} for side, got in medians.items()}
            print_ratios(of["before"], of["after"], unit="s")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
