"""``lobbying_growth``: companies that lobby more than they did a quarter ago."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING

from pas.schedule import day_end
from pas.strategies.base import Params, ParamSpec, equal_weights, to_number, top_n

if TYPE_CHECKING:
    import pandas as pd

# Lobbying reports (LD-2) are due on the 20th of January, April, July and October for the
# quarter before. A window ends on the last day of one of those months, so that each
# window holds one whole filing season (and its late filings) and no part of another.
SEASON_END_MONTHS = (1, 4, 7, 10)


def season_ends(as_of: datetime, count: int) -> list[date]:
    """The last ``count`` window ends whose filings are all public by ``as_of``, newest first.

    A filing reported on day D is public at the end of D in New York, so a window ending on
    E is complete from the end of E.
    """
    ends: list[date] = []
    year, month = as_of.year, as_of.month
    while len(ends) < count:
        if month in SEASON_END_MONTHS:
            end = date(year, month, calendar.monthrange(year, month)[1])
            if day_end(end) <= as_of:
                ends.append(end)
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return ends


class LobbyingGrowth:
    """Buy the companies whose lobbying spend grew most from one filing season to the next.

    Thesis: a company that steps up its lobbying expects policy to matter to its earnings
    soon (a contract, a rule, a subsidy); the market prices that slowly.

    Inputs: the ``lobbying`` dataset (one record per LDA filing, ``amount`` in dollars).

    Public-date rule: a filing is public at the end (in New York) of the day Quiver says it
    was reported. Windows are the three-month filing seasons ending on the last day of
    January, April, July and October (LD-2 reports are due on the 20th of those months),
    so that both windows compared hold one whole season: a 30-day-against-30-day
    comparison mostly measures where the filing deadlines fall. The newest season used
    is the last one complete (all its filings public) at the as-of time.

    Score: spend in the newest complete season over spend in the one before, minus 1;
    only companies that spent at least ``min_spend`` in the earlier season (so that
    growth from next to nothing does not dominate) and grew. Equal weights.

    Parameters:
        top_n: how many companies to hold (default 10).
        min_spend: dollars a company must have spent in the earlier season (default 50,000).
    """

    name = "lobbying_growth"
    datasets: Mapping[str, tuple[str, ...]] = {"lobbying": ("amount",)}
    params: Mapping[str, ParamSpec] = {
        "top_n": ParamSpec(10, "how many companies to hold", 1),
        "min_spend": ParamSpec(50_000.0, "dollars spent in the earlier season, at least"),
    }

    def history_days(self, params: Params) -> int:
        # Two seasons back from the last complete one, which can be up to three months old.
        return 3 * 92 + 2

    def weights(self, data: Mapping[str, pd.DataFrame], as_of: datetime, params: Params) -> dict[str, float]:
        recent_end, prior_end, start = season_ends(as_of, 3)
        table = data["lobbying"].assign(amount=lambda t: to_number(t["amount"]).fillna(0.0))
        day = table["event_date"].dt.date
        recent = table[(day > prior_end) & (day <= recent_end)].groupby("ticker")["amount"].sum()
        prior = table[(day > start) & (day <= prior_end)].groupby("ticker")["amount"].sum()
        prior = prior[prior >= float(params["min_spend"])]
        growth = recent.reindex(prior.index).fillna(0.0) / prior - 1.0
        return equal_weights(top_n(growth, int(params["top_n"])))
