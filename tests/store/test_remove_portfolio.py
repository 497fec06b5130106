"""``remove_portfolio`` leaves nothing of a portfolio behind, on every backend."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from pas.models import (
    AppliedAllocation,
    CashFlow,
    DailyMetric,
    Fill,
    Portfolio,
    Schedule,
    Side,
    TradeOrder,
    TradeRun,
    TradeRunStatus,
    TrailingStats,
    WeightSet,
)
from pas.store.base import Store
from pas.store.cascade import allocation_without, trade_order_without, trade_run_without

T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
DAY = date(2026, 1, 5)
UNIT = 10**9


def _order(coid: str, run_id: str, shares: tuple[tuple[str, int], ...]) -> TradeOrder:
    return TradeOrder(run_id, coid, 0, "AAA", Side.BUY, UNIT, Decimal(10), True, shares)


def _own_everything(store: Store, pid: str) -> None:
    store.add_portfolio(Portfolio(pid, "manual", Schedule.WEEKLY, T0, Decimal(1000)))
    store.put_weights(WeightSet(pid, T0, {"AAA": 1.0}))
    store.append_fills([Fill(pid, "AAA", Side.BUY, Decimal(1), Decimal(10), T0, f"{pid}-f1")])
    store.add_cash_flow(CashFlow(pid, Decimal(500), T0, f"{pid}-c1"))
    store.put_daily_metrics([DailyMetric(pid, DAY, 0.01)])
    store.put_trailing_stats([TrailingStats(pid, DAY, "63", {"sharpe": 1.0})])


def test_a_removed_portfolio_leaves_no_history_for_a_re_added_id(store: Store) -> None:
    _own_everything(store, "gone")
    _own_everything(store, "kept")
    store.put_allocation(AppliedAllocation(DAY, T0, "equal", {"gone": 0.5, "kept": 0.5}, 0.8))
    store.put_allocation(AppliedAllocation(DAY, T0, "equal", {"gone": 1.0}))
    store.create_trade_run(
        TradeRun("solo", T0, "sim", ("gone",)), [_order("c-solo", "solo", (("gone", UNIT),))]
    )
    store.set_trade_run_status("solo", TradeRunStatus.DONE)
    store.create_trade_run(
        TradeRun("both", T0, "sim", ("gone", "kept")),
        [
            _order("c-both", "both", (("gone", UNIT), ("kept", UNIT))),
            _order("c-g", "both", (("gone", UNIT),)),
        ],
    )

    store.remove_portfolio("gone")
    store.add_portfolio(Portfolio("gone", "manual", Schedule.WEEKLY, T0, Decimal(1000)))

    assert store.weights_history("gone") == []
    assert store.fills("gone") == [] and store.holdings("gone") == {}
    assert store.cash_flows("gone") == []
    assert store.daily_metrics("gone") == [] and store.metric_days("gone") == set()
    assert store.trailing_stats("gone", "63") is None
    for allocation in store.allocation_history():
        assert "gone" not in allocation.weights
    [left] = store.allocation_history()
    assert left.weights == {"kept": 1.0}
    assert left.capital("kept", Decimal(10000)) == pytest.approx(Decimal(4000))
    assert store.trade_orders("solo") == []
    assert [(o.client_order_id, o.shares) for o in store.trade_orders("both")] == [
        ("c-both", (("kept", UNIT),))
    ]
    assert store.unfinished_trade_run() == TradeRun("both", T0, "sim", ("kept",))
    # What the other portfolio owns is untouched.
    assert len(store.fills("kept")) == 1 and len(store.cash_flows("kept")) == 1
    assert len(store.daily_metrics("kept")) == 1 and store.trailing_stats("kept", "63") is not None
    assert store.weights_history("kept") != []


def test_allocation_without_keeps_the_other_portfolios_dollars() -> None:
    allocation = AppliedAllocation(DAY, T0, "score", {"a": 0.25, "b": 0.5, "c": 0.25}, 0.8)
    smaller = allocation_without(allocation, "a")
    assert smaller is not None
    assert sum(smaller.weights.values()) == pytest.approx(1.0)
    for pid in ("b", "c"):
        before = allocation.capital(pid, Decimal(10000))
        after = smaller.capital(pid, Decimal(10000))
        assert before is not None and after == pytest.approx(before)
    assert allocation_without(allocation, "z") is allocation
    assert allocation_without(AppliedAllocation(DAY, T0, "equal", {"a": 1.0}), "a") is None


def test_runs_and_orders_lose_only_the_removed_share() -> None:
    run = TradeRun("r", T0, "sim", ("a", "b"))
    assert trade_run_without(run, "a") == TradeRun("r", T0, "sim", ("b",))
    assert trade_run_without(TradeRun("r", T0, "sim", ("a",)), "a") is None
    order = _order("c", "r", (("a", UNIT), ("b", UNIT)))
    assert trade_order_without(order, "a") == _order("c", "r", (("b", UNIT),))
    assert trade_order_without(_order("c", "r", (("a", UNIT),)), "a") is None
