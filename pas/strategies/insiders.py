"""``insider_sentiment``: companies whose insiders buy their own stock on the open market."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pas.scrapers.insiders import OPEN_MARKET_BUY, OPEN_MARKET_SELL
from pas.strategies.base import Params, ParamSpec, equal_weights, relative_to_history, to_number, top_n

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

    Score: dollars bought minus dollars sold; only positive. Equal weights. With
    ``normalized=1`` the score is size-neutral: the window's net buying over the company's
    own insider dollar volume (bought plus sold) in the ``history_days`` before the window,
    scaled to one window (:func:`~pas.strategies.base.relative_to_history`; a company
    with no earlier priced trade is left out).

    Parameters:
        lookback_days: days of filings counted (default 90).
        top_n: how many companies to hold (default 10).
        normalized: 0 ranks raw dollars, 1 dollars relative to the company's history (default 0).
        history_days: days of filings before the window the normalized score compares
            with (default 365).
    """

    name = "insider_sentiment"
    datasets: Mapping[str, tuple[str, ...]] = {"insiders": ("code", "shares", "price")}
    params: Mapping[str, ParamSpec] = {
        "lookback_days": ParamSpec(90, "days of filings counted", 1),
        "top_n": ParamSpec(10, "how many companies to hold", 1),
        "normalized": ParamSpec(0, "0 raw dollars, 1 relative to the company's own history", 0, 1),
        "history_days": ParamSpec(365, "days of filings before the window the normalized score uses", 1),
    }

    def history_days(self, params: Params) -> int:
        extra = int(params["history_days"]) if params["normalized"] else 0
        return int(params["lookback_days"]) + extra + 1

    def weights(self, data: Mapping[str, pd.DataFrame], as_of: datetime, params: Params) -> dict[str, float]:
        lookback, history = int(params["lookback_days"]), int(params["history_days"])
        table = data["insiders"]
        bought = (table["code"] == OPEN_MARKET_BUY).astype(float)
        sold = (table["code"] == OPEN_MARKET_SELL).astype(float)
        dollars = (to_number(table["shares"]) * to_number(table["price"])).fillna(0.0)
        start = as_of - timedelta(days=lookback)
        recent = table["public_at"] > start
        net = ((bought - sold) * dollars)[recent].groupby(table["ticker"][recent]).sum()
        if params["normalized"]:
            earlier = ~recent & (table["public_at"] > start - timedelta(days=history))
            volume = ((bought + sold) * dollars)[earlier].groupby(table["ticker"][earlier]).sum()
            net = relative_to_history(net, volume, lookback, history)
        return equal_weights(top_n(net, int(params["top_n"])))
