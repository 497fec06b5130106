"""pas.metrics: returns from the ledger (hand-computed), posted rows, trailing statistics."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pas import analytics
from pas.errors import InputError, StaleDataError
from pas.metrics import (
    STATISTICS,
    WINDOWS,
    PostedRow,
    check_posted,
    daily_returns_from_ledger,
    parse_posted_rows,
    posted_metrics,
    trailing_stats_table,
)
from pas.models import CashFlow, DailyMetric, Fill, Side
from pas.store.interfaces import LedgerEntry
from pas.store.rules import LedgerFold

D = Decimal


def at(day: int, hour: int = 15) -> datetime:
    return datetime(2026, 1, day, hour, tzinfo=UTC)


def closes(pairs: dict[int, str]) -> list[tuple[date, Decimal]]:
    return [(date(2026, 1, d), D(c)) for d, c in sorted(pairs.items())]


SPY = closes({2: "500", 5: "500", 6: "505", 7: "510", 8: "510", 9: "520"})


def test_equity_and_returns_by_hand_with_a_deposit_and_a_carried_close() -> None:
    fills = [Fill("p", "AAPL", Side.BUY, D(10), D(100), at(5), "f1", commission=D(1))]
    flows = [CashFlow("p", D(1000), at(7), "c1")]
    # AAPL has no close on the 7th and 8th: the 6th's 110 is carried forward.
    prices = {"SPY": SPY, "AAPL": closes({5: "100", 6: "110", 9: "121"})}
    got = daily_returns_from_ledger("p", D(10000), fills, flows, prices, "SPY")
    # Base: the 5th, equity 10000 - 1000 - 1 + 10 x 100 = 9999.
    assert [(m.day.day, m.equity) for m in got] == [
        (6, D(10099)),
        (7, D(11099)),
        (8, D(11099)),
        (9, D(11209)),
    ]
    assert got[0].ret == pytest.approx(10099 / 9999 - 1)
    assert got[1].ret == 0.0, "the deposit on the 7th is not a return"
    assert got[3].ret == pytest.approx(11209 / 11099 - 1)
    assert [m.benchmark_ret for m in got] == pytest.approx([0.01, 510 / 505 - 1, 0.0, 520 / 510 - 1])
    assert {m.source for m in got} == {"update"}


def test_money_deposited_in_the_morning_is_measured_against_itself() -> None:
    # 10,000 bought 100 AAPL at 100 on the 5th. On the 6th 10,000 more arrives (as an
    # allocation's transfer does) and buys another 100 at 100; AAPL closes at 110. The
    # book made 10% on everything at work: 22,000 / (10,000 + 10,000) - 1. Counting the
    # deposit at the end of the day would report (22,000 - 10,000) / 10,000 - 1 = 20%.
    fills = [
        Fill("p", "AAPL", Side.BUY, D(100), D(100), at(5), "f1"),
        Fill("p", "AAPL", Side.BUY, D(100), D(100), at(6), "f2"),
    ]
    flows = [CashFlow("p", D(10000), at(6, 14), "c1")]
    prices = {"SPY": SPY, "AAPL": closes({5: "100", 6: "110"})}
    got = daily_returns_from_ledger("p", D(10000), fills, flows, prices, "SPY")
    assert (got[0].day.day, got[0].equity) == (6, D(22000))
    assert got[0].ret == pytest.approx(0.10)


def test_a_weekend_deposit_counts_on_monday_and_withdrawals_are_not_losses() -> None:
    flows = [CashFlow("p", D(5000), at(3), "c1"), CashFlow("p", D(-1000), at(6), "c2")]
    got = daily_returns_from_ledger("p", None, [], flows, {"SPY": SPY}, "SPY")
    # Saturday the 3rd counts on Monday the 5th: the base day; no return until the 6th.
    assert [(m.day.day, m.ret, m.equity) for m in got] == [
        (6, 0.0, D(4000)),
        (7, 0.0, D(4000)),
        (8, 0.0, D(4000)),
        (9, 0.0, D(4000)),
    ]


def test_no_capital_and_no_cash_flows_names_pas_portfolio_fund() -> None:
    with pytest.raises(InputError, match=r"fund it with `pas portfolio fund p AMOUNT`"):
        daily_returns_from_ledger("p", None, [], [], {"SPY": SPY}, "SPY")


def test_missing_closes_say_to_run_prices_fetch() -> None:
    fills = [Fill("p", "AAPL", Side.BUY, D(1), D(100), at(5), "f1")]
    with pytest.raises(
        StaleDataError, match=r"no close of AAPL on or before 2026-01-05 .* run `pas prices fetch` first"
    ):
        daily_returns_from_ledger("p", D(1000), fills, [], {"SPY": SPY}, "SPY")
    with pytest.raises(
        StaleDataError, match=r"no closes of the benchmark SPY are stored; run `pas prices fetch` first"
    ):
        daily_returns_from_ledger("p", D(1000), fills, [], {}, "SPY")


def test_nothing_before_the_first_fill_or_cash_flow() -> None:
    assert daily_returns_from_ledger("p", D(1000), [], [], {"SPY": SPY}, "SPY") == []
    flows = [CashFlow("p", D(10), at(9), "c1")]
    assert daily_returns_from_ledger("p", D(1000), [], flows, {"SPY": SPY}, "SPY") == [], (
        "no day after the base"
    )


def test_posted_rows_are_all_checked_before_any_is_accepted() -> None:
    records = [
        ("line 2", {"date": "2026-01-05", "return": "0.01"}),
        ("line 3", {"date": "2026-01-06", "return": "-1.5"}),
        ("line 4", {"date": "2026-01-07", "return": "inf"}),
        ("line 5", {"date": "2026-01-05", "return": "0.02"}),
        ("line 6", {"date": "nope", "return": "0.02", "equity": "-3"}),
    ]
    with pytest.raises(InputError) as caught:
        parse_posted_rows(records)
    assert str(caught.value) == (
        "4 bad row(s), nothing posted: line 3: return -1.5 is below -100% (-1); returns are fractions: "
        "0.01 is +1%; line 4: return must be a finite number, got 'inf'; line 5: 2026-01-05 is already "
        "on line 2; line 6: date 'nope' is not a day; use YYYY-MM-DD such as 2026-01-05"
    )
    assert parse_posted_rows([("line 2", {"date": "2026-01-05", "return": "-1", "equity": "0"})]) == [
        PostedRow(date(2026, 1, 5), -1.0, D(0))
    ]


def test_check_posted_refuses_future_early_and_existing_days() -> None:
    rows = [PostedRow(date(2026, 1, d), 0.0) for d in (2, 5, 9)]
    with pytest.raises(InputError) as caught:
        check_posted(
            rows, start=date(2026, 1, 5), today=date(2026, 1, 8), existing={date(2026, 1, 5)}, replace=False
        )
    assert str(caught.value) == (
        "nothing posted: 2026-01-02 is before the portfolio existed (2026-01-05); add --backfill to post "
        "a track record from before it; 2026-01-05 is already "
        "posted (add --replace to overwrite it); 2026-01-09 is in the future (today is 2026-01-08)"
    )
    check_posted(
        rows[1:2], start=date(2026, 1, 5), today=date(2026, 1, 8), existing={date(2026, 1, 5)}, replace=True
    )


def test_posted_metrics_take_the_benchmark_return_from_stored_closes() -> None:
    rows = [PostedRow(date(2026, 1, 2), 0.01), PostedRow(date(2026, 1, 6), 0.02, D(5))]
    got = posted_metrics("p", rows, SPY)
    assert got == [
        DailyMetric("p", date(2026, 1, 2), 0.01, None, None, "post"),
        DailyMetric("p", date(2026, 1, 6), 0.02, D(5), pytest.approx(0.01), "post"),  # type: ignore[arg-type]
    ]


def _metrics(returns: np.ndarray, bench: np.ndarray) -> list[DailyMetric]:
    start = date(2020, 1, 1)
    return [
        DailyMetric("p", start + timedelta(days=i), float(r), None, None if math.isnan(b) else float(b))
        for i, (r, b) in enumerate(zip(returns, bench, strict=True))
    ]


def _expected(returns: np.ndarray, bench: np.ndarray) -> dict[str, float]:
    """Each statistic by calling pas.analytics on the returns given, one portfolio at a time."""
    out = {
        name: float(getattr(analytics, name)(returns))  # type: ignore[arg-type]
        for name in (
            "annual_return",
            "annual_volatility",
            "sharpe_ratio",
            "sortino_ratio",
            "downside_risk",
            "max_drawdown",
            "calmar_ratio",
            "value_at_risk",
            "conditional_value_at_risk",
        )
    }
    for name in ("alpha", "beta", "tracking_error", "information_ratio"):
        out[name] = float(getattr(analytics, name)(returns, bench))  # type: ignore[arg-type]
    out["cumulative_return"] = float(np.prod(1 + returns) - 1)
    out["days"] = float(len(returns))
    return out


def _same(got: dict[str, float], want: dict[str, float]) -> None:
    assert set(got) == set(STATISTICS)
    for name in STATISTICS:
        assert got[name] == pytest.approx(want[name], rel=1e-9, abs=1e-12, nan_ok=True), name


def test_stats_at_each_day_equal_analytics_on_returns_up_to_that_day() -> None:
    rng = np.random.default_rng(7)
    returns = rng.normal(0.0005, 0.01, 300)
    bench = rng.normal(0.0003, 0.008, 300)
    bench[[5, 70, 299]] = np.nan  # missing benchmark days are skipped
    table = {(t.as_of, t.window): t.values for t in trailing_stats_table("p", _metrics(returns, bench))}
    days = [date(2020, 1, 1) + timedelta(days=i) for i in range(300)]
    assert len(table) == 300 * len(WINDOWS)
    for index in (0, 1, 61, 62, 125, 200, 251, 299):
        upto = index + 1
        _same(
            table[(days[index], "inception")],
            _expected(returns[:upto], bench[:upto])
            if upto >= 2
            else {**dict.fromkeys(STATISTICS, math.nan), "days": 1.0},
        )
        for window in (63, 126, 252):
            got = table[(days[index], str(window))]
            if upto < window:
                assert got["days"] == upto
                assert all(math.isnan(v) for k, v in got.items() if k != "days"), "too short: NaN"
            else:
                _same(got, _expected(returns[upto - window : upto], bench[upto - window : upto]))


def test_from_day_computes_only_later_as_of_days_and_the_same_values() -> None:
    rng = np.random.default_rng(3)
    metrics = _metrics(rng.normal(0, 0.01, 130), rng.normal(0, 0.01, 130))
    full = trailing_stats_table("p", metrics)
    tail = trailing_stats_table("p", metrics, metrics[100].day)
    assert {t.as_of for t in tail} == {m.day for m in metrics[100:]}
    by_key = {(t.as_of, t.window): t.values for t in full}
    for t in tail:
        for name in STATISTICS:
            assert t.values[name] == pytest.approx(by_key[(t.as_of, t.window)][name], nan_ok=True)


# Daily returns come from money in nano units, so a non-zero one is never below about 1e-21
# (a nano-dollar on a trillion); far smaller floats square into subnormals (below 2.2e-308)
# with only a few significant digits, and a 5e-161 return once made two sums of the same
# window differ in their fourth digit. Such returns are taken as 0.
returns_lists = st.lists(
    st.floats(-0.2, 0.2).map(lambda r: r if abs(r) >= 1e-30 else 0.0), min_size=2, max_size=70
)


@settings(max_examples=30, deadline=None)
@given(returns_lists, returns_lists)
def test_appending_later_returns_never_changes_earlier_stats(before: list[float], after: list[float]) -> None:
    # No look-ahead: the statistics as of day D are a function of the returns up to D only,
    # so what happens after D cannot change them.
    bench = np.zeros(len(before) + len(after))
    short = trailing_stats_table("p", _metrics(np.array(before), bench[: len(before)]))
    long = trailing_stats_table("p", _metrics(np.array(before + after), bench))
    later = {(t.as_of, t.window): t.values for t in long}
    for t in short:
        for name in STATISTICS:
            assert t.values[name] == pytest.approx(later[(t.as_of, t.window)][name], nan_ok=True)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), cut=st.integers(1, 58))
def test_computing_from_a_later_day_gives_the_same_metrics(seed: int, cut: int) -> None:
    # `pas metrics update` values equity only from the day before the first missing one,
    # with each symbol's closes from there on plus its last earlier close. That must give
    # exactly the metrics the full computation gives for those days.
    rng = np.random.default_rng(seed)
    days = [date(2026, 1, 1) + timedelta(days=n) for n in range(60)]
    prices: dict[str, list[tuple[date, Decimal]]] = {"SPY": [(d, D("500") + n) for n, d in enumerate(days)]}
    for symbol in ("A", "B"):
        # Some days have no close: the last one is carried forward.
        prices[symbol] = [(d, D(str(round(50 + rng.normal(0, 5), 2)))) for d in days if rng.random() < 0.7]
    fills = []
    for n in sorted(rng.choice(55, size=6, replace=False)):
        symbol = ("A", "B")[int(n) % 2]
        when = datetime.combine(days[int(n)], datetime.min.time(), UTC).replace(hour=15)
        fills.append(Fill("p", symbol, Side.BUY, D(int(rng.integers(1, 9))), D(50), when, f"f{n}"))
    flows = [CashFlow("p", D(500), datetime(2026, 1, 20, 15, tzinfo=UTC), "c1")]
    try:
        full = daily_returns_from_ledger("p", D(10000), fills, flows, prices, "SPY")
    except StaleDataError:
        return  # a symbol held before its first close: both ways refuse it
    since = days[cut]
    start = days[cut - 1]
    trimmed: dict[str, list[tuple[date, Decimal]]] = {"SPY": prices["SPY"]}
    for symbol in ("A", "B"):
        before = [p for p in prices[symbol] if p[0] <= start]
        trimmed[symbol] = before[-1:] + [p for p in prices[symbol] if p[0] > start]
    partial = daily_returns_from_ledger("p", D(10000), fills, flows, trimmed, "SPY", since=since)
    assert partial == [m for m in full if m.day >= since]
    # The store's fold of every fill, less the later ones, is the same starting point.
    folded = LedgerFold().add(
        LedgerEntry(f.symbol, f.nano[0], f.nano[1], f.nano[2])
        for f in fills  # as the ledger holds them
    )
    assert (
        daily_returns_from_ledger("p", D(10000), fills, flows, trimmed, "SPY", since=since, folded=folded)
        == partial
    )
