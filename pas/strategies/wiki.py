"""``wiki_attention``: companies whose Wikipedia page suddenly draws more readers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pas.strategies.base import Params, ParamSpec, equal_weights, to_number, top_n

if TYPE_CHECKING:
    import pandas as pd

RECENT_DAYS = 7


class WikiAttention:
    """Buy the companies with the most abnormal growth in Wikipedia page views.

    Thesis: a jump in attention from retail investors precedes buying pressure; the
    trailing baseline separates a jump from a page that is always popular.

    Inputs: the ``wiki`` dataset (daily ``views`` per company page).

    Public-date rule: a day's views are public at the end of the day in New York. The recent week
    is the 7 days of views before the as-of day (the last ones public then), the baseline
    the ``baseline_weeks`` weeks before that, both by view day and anchored on the as-of
    time. Days missing from the data are left out of the averages, not counted as zero.

    Score: mean daily views in the recent week over the mean in the baseline, minus 1;
    only pages averaging at least ``min_views`` a day in the baseline, and views that grew.
    Equal weights.

    Parameters:
        top_n: how many companies to hold (default 10).
        baseline_weeks: weeks of trailing baseline (default 8).
        min_views: mean daily baseline views a page needs (default 100).
    """

    name = "wiki_attention"
    datasets: Mapping[str, tuple[str, ...]] = {"wiki": ("views",)}
    params: Mapping[str, ParamSpec] = {
        "top_n": ParamSpec(10, "how many companies to hold", 1),
        "baseline_weeks": ParamSpec(8, "weeks of trailing baseline", 1),
        "min_views": ParamSpec(100.0, "mean daily baseline views a page needs"),
    }

    def history_days(self, params: Params) -> int:
        return RECENT_DAYS * (int(params["baseline_weeks"]) + 1) + 2

    def weights(self, data: Mapping[str, pd.DataFrame], as_of: datetime, params: Params) -> dict[str, float]:
        import pandas as pd

        last = pd.Timestamp(as_of.date() - timedelta(days=1))
        recent_start = last - pd.Timedelta(days=RECENT_DAYS - 1)
        base_start = recent_start - pd.Timedelta(days=RECENT_DAYS * int(params["baseline_weeks"]))
        table = data["wiki"].assign(views=lambda t: to_number(t["views"]))
        day = table["event_date"]
        recent = table[(day >= recent_start) & (day <= last)].groupby("ticker")["views"].mean()
        base = table[(day >= base_start) & (day < recent_start)].groupby("ticker")["views"].mean()
        base = base[base >= max(float(params["min_views"]), 1e-9)]
        growth = recent.reindex(base.index) / base - 1.0
        return equal_weights(top_n(growth.dropna(), int(params["top_n"])))
