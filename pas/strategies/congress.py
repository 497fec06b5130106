"""``congress_buying``: stocks that several members of Congress have been buying."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pas.strategies.base import Params, ParamSpec, equal_weights, to_number, top_n

if TYPE_CHECKING:
    import pandas as pd

# A score is the number of distinct net buyers plus the net amount over this many dollars:
# one more buyer always outranks any amount below it, and amount breaks ties among equals.
AMOUNT_SCALE = 1e12


class CongressBuying:
    """Buy the stocks members of Congress have been net buyers of, lately disclosed.

    Thesis: legislators trade on what they learn in committee before the public does;
    several of them buying the same stock is a stronger signal than one large buyer.

    Inputs: the ``congress`` dataset (STOCK Act disclosures; ``transaction`` Purchase or
    Sale..., amounts as reported ranges ``low``..``high``, taken at their midpoint, or the
    lower bound for the open-ended top band).

    Public-date rule: a trade counts from its disclosure (Quiver's upload time, else the
    filing day), never from the trade day, which can be 45 days earlier. The lookback
    window is the ``lookback_days`` before the as-of time, by disclosure time.

    Score: per member and stock, purchases minus sales in the window; a member with a
    positive net is a buyer. Stocks rank by distinct buyers, then by net dollars bought
    (all members); at least ``min_buyers`` buyers and a positive net. Equal weights.

    Parameters:
        lookback_days: days of disclosures counted (default 45).
        top_n: how many stocks to hold (default 10).
        min_buyers: distinct net buyers a stock needs (default 1).
    """

    name = "congress_buying"
    datasets: Mapping[str, tuple[str, ...]] = {"congress": ("name", "transaction", "low", "high")}
    params: Mapping[str, ParamSpec] = {
        "lookback_days": ParamSpec(45, "days of disclosures counted", 1),
        "top_n": ParamSpec(10, "how many stocks to hold", 1),
        "min_buyers": ParamSpec(1, "distinct net buyers a stock needs", 1),
    }

    def history_days(self, params: Params) -> int:
        return int(params["lookback_days"]) + 1

    def weights(self, data: Mapping[str, pd.DataFrame], as_of: datetime, params: Params) -> dict[str, float]:
        table = data["congress"]
        table = table[table["public_at"] > as_of - timedelta(days=int(params["lookback_days"]))]
        kind = table["transaction"].fillna("").str.lower()
        sign = kind.str.startswith("purchase").astype(float) - kind.str.startswith("sale").astype(float)
        low = to_number(table["low"])
        size = (low + to_number(table["high"]).fillna(low)) / 2
        table = table.assign(net=sign * size.fillna(0.0))
        per_member = table.groupby(["ticker", "name"])["net"].sum()
        buyers = (per_member > 0).groupby(level="ticker").sum()
        net = table.groupby("ticker")["net"].sum()
        eligible = (buyers >= int(params["min_buyers"])) & (net > 0)
        score = (buyers + net / AMOUNT_SCALE)[eligible]
        return equal_weights(top_n(score, int(params["top_n"])))
