"""Before/after figures of one benchmark, measured in the same run on the same machine.

A benchmark that supports ``--before DIR`` runs its own measuring part as a subprocess,
alternately with the ``pas`` package of DIR first on the Python path (the code before a
change, unpacked with ``git archive REF pas | tar -x -C DIR``) and with the installed
one, and takes the median of each figure: on a shared machine, alternating spreads the
other users' load over both sides alike. The measuring part prints one JSON object of
``{figure: seconds}`` as its last line of output.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
from collections.abc import Sequence
from pathlib import Path


def measure(
    command: Sequence[str], pythonpath: Path | None, env: dict[str, str] | None = None
) -> dict[str, float]:
    """One run of ``command``; its last output line as ``{figure: seconds}``."""
    run_env = dict(os.environ if env is None else env)
    if pythonpath is not None:
        run_env["PYTHONPATH"] = str(pythonpath)
    else:
        run_env.pop("PYTHONPATH", None)
    done = subprocess.run(command, env=run_env, check=True, capture_output=True, text=True)
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def alternate(
    command: Sequence[str],
    before: Path,
    rounds: int,
    env: dict[str, str] | None = None,
    extra: dict[str, list[str]] | None = None,
) -> tuple[dict[str, float], dict[str, float]]:
    """Median figures of ``rounds`` runs before and after, alternating which goes first;
    ``extra`` adds arguments of each side's own (``{"before": [...], "after": [...]}``)."""
    runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for n in range(rounds):
        order = ("before", "after") if n % 2 == 0 else ("after", "before")
        for side in order:
            args = [*command, *(extra or {}).get(side, [])]
            runs[side].append(measure(args, before if side == "before" else None, env))
    medians = {
        side: {name: statistics.median(run[name] for run in found) for name in found[0]}
        for side, found in runs.items()
    }
    return medians["before"], medians["after"]


def print_ratios(before: dict[str, float], after: dict[str, float], unit: str = "ms") -> None:
    """A table of each figure before and after and their ratio (before ÷ after)."""
    scale = 1e3 if unit == "ms" else 1.0
    print(f"{'figure':<34}{'before ' + unit:>12}{'after ' + unit:>12}{'before/after':>14}")
    for name, old in before.items():
        new = after[name]
        ratio = old / new if new > 0 else float("inf")
        print(f"{name:<34}{old * scale:>12.2f}{new * scale:>12.2f}{ratio:>13.2f}×")
