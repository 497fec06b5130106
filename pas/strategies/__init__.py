"""Strategies by name: the five built-in ones, or a user's own as ``package.module:Class``.

A user's strategy is any class (or instance) with the attributes and methods of
:class:`~pas.strategies.base.Strategy`; ``pas portfolio add ID --strategy mypkg.mod:MyStrategy``
imports it from the Python path.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from pas.errors import InputError
from pas.strategies.base import Params, ParamSpec, Strategy, resolve_params

if TYPE_CHECKING:
    from pas.models import Portfolio

MANUAL = "manual"
"""The pseudo-strategy of portfolios whose weights are set by hand; nothing to build."""

# name -> "module:Class", imported only when asked for (pandas stays out of `pas --help`).
BUILTIN: dict[str, str] = {
    "lobbying_growth": "pas.strategies.lobbying:LobbyingGrowth",
    "congress_buying": "pas.strategies.congress:CongressBuying",
    "wiki_attention": "pas.strategies.wiki:WikiAttention",
    "insider_sentiment": "pas.strategies.insiders:InsiderSentiment",
    "gov_contracts": "pas.strategies.contracts:GovContracts",
}

__all__ = [
    "BUILTIN",
    "MANUAL",
    "ParamSpec",
    "Params",
    "Strategy",
    "datasets_read",
    "get_strategy",
    "resolve_params",
]


def get_strategy(name: str) -> Strategy:
    """The strategy registered under ``name``, or imported from ``module:Class``.

    Raises:
        InputError: no such strategy, or the object found is not a strategy.
    """
    target = BUILTIN.get(name, name)
    module_name, sep, attr = target.partition(":")
    if not sep:
        known = ", ".join(sorted(BUILTIN))
        raise InputError(f"unknown strategy {name!r}; built-in strategies: {known} (or module:Class)")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InputError(f"cannot import {module_name!r} for strategy {name!r}: {exc}") from None
    found = getattr(module, attr, None)
    if found is None:
        raise InputError(f"module {module_name!r} has no {attr!r} (strategy {name!r})")
    strategy = found() if isinstance(found, type) else found
    if not isinstance(strategy, Strategy):
        raise InputError(
            f"{name!r} is not a strategy: it needs name, datasets, params, history_days() and weights()"
        )
    if not isinstance(strategy.datasets, Mapping):
        raise InputError(
            f"strategy {name!r}: datasets must name the fields read of each dataset, such as "
            f"{{'wiki': ('views',)}}; weights() then gets one DataFrame per dataset (see the README)"
        )
    return strategy


def datasets_read(portfolios: Sequence[Portfolio]) -> tuple[dict[str, list[str]], dict[str, str]]:
    """The datasets the portfolios' strategies read (manual portfolios read none).

    Returns:
        For each dataset the ids of the portfolios that read it, and for each portfolio
        whose strategy cannot be loaded (a module no longer installed) why.
    """
    needed: dict[str, list[str]] = {}
    unloadable: dict[str, str] = {}
    for p in portfolios:
        if p.strategy == MANUAL:
            continue
        try:
            names = get_strategy(p.strategy).datasets
        except InputError as exc:
            unloadable[p.id] = str(exc)
            continue
        for name in names:
            needed.setdefault(name, []).append(p.id)
    return needed, unloadable
