"""``pas config``: the effective settings, secrets masked."""

from __future__ import annotations

import typer

from pas.commands._app import JsonOption, print_json, print_table, say, state


def show_config(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Show the effective settings and where each came from (secrets masked).

    Example: pas config --json
    """
    settings = state(ctx).settings
    rows = settings.describe()
    store = "mongodb" if settings.store.mongo_uri else f"sqlite {settings.store.sqlite_path}"
    if as_json:
        print_json({"store": store, "settings": {name: {"value": v, "source": s} for name, v, s in rows}})
        return
    print_table("Settings", ["variable", "value", "source"], rows)
    say(f"store: {store}")
