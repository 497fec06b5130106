"""``gov_contracts``: companies just awarded large federal contracts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pas.strategies.base import (
    Params,
    ParamSpec,
    equal_weights,
    relative_to_history,
    to_number,
    top_n,
)

if TYPE_CHECKING:
    import pandas as pd


class GovContracts:
    """Buy the companies with the largest recent federal contract awards, tilted by size.

    Thesis: a large award is revenue the market underreacts to, above all for companies
    for which it is large.

    Inputs: the ``contracts`` dataset (awards with ``amount`` in dollars; negative amounts
    are de-obligations and count against the company).

    Public-date rule: an award counts from its announcement ``Date``, never from the day
    the agency signed it (``action_date``). The window is the ``lookback_days`` before the
    as-of time, by announcement.

    Score: total dollars awarded in the window; the ``top_n`` largest positive totals,
    weighted in proportion to them. With ``normalized=1`` the score is size-neutral: the
    window's total over the company's own awards in the ``history_days`` before the window,
    scaled to one window (:func:`~pas.strategies.base.relative_to_history`; a company with
    no earlier award is left out), and the weights are equal. The construction
    parameters (``max_weight``, ``min_names``; :mod:`pas.strategies.base`) cap the weights.

    Parameters:
        lookback_days: days of announcements counted (default 30).
        top_n: how many companies to hold (default 10).
        normalized: 0 ranks raw dollars, 1 dollars relative to the company's history (default 0).
        history_days: days of awards before the window the normalized score compares with
            (default 365).
    """

    name = "gov_contracts"
    datasets: Mapping[str, tuple[str, ...]] = {"contracts": ("amount",)}
    params: Mapping[str, ParamSpec] = {
        "lookback_days": ParamSpec(30, "days of announcements counted", 1),
        "top_n": ParamSpec(10, "how many companies to hold", 1),
        "normalized": ParamSpec(0, "0 raw dollars, 1 relative to the company's own history", 0, 1),
        "history_days": ParamSpec(365, "days of awards before the window the normalized score uses", 1),
    }

    def history_days(self, params: Params) -> int:
        extra = int(params["history_days"]) if params["normalized"] else 0
        return int(params["lookback_days"]) + extra + 1

    def weights(self, data: Mapping[str, pd.DataFrame], as_of: datetime, params: Params) -> dict[str, float]:
        lookback, history = int(params["lookback_days"]), int(params["history_days"])
        table = data["contracts"]
        amount = to_number(table["amount"]).fillna(0.0)
        start = as_of - timedelta(days=lookback)
        recent = table["public_at"] > start
        totals = amount[recent].groupby(table["ticker"][recent]).sum()
        if params["normalized"]:
            earlier = ~recent & (table["public_at"] > start - timedelta(days=history))
            past = amount[earlier].groupby(table["ticker"][earlier]).sum()
            return equal_weights(
                top_n(relative_to_history(totals, past, lookback, history), int(params["top_n"]))
            )
        chosen = top_n(totals, int(params["top_n"]))
        size = sum(float(totals[t]) for t in chosen)
        return {t: float(totals[t]) / size for t in chosen}
