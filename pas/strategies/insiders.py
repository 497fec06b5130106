"""``insider_sentiment``: companies whose insiders buy their own stock on the open market."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pas.scrapers.insiders import OPEN_MARKET_BUY, OPEN_MARKET_SELL
from pas.strategies.base import Params, ParamSpec, equal_weights, to_number, top_n

if TYPE_CHECKING:
    import pandas as pd


class InsiderSentiment:
    """Buy the companies with the most net open-market buying by their insiders.

    Thesis: insiders sell for many reasons but buy with their own money for one; net
    open-market buying predicts returns over the following months.

    Inputs: the ``insiders`` dataset (Form 4 trades; ``code`` P purchase / S sale,
    ``shares`` and ``price``). Grants, exercises, tax withholding and gifts are ignored;
    trades without a price are left out.

    Public-date rule: a trade counts from its Form 4 filing (``fileDate``), never from the
    trade day. The window is the ``lookback_days`` before the as-of time, by filing time
    (as :func:`pas.scrapers.insiders.insider_sentiment` computes it).

    Score: dollars bought minus dollars sold; only positive. Equal weights.

    Parameters:
        lookback_days: days of filings counted (default 90).
        top_n: how many companies to hold (default 10).
    """

    name = "insider_sentiment"
    datasets: Mapping[str, tuple[str, ...]] = {"insiders": ("code", "shares", "price")}
    params: Mapping[str, ParamSpec] = {
        "lookback_days": ParamSpec(90, "days of filings counted", 1),
        "top_n": ParamSpec(10, "how many companies to hold", 1),
    }

    def history_days(self, params: Params) -> int:
        return int(params["lookback_days"]) + 1

    def weights(self, data: Mapping[str, pd.DataFrame], as_of: datetime, params: Params) -> dict[str, float]:
        table = data["insiders"]
        table = table[table["public_at"] > as_of - timedelta(days=int(params["lookback_days"]))]
        sign = (table["code"] == OPEN_MARKET_BUY).astype(float) - (table["code"] == OPEN_MARKET_SELL).astype(
            float
        )
        value = (sign * to_number(table["shares"]) * to_number(table["price"])).fillna(0.0)
        net = value.groupby(table["ticker"]).sum()
        return equal_weights(top_n(net, int(params["top_n"])))
