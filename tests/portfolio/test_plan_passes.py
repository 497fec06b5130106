"""Planning passes: asset facts are looked up once, and a plan is made again only when they
differ from what the first pass assumed (every symbol fractionable)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from pas.models import Portfolio, Price, Schedule, WeightSet
from pas.portfolio.broker.sim import SimBroker
from pas.portfolio.rebalance import Plan, plan_rebalance
from pas.portfolio.trading import plan as planning
from pas.portfolio.trading.limits import TradingLimits
from pas.store.base import Store
from tests.conftest import FakeClock

D = Decimal
LIMITS = TradingLimits(max_position_weight=D(1))


def _plans(
    store: Store, clock: FakeClock, fractionable: bool, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[Plan], int]:
    store.upsert_prices([Price("AAA", date(2026, 1, 2), D(7)), Price("BBB", date(2026, 1, 2), D(30))])
    for pid, weights in (("a", {"AAA": 0.5, "BBB": 0.25}), ("b", {"BBB": 0.9})):
        store.add_portfolio(Portfolio(pid, "manual", Schedule.WEEKLY, clock(), capital=D(1001), broker="sim"))
        store.put_weights(WeightSet(pid, clock(), weights))
    calls = 0

    def counted(*args: Any, **kwargs: Any) -> Plan:
        nonlocal calls
        calls += 1
        return plan_rebalance(*args, **kwargs)

    monkeypatch.setattr(planning, "plan_rebalance", counted)
    broker = SimBroker(store, fractionable=fractionable)
    plans, _ = planning.plan_portfolios(store, broker, store.list_portfolios(), LIMITS)
    return plans, calls


def test_fractionable_symbols_are_planned_in_one_pass(
    store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    plans, passes = _plans(store, clock, True, monkeypatch)
    assert passes == 2  # one plan per portfolio: a second pass would plan the same
    # What a second pass, with every ordered symbol known to be fractionable, plans.
    prices, known = {"AAA": D(7), "BBB": D(30)}, {"AAA": True, "BBB": True}
    targets = ({"AAA": 0.5, "BBB": 0.25}, {"BBB": 0.9})
    again = [
        plan_rebalance(p.portfolio, {}, t, prices, D(1001), known, LIMITS.rules, SimBroker(store).costs)
        for p, t in zip(plans, targets, strict=True)
    ]
    assert plans == again
    assert any(o.qty != o.qty.to_integral_value() for p in plans for o in p.orders)  # fractions


def test_whole_share_symbols_are_planned_again(
    store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    plans, passes = _plans(store, clock, False, monkeypatch)
    assert passes == 4
    orders = [o for p in plans for o in p.orders]
    assert orders and all(o.qty == o.qty.to_integral_value() for o in orders)
