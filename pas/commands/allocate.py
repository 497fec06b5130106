"""``pas allocate``: size the portfolios as fractions of the account; apply; show history."""

from __future__ import annotations

import math
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pas.commands._app import JsonOption, as_of_day, percent, print_json, print_table, say, state
from pas.errors import InputError

if TYPE_CHECKING:
    from pas.allocation import Proposal
    from pas.models import AppliedAllocation


class Method(StrEnum):
    """Allocation methods (see pas/allocation.py)."""

    SCORE = "score"
    INVERSE_VOL = "inverse_vol"
    RISK_PARITY = "risk_parity"
    EQUAL = "equal"


def _ratio(value: float | None) -> str:
    return "" if value is None or math.isnan(value) else f"{value:.2f}"


def _pct(value: float | None) -> str:
    return "" if value is None or math.isnan(value) else percent(value, 1)


def allocate(
    ctx: typer.Context,
    method: Annotated[
        Method | None,
        typer.Option(
            "--method", help="score, inverse_vol, risk_parity or equal (default ALLOCATION_METHOD)."
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Use the data up to this day (YYYY-MM-DD; default today), and compare with the "
            "allocation in effect on it.",
        ),
    ] = None,
    apply: Annotated[
        bool, typer.Option("--apply", help="Store the allocation: `pas rebalance` sizes capital from it.")
    ] = False,
    history: Annotated[bool, typer.Option("--history", help="Show the allocations applied before.")] = False,
    limit: Annotated[int, typer.Option(min=1, help="How many past allocations --history shows.")] = 20,
    as_json: JsonOption = False,
) -> None:
    """Size the portfolios as fractions of the account from their trailing statistics.

    Shows each portfolio's key statistics, relative weight, final allocation (weight ×
    exposure) and the change from the current one: the allocation in effect on the as-of
    day (the newest applied as of that day or earlier). --apply stores it; the next
    `pas rebalance` sizes each portfolio's capital as account equity × its allocation.

    Example: pas allocate --method risk_parity --apply
    """
    app_state = state(ctx)
    store = app_state.store
    if history:
        if apply or method is not None or as_of is not None:
            raise InputError("--history shows past allocations; drop --apply, --method and --as-of")
        _show_history(store.allocation_history(limit), as_json)
        return

    from pas.allocation import allocate as run_allocate
    from pas.models import AppliedAllocation
    from pas.schedule import market_day

    settings = app_state.settings
    portfolios = [p.id for p in store.list_portfolios()]
    if not portfolios:
        raise InputError("no portfolio to allocate to; add one with `pas portfolio add ID`")
    day = as_of_day(as_of) or market_day(store.clock())
    chosen = method.value if method is not None else settings.allocation.method
    bounds = settings.allocation.bounds()
    proposal = run_allocate(store, portfolios, day, method=chosen, **bounds)
    current = store.latest_allocation(day)  # in effect on the as-of day, not applied since
    if apply:
        a = proposal.allocation
        with app_state.run("allocate", method=chosen, as_of=day.isoformat()):
            store.put_allocation(
                AppliedAllocation(day, store.clock(), chosen, a.weights, a.exposure, a.ex_ante_vol)
            )
    _show(proposal, current, bounds["target_vol"], apply, as_json)


def _show(
    proposal: Proposal,
    current: AppliedAllocation | None,
    target_vol: float | None,
    applied: bool,
    as_json: bool,
) -> None:
    before = {}
    if current is not None:
        before = {p: w * current.exposure for p, w in current.weights.items()}
    if as_json:
        print_json(_json(proposal, before, target_vol, applied))
        return
    _table(proposal, before)
    a = proposal.allocation
    for note in a.notes:
        say(f"note: {note}")
    vol = "unknown" if a.ex_ante_vol is None else percent(a.ex_ante_vol, 1)
    target = f" (TARGET_VOL {percent(target_vol, 1)})" if target_vol is not None else ""
    cash = percent(1 - a.exposure, 1)
    say(f"exposure {percent(a.exposure, 1)}, cash {cash}; ex-ante volatility {vol}{target}")
    if applied:
        say("applied: `pas rebalance` now sizes each portfolio as account equity × its allocation")
    else:
        say("not applied; run again with --apply to use it")


def _json(
    proposal: Proposal, before: dict[str, float], target_vol: float | None, applied: bool
) -> dict[str, Any]:
    a = proposal.allocation
    final = a.final()
    return {
        "as_of": proposal.as_of,
        "method": a.method,
        "applied": applied,
        "exposure": a.exposure,
        "cash": 1.0 - a.exposure,
        "ex_ante_vol": a.ex_ante_vol,
        "target_vol": target_vol,
        "notes": list(a.notes),
        "portfolios": [
            {
                "portfolio": p,
                "days": a.history[p],
                "window": proposal.windows.get(p),
                "stats": {k: (None if math.isnan(v) else v) for k, v in proposal.stats[p].items()},
                "weight": w,
                "allocation": final[p],
                "current": before.get(p),
                "change": final[p] - before.get(p, 0.0),
            }
            for p, w in a.weights.items()
        ],
    }


def _table(proposal: Proposal, before: dict[str, float]) -> None:
    a = proposal.allocation
    final = a.final()
    rows: list[tuple[Any, ...]] = []
    for p, w in a.weights.items():
        s = proposal.stats[p]
        rows.append(
            (
                p,
                a.history[p],
                proposal.windows.get(p) or "-",
                _ratio(s.get("sharpe_ratio")),
                _ratio(s.get("sortino_ratio")),
                _pct(s.get("max_drawdown")),
                _pct(s.get("annual_volatility")),
                percent(w, 1),
                percent(final[p], 1),
                _pct(before.get(p)),
                f"{(final[p] - before.get(p, 0.0)) * 100:+.1f} pp",
            )
        )
    numbers = [
        "days",
        "window",
        "sharpe",
        "sortino",
        "max dd",
        "volatility",
        "weight",
        "allocation",
        "current",
        "change",
    ]
    print_table(
        f"Allocation as of {proposal.as_of} ({a.method})", ["portfolio", *numbers], rows, right=numbers
    )


def _show_history(history: list[AppliedAllocation], as_json: bool) -> None:
    if as_json:
        print_json(
            [
                {
                    "as_of": h.as_of,
                    "applied_at": h.applied_at,
                    "method": h.method,
                    "exposure": h.exposure,
                    "ex_ante_vol": h.ex_ante_vol,
                    "weights": dict(h.weights),
                }
                for h in history
            ]
        )
        return
    if not history:
        say("no allocation applied yet; apply one with `pas allocate --apply`")
        return
    print_table(
        "Applied allocations (newest first)",
        ["as of", "applied at", "method", "exposure", "weights"],
        [
            (
                h.as_of,
                f"{h.applied_at:%Y-%m-%d %H:%M}",
                h.method,
                percent(h.exposure, 1),
                ", ".join(f"{p} {percent(w, 1)}" for p, w in sorted(h.weights.items())),
            )
            for h in history
        ],
        right=["exposure"],
    )
