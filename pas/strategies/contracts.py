"""``gov_contracts``: companies just awarded large federal contracts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pas.strategies.base import Params, ParamSpec, capped_weights, to_number, top_n

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

    Score: total dollars awarded in the window; the ``top_n`` largest positive totals.
    Weights are proportional to the totals, none above ``max_weight``: what a capped
    company gives up goes to the others in proportion; when all are capped the rest is cash.

    Parameters:
        lookback_days: days of announcements counted (default 30).
        top_n: how many companies to hold (default 10).
        max_weight: the largest weight of one company (default 0.2).
    """

    name = "gov_contracts"
    datasets: Mapping[str, tuple[str, ...]] = {"contracts": ("amount",)}
    params: Mapping[str, ParamSpec] = {
        "lookback_days": ParamSpec(30, "days of announcements counted", 1),
        "top_n": ParamSpec(10, "how many companies to hold", 1),
        "max_weight": ParamSpec(0.2, "the largest weight of one company", 0.001),
    }

    def history_days(self, params: Params) -> int:
        return int(params["lookback_days"]) + 1

    def weights(self, data: Mapping[str, pd.DataFrame], as_of: datetime, params: Params) -> dict[str, float]:
        table = data["contracts"]
        table = table[table["public_at"] > as_of - timedelta(days=int(params["lookback_days"]))]
        totals = to_number(table["amount"]).fillna(0.0).groupby(table["ticker"]).sum()
        chosen = top_n(totals, int(params["top_n"]))
        return capped_weights({t: float(totals[t]) for t in chosen}, min(float(params["max_weight"]), 1.0))
