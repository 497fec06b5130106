"""Issue 14: no portfolio's cash below zero, the account never below its buffer, and
allocation transfers that sum to zero whatever is refused."""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pas.models import AppliedAllocation, Portfolio, Price, Schedule, WeightSet, new_run_id
from pas.portfolio.account import stored_accounts
from pas.portfolio.broker.sim import SimBroker
from pas.portfolio.rebalance import PlanRules, plan_rebalance
from pas.portfolio.trading.limits import TradingLimits
from pas.portfolio.trading.run import run_rebalance
from pas.portfolio.transfers import balance_transfers
from pas.store.sqlite import SqliteStore
from tests.conftest import FakeClock

D = Decimal
SYMBOLS = ("AAA", "BBB", "CCC", "DDD")
IDS = ("p1", "p2", "p3")
LIMITS = TradingLimits(max_position_weight=D(1), max_order_notional=D(10**9))
BUFFER = LIMITS.rules.cash_buffer

cents = st.integers(-500_000, 500_000).map(lambda c: D(c) / 100)


@given(st.dictionaries(st.sampled_from("abcdef"), cents, max_size=6), st.data())
def test_transfers_are_whole_cents_and_sum_to_minus_the_pools_change(
    wanted: dict, data: st.DataObject
) -> None:  # type: ignore[type-arg]
    surplus = data.draw(st.integers(0, 300_000).map(lambda c: D(c) / 100))
    deficit = D(0) if surplus else data.draw(st.integers(0, 300_000).map(lambda c: D(c) / 100))
    out = balance_transfers(wanted, surplus, deficit)
    for p, amount in out.items():
        assert amount == amount.quantize(D("0.01")) and amount != 0
        assert 0 < amount / wanted[p] <= 1, "nobody receives or gives more than it wants to"
    pool_change = -sum(out.values(), D(0))
    assert -surplus <= pool_change <= deficit
    if not surplus and not deficit:
        assert sum(out.values(), D(0)) == 0, "between portfolios alone, transfers sum to zero"


def test_a_giver_alone_gives_nothing_and_a_receiver_alone_gets_only_the_pools_spare_cash() -> None:
    # The demo's 2024-09-09: a run refused, retried portfolio by portfolio.
    assert balance_transfers({"a": D(-500)}) == {}
    assert balance_transfers({"b": D(800)}) == {}
    assert balance_transfers({"b": D(800)}, pool_surplus=D(300)) == {"b": D(300)}
    assert balance_transfers({"a": D(-500)}, pool_deficit=D(200)) == {"a": D(-200)}
    # Split in whole cents by largest remainder: 100.00 over three equal asks.
    out = balance_transfers({"a": D(-100), "b": D(50), "c": D(50), "d": D(50)})
    assert out == {"a": D(-100), "b": D("33.34"), "c": D("33.33"), "d": D("33.33")}


def test_a_plan_sells_back_to_the_buffer_when_cash_is_negative() -> None:
    # Negative cash (after a transfer out), every position inside the band of its target.
    held = {"AAA": D(50), "BBB": D(50)}
    prices = {"AAA": D(10), "BBB": D(10)}
    plan = plan_rebalance("p", held, {"AAA": 0.5, "BBB": 0.5}, prices, D(-4), {"AAA": True, "BBB": True})
    cash_after = D(-4) + sum(o.notional for o in plan.orders)
    assert all(o.side.value == "sell" for o in plan.orders)
    assert cash_after >= PlanRules().cash_buffer * plan.equity


def _day(n: int) -> date:
    return date(2026, 1, 5) + timedelta(days=n)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=st.lists(
        st.tuples(
            st.lists(st.floats(0.05, 1.0), min_size=3, max_size=3),  # allocation weights
            st.lists(st.floats(-0.25, 0.25), min_size=4, max_size=4),  # price moves
            st.lists(st.integers(0, 3), min_size=3, max_size=3),  # each portfolio's target
            st.sampled_from(["all", "one by one", "two only"]),  # who trades (refusals)
        ),
        min_size=2,
        max_size=5,
    ),
    commission=st.sampled_from([D(0), D("0.05"), D(1)]),
    slippage=st.sampled_from([D(0), D(5), D(30)]),
)
def test_no_cash_below_zero_and_transfers_balance_over_random_allocations_and_prices(
    steps: list,
    commission: Decimal,
    slippage: Decimal,  # type: ignore[type-arg]
) -> None:
    clock = FakeClock(datetime(2026, 1, 5, 15, tzinfo=UTC))
    with tempfile.TemporaryDirectory() as folder:
        store = SqliteStore(Path(folder) / "pas.db", clock=clock)
        broker = SimBroker(
            store, commission=commission, slippage_bps=slippage, cash=D(100_000), market="always"
        )
        for pid in IDS:
            store.add_portfolio(Portfolio(pid, "manual", Schedule.WEEKLY, clock(), broker="sim"))
        level = {s: 50.0 for s in SYMBOLS}
        for n, (alloc, moves, picks, who) in enumerate(steps):
            clock.now = datetime.combine(_day(n), datetime.min.time(), UTC) + timedelta(hours=15)
            level = {s: max(1.0, level[s] * (1 + m)) for s, m in zip(SYMBOLS, moves, strict=True)}
            store.upsert_prices(Price(s, _day(n), D(f"{v:.2f}")) for s, v in level.items())
            total = sum(alloc)
            store.put_allocation(
                AppliedAllocation(
                    _day(n), clock(), "equal", {p: w / total for p, w in zip(IDS, alloc, strict=True)}
                )
            )
            for pid, k in zip(IDS, picks, strict=True):
                chosen = SYMBOLS[k : k + 2]
                store.put_weights(WeightSet(pid, clock(), {s: 1 / len(chosen) for s in chosen}))
            portfolios = store.list_portfolios()
            groups = {
                "all": [portfolios],
                "one by one": [[p] for p in portfolios],
                "two only": [portfolios[:2]],
            }
            for group in groups[who]:
                before = {p: sum(f.amount for f in store.cash_flows(p)) for p in IDS}
                out = run_rebalance(
                    store,
                    broker,
                    group,
                    LIMITS,
                    run_id=new_run_id(clock()),
                    queue=True,
                    timeout_sec=0,
                    sleep=lambda _: None,
                )
                moved = {p: sum(f.amount for f in store.cash_flows(p)) - before[p] for p in IDS}
                assert moved == {p: out.transfers.get(p, D(0)) for p in IDS}
                _check_books(store, broker)


def _check_books(store: SqliteStore, broker: SimBroker) -> None:
    accounts = stored_accounts(store, store.list_portfolios())
    account = broker.account()
    for a in accounts:
        assert a.cash is None or a.cash >= 0, f"{a.portfolio} has cash {a.cash}"
    owned = sum((a.cash or D(0) for a in accounts), D(0))
    assert account.cash - owned >= 0, "the pool never lends what it does not have"
    assert sum((a.equity or D(0) for a in accounts), D(0)) <= account.equity + D("0.01")
