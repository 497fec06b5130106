"""Daily metrics and trailing statistics in the store, on every backend."""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal

from pas.models import DailyMetric, Price, TrailingStats
from pas.store.base import Store


def test_daily_metrics_round_trip_replace_and_range(store: Store) -> None:
    store.put_daily_metrics(
        [
            DailyMetric("a", date(2026, 1, 6), 0.01, Decimal("10100.5"), 0.002, "update"),
            DailyMetric("a", date(2026, 1, 5), -0.02),
            DailyMetric("b", date(2026, 1, 5), 0.5),
        ]
    )
    assert [m.day for m in store.daily_metrics("a")] == [date(2026, 1, 5), date(2026, 1, 6)]
    assert store.daily_metrics("a")[1] == DailyMetric(
        "a", date(2026, 1, 6), 0.01, Decimal("10100.5"), 0.002, "update"
    )
    store.put_daily_metrics([DailyMetric("a", date(2026, 1, 5), 0.03, source="post")])
    assert store.daily_metrics("a", end=date(2026, 1, 5)) == [DailyMetric("a", date(2026, 1, 5), 0.03)]
    assert store.daily_metrics("a", start=date(2026, 1, 6))[0].ret == 0.01
    assert store.metric_days("a") == {date(2026, 1, 5), date(2026, 1, 6)}
    assert store.metric_days("nobody") == set()


def test_trailing_stats_are_read_as_of_a_day_without_look_ahead(store: Store) -> None:
    store.put_trailing_stats(
        [
            TrailingStats("a", date(2026, 1, 5), "63", {"sharpe_ratio": 1.5, "alpha": math.nan}),
            TrailingStats("a", date(2026, 1, 7), "63", {"sharpe_ratio": 2.0}),
            TrailingStats("a", date(2026, 1, 7), "inception", {"sharpe_ratio": 0.5}),
        ]
    )
    latest = store.trailing_stats("a", "63")
    assert latest is not None and (latest.as_of, latest.values["sharpe_ratio"]) == (date(2026, 1, 7), 2.0)
    earlier = store.trailing_stats("a", "63", as_of=date(2026, 1, 6))
    assert earlier is not None and earlier.as_of == date(2026, 1, 5)
    assert math.isnan(earlier.values["alpha"]), "NaN survives the store"
    assert store.trailing_stats("a", "63", as_of=date(2026, 1, 4)) is None
    store.put_trailing_stats([TrailingStats("a", date(2026, 1, 7), "63", {"sharpe_ratio": 3.0})])
    again = store.trailing_stats("a", "63")
    assert again is not None and again.values == {"sharpe_ratio": 3.0}
    assert store.delete_trailing_stats_from("a", date(2026, 1, 6)) == 2
    remaining = store.trailing_stats("a", "63")
    assert remaining is not None and remaining.as_of == date(2026, 1, 5)


def test_price_history_is_per_symbol_oldest_first_within_the_range(store: Store) -> None:
    store.upsert_prices(
        [
            Price("SPY", date(2026, 1, 6), Decimal("101")),
            Price("SPY", date(2026, 1, 2), Decimal("99.5")),
            Price("SPY", date(2026, 1, 5), Decimal("100")),
            Price("AAPL", date(2026, 1, 5), Decimal("150.25")),
            Price("MSFT", date(2026, 1, 1), Decimal("400")),
        ]
    )
    history = store.price_history(["SPY", "AAPL", "MSFT", "NONE"], start=date(2026, 1, 2))
    assert list(history) == ["AAPL", "SPY"], "symbols without a close in the range are left out"
    assert [(p.day, p.close) for p in history["SPY"]] == [
        (date(2026, 1, 2), Decimal("99.5")),
        (date(2026, 1, 5), Decimal("100")),
        (date(2026, 1, 6), Decimal("101")),
    ]
    assert history["AAPL"] == [Price("AAPL", date(2026, 1, 5), Decimal("150.25"))]
    upto = store.price_history(["SPY"], end=date(2026, 1, 5))
    assert [p.day for p in upto["SPY"]] == [date(2026, 1, 2), date(2026, 1, 5)]
    assert store.price_history([]) == {}
