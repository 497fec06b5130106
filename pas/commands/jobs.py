"""``pas jobs``: recent runs of state-changing commands."""

from __future__ import annotations

from typing import Annotated

import typer

from pas.commands._app import JsonOption, print_json, print_table, state

DEFAULT_LIMIT = 20


def jobs(
    ctx: typer.Context,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, help="How many runs to show.")
    ] = DEFAULT_LIMIT,
    as_json: JsonOption = False,
) -> None:
    """List recent runs: command, start, duration, status and error.

    A run still recorded as running whose process (pid on this host) is gone is shown as
    abandoned: it was killed (kill -9, out of memory, a reboot) before it could record its end.

    Example: pas jobs --limit 5
    """
    from pas.runs import shown_status

    app_state = state(ctx)
    runs = app_state.store.recent_runs(limit)
    host = app_state.host
    if as_json:
        print_json(
            [
                {
                    "run_id": r.run_id,
                    "command": r.command,
                    "started_at": r.started_at,
                    "ended_at": r.ended_at,
                    "seconds": r.seconds,
                    "status": shown_status(r, host),
                    "error": r.error,
                    "details": r.details,
                }
                for r in runs
            ]
        )
        return
    rows = [
        (
            r.run_id,
            r.command,
            r.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            "" if r.seconds is None else f"{r.seconds:.2f}",
            shown_status(r, host),
            r.error,
        )
        for r in runs
    ]
    print_table(
        "Recent runs (UTC)",
        ["run", "command", "started", "seconds", "status", "error"],
        rows,
        right=["seconds"],
    )
