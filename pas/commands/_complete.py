"""Shell completion of the names pas knows: portfolio ids, dataset names, strategy names
and kept backtest runs' ids.

Completion is attached by parameter name in one place (the root group calls
:func:`attach`), so every command that takes a portfolio id completes it the same way.
A store that cannot be opened completes nothing: completion never prints an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import typer

from pas.commands._app import state

Completer = Callable[[Any, Any, str], list[str]]


def _starting(names: Iterable[str], incomplete: str) -> list[str]:
    return sorted(n for n in names if n.startswith(incomplete))


def portfolio_ids(ctx: typer.Context, _param: Any, incomplete: str) -> list[str]:
    """The ids that start with ``incomplete`` of the portfolios in the store the command
    reads: the live one, or under ``pas report --backtest``/``--run`` a kept run's (a run's
    id first, when ``--backtest`` has not named one yet)."""
    from pas.errors import PasError

    try:
        if ctx.params.get("backtest") or ctx.params.get("run"):
            return _in_kept_run(ctx, incomplete)
        return _starting((p.id for p in state(ctx).store.list_portfolios()), incomplete)
    except PasError:
        return []
    finally:
        state(ctx).close()


def _in_kept_run(ctx: typer.Context, incomplete: str) -> list[str]:
    from pas.store import backtest_runs, open_backtest_store

    settings = state(ctx).settings.store
    kept = backtest_runs(settings)
    named = list(ctx.params.get("portfolio_ids") or [])
    run = ctx.params.get("run") or (named[0] if named and named[0] in kept else None)
    if run is None:
        return _starting(kept, incomplete)
    if run not in kept:
        return []
    with open_backtest_store(settings, run) as store:
        return _starting((p.id for p in store.list_portfolios()), incomplete)


def run_ids(ctx: typer.Context, _param: Any, incomplete: str) -> list[str]:
    """The kept backtest runs' ids (``pas backtest list``) that start with ``incomplete``."""
    from pas.errors import PasError
    from pas.store import backtest_runs

    try:
        return _starting(backtest_runs(state(ctx).settings.store), incomplete)
    except PasError:
        return []


def dataset_names(_ctx: typer.Context, _param: Any, incomplete: str) -> list[str]:
    """The Quiver datasets (and ``all``)."""
    from pas.scrapers import DATASETS

    return _starting([*DATASETS, "all"], incomplete)


def strategy_names(_ctx: typer.Context, _param: Any, incomplete: str) -> list[str]:
    """The built-in strategies and ``manual``."""
    from pas.strategies import BUILTIN, MANUAL

    return _starting([*BUILTIN, MANUAL], incomplete)


# Parameter names, as the command modules spell them, and what completes them.
BY_PARAMETER: dict[str, Completer] = {
    "portfolio_id": portfolio_ids,
    "portfolio_ids": portfolio_ids,
    "portfolio": portfolio_ids,
    "dataset": dataset_names,
    "strategy": strategy_names,
    "run": run_ids,
    "run_id": run_ids,
    "other_run_id": run_ids,
    "run_ids": run_ids,
}


def attach(command: Any) -> None:
    """Gives every parameter named in :data:`BY_PARAMETER`, in the whole tree, its completer."""
    for param in getattr(command, "params", []):
        completer = BY_PARAMETER.get(param.name or "")
        if completer is not None and param._custom_shell_complete is None:
            param._custom_shell_complete = completer
    for child in (getattr(command, "commands", None) or {}).values():
        attach(child)
