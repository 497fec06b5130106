"""Trading runs against the Sim broker: netting, crash resume, partial fills, sync, reconcile."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from pas.domain.broker import Asset, BrokerFill, Order, OrderRequest, OrderStatus
from pas.errors import InputError, LockHeldError, LockLostError, PasError, RefusedError
from pas.models import (
    UNITS_PER_ONE,
    Portfolio,
    Price,
    Schedule,
    Side,
    TradeOrderStatus,
    WeightSet,
    new_run_id,
)
from pas.portfolio.broker.errors import OrderRejected
from pas.portfolio.broker.sim import SimBroker
from pas.portfolio.ledger import build_book
from pas.portfolio.trading.limits import TradingLimits
from pas.portfolio.trading.lock import LOCK_SLACK_SEC
from pas.portfolio.trading.reconcile import reconcile_ledgers
from pas.portfolio.trading.run import run_rebalance
from pas.portfolio.trading.sync import sync_fills
from pas.store.base import Store
from pas.store.rules import LedgerFold
from tests.conftest import FakeClock

D = Decimal
LIMITS = TradingLimits(max_position_weight=D(1))


def _setup(store: Store, clock: FakeClock, **capital: int) -> None:
    store.upsert_prices([Price("AAA", date(2026, 1, 2), D(10)), Price("BBB", date(2026, 1, 2), D(20))])
    for pid, cap in capital.items():
        store.add_portfolio(Portfolio(pid, "manual", Schedule.WEEKLY, clock(), capital=D(cap), broker="sim"))


def _weights(store: Store, clock: FakeClock, pid: str, **w: float) -> None:
    store.put_weights(WeightSet(pid, clock(), w))


def _run(store: Store, broker: object, ids: list[str], run_id: str = "260105150000aaaa", **kw: object):  # type: ignore[no-untyped-def]
    portfolios = [p for p in store.list_portfolios() if p.id in ids]
    kw.setdefault("sleep", lambda s: None)
    return run_rebalance(store, broker, portfolios, LIMITS, run_id=run_id, **kw)  # type: ignore[arg-type]


def test_one_portfolio_trades_to_its_targets(store: Store, clock: FakeClock) -> None:
    _setup(store, clock, a=10_000)
    _weights(store, clock, "a", AAA=0.5, BBB=0.25)
    broker = SimBroker(store, commission=D(1))
    out = _run(store, broker, ["a"])
    assert [(o.symbol, o.side, o.status) for o in out.orders] == [
        ("AAA", Side.BUY, TradeOrderStatus.SETTLED),
        ("BBB", Side.BUY, TradeOrderStatus.SETTLED),
    ]
    assert store.holdings("a") == {"AAA": D(500), "BBB": D(125)}
    assert out.fills_recorded == 2 and not out.timed_out
    book = build_book(store.ledger("a"))
    assert book.commissions == D(2)
    _, diffs = reconcile_ledgers(store, broker)
    assert diffs == []
    # Nothing to do the second time: inside the band.
    again = _run(store, broker, ["a"], run_id="260105150100bbbb")
    assert again.orders == []


def test_portfolios_net_into_one_order_per_symbol_and_split_fills_exactly(
    store: Store, clock: FakeClock
) -> None:
    _setup(store, clock, a=10_000, b=10_000, c=3_000)
    store.append_fills(
        [
            __import__("pas.models", fromlist=["Fill"]).Fill(
                "b", "AAA", Side.BUY, D(400), D(10), clock(), "seed-b"
            )
        ]
    )
    sim = SimBroker(store)
    sim.store.sim_add_order(
        Order("seed", "seed", "AAA", Side.BUY, D(400), D(400), D(10), OrderStatus.FILLED, clock())
    )
    store.sim_add_fill(BrokerFill("seed-1", "seed", "AAA", Side.BUY, D(400), D(10), clock()))
    _weights(store, clock, "a", AAA=0.3)  # buys 300
    _weights(store, clock, "b", AAA=0.1)  # holds 400 of equity 10000 -> sells 300 (to 100)
    _weights(store, clock, "c", AAA=0.5)  # buys 150
    out = _run(store, sim, ["a", "b", "c"])
    (order,) = out.orders
    assert order.client_order_id == "pas-260105150000aaaa-net-AAA"
    assert order.side is Side.BUY and order.qty == 150 * 10**9
    assert store.holdings("a") == {"AAA": D(300)}
    assert store.holdings("b") == {"AAA": D(100)}
    assert store.holdings("c") == {"AAA": D(150)}
    assert len(sim.list_orders("all")) == 2  # the seed and one netted order
    assert reconcile_ledgers(store, sim)[1] == []


class CrashAfterFirstSubmit(SimBroker):
    """Sends the first order, then dies before pas can record that it did."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.sent: list[str] = []

    def submit_order(self, request: OrderRequest) -> Order:
        order = super().submit_order(request)
        self.sent.append(request.client_order_id)
        if len(self.sent) == 1:
            raise KeyboardInterrupt("simulated crash")
        return order


def test_a_crashed_run_resumes_without_sending_an_order_twice(store: Store, clock: FakeClock) -> None:
    _setup(store, clock, a=10_000)
    _weights(store, clock, "a", AAA=0.4, BBB=0.4)
    crashing = CrashAfterFirstSubmit(store)
    with pytest.raises(KeyboardInterrupt):
        _run(store, crashing, ["a"], owner="test:1")
    store.release_lock("trading", "test:1")  # what the dead-process takeover does
    honest = CrashAfterFirstSubmit(store)
    honest.sent.append("already")  # never crash again
    clock.advance(300)  # the next run starts five minutes later
    out = _run(store, honest, ["a"], run_id="260105150500cccc")
    # The order in flight is found and settled; the unsent rest is dropped and planned
    # afresh by the new run, never sent under the old run's id.
    assert out.resumed and out.run_id == "260105150500cccc"
    assert out.notes == [
        "resumed unfinished run 260105150000aaaa (a): 1 order(s) in flight are looked up and settled, "
        "1 unsent one(s) dropped; the plan is made afresh"
    ]
    assert honest.sent == ["already", "pas-260105150500cccc-a-BBB"]
    coids = [o.client_order_id for o in SimBroker(store).list_orders("all")]
    assert sorted(coids) == ["pas-260105150000aaaa-a-AAA", "pas-260105150500cccc-a-BBB"]
    assert [o.status for o in store.trade_orders("260105150000aaaa")] == [
        TradeOrderStatus.SETTLED,
        TradeOrderStatus.DROPPED,
    ]
    assert store.holdings("a") == {"AAA": D(400), "BBB": D(200)}


class FlakySubmit(SimBroker):
    """Accepts the order but answers with an error, as a timeout or a 5xx would."""

    def submit_order(self, request: OrderRequest) -> Order:
        super().submit_order(request)
        raise PasError("the broker answered 504 Gateway Timeout")


def test_an_error_from_submit_is_looked_up_not_resent(store: Store, clock: FakeClock) -> None:
    _setup(store, clock, a=10_000)
    _weights(store, clock, "a", AAA=0.4)
    out = _run(store, FlakySubmit(store), ["a"])
    assert [o.status for o in out.orders] == [TradeOrderStatus.SETTLED]
    assert store.holdings("a") == {"AAA": D(400)}


class Rejecting(SimBroker):
    def submit_order(self, request: OrderRequest) -> Order:
        raise OrderRejected("insufficient buying power", 403, "insufficient buying power", "buying_power")


def test_a_rejected_order_is_marked_failed(store: Store, clock: FakeClock) -> None:
    _setup(store, clock, a=10_000)
    _weights(store, clock, "a", AAA=0.4)
    out = _run(store, Rejecting(store), ["a"])
    assert [(o.status, o.error) for o in out.orders] == [
        (TradeOrderStatus.FAILED, "insufficient buying power")
    ]
    assert out.notes == ["buy AAA failed: insufficient buying power"]


class PartialFills(SimBroker):
    """Fills each order in chunks of ``chunk`` shares, one per look at it, as a thin market would."""

    def __init__(self, store: Store, clock: FakeClock, chunk: Decimal) -> None:
        super().__init__(store)
        self.clock_ = clock
        self.chunk = chunk
        self.held: list[Order] = []

    def submit_order(self, request: OrderRequest) -> Order:
        order = Order(
            f"o-{request.client_order_id}", request.client_order_id, request.symbol, request.side,
            request.qty, D(0), None, OrderStatus.NEW, self.clock_(),
        )  # fmt: skip
        self.store.sim_add_order(order)
        return order

    def _fill_pending(self) -> None:
        pass

    def get_order(self, order_id: str) -> Order:
        self._fill_chunk()
        return super().get_order(order_id)

    def _fill_chunk(self) -> None:
        for order in self.store.sim_orders():
            if order.status.terminal:
                continue
            qty = min(self.chunk, order.qty - order.filled_qty)
            n = len([f for f in self.store.sim_fills() if f.order_id == order.id])
            self.store.sim_add_fill(
                BrokerFill(f"{order.id}-{n}", order.id, order.symbol, order.side, qty, D(10), self.clock_())
            )
            filled = order.filled_qty + qty
            status = OrderStatus.FILLED if filled == order.qty else OrderStatus.PARTIALLY_FILLED
            self.store.sim_save_order(
                replace(order, filled_qty=filled, filled_avg_price=D(10), status=status)
            )
            self.clock_.advance(0.1)


def test_partial_fills_are_recorded_as_they_come_and_sync_records_the_rest(
    store: Store, clock: FakeClock
) -> None:
    _setup(store, clock, a=10_000, b=5_000)
    _weights(store, clock, "a", AAA=0.3)  # 300 shares
    _weights(store, clock, "b", AAA=0.2)  # 100 shares
    broker = PartialFills(store, clock, D(70))

    def sleep(seconds: float) -> None:
        clock.advance(seconds)

    out = _run(store, broker, ["a", "b"], timeout_sec=2.5, sleep=sleep)
    assert out.timed_out
    got = store.holdings("a")["AAA"] + store.holdings("b")["AAA"]
    assert 0 < got < 400
    assert store.holdings("a")["AAA"] <= 300 and store.holdings("b")["AAA"] <= 100
    first = sync_fills(store, broker)
    assert first.checked == 1
    while sync_fills(store, broker).still_open:
        pass
    assert store.holdings("a") == {"AAA": D(300)}
    assert store.holdings("b") == {"AAA": D(100)}
    assert sync_fills(store, broker).checked == 0
    assert reconcile_ledgers(store, broker)[1] == []
    for p in ("a", "b"):  # the positions kept as fills came are those of the ledger (issue 18)
        assert store.ledger_fold(p) == LedgerFold().add(store.ledger(p))


def test_a_limit_buy_is_held_to_max_order_notional_at_its_limit(store: Store, clock: FakeClock) -> None:
    # A marketable limit buy may fill up to its limit (the reference moved by the collar):
    # $6,000 at the reference is up to $6,600 at the 10% collar's limit.
    _setup(store, clock, a=10_000)
    _weights(store, clock, "a", AAA=0.6)
    capped = replace(LIMITS, max_order_notional=D(6_300))
    with pytest.raises(
        RefusedError,
        match=r"^the order to buy 600 AAA \(up to \$6,600.00 at its limit \$11.00\) is above",
    ):
        run_rebalance(store, SimBroker(store), store.list_portfolios(), capped, run_id="x" * 16, sleep=print)
    market = replace(capped, limit_orders=False)
    out = run_rebalance(
        store,
        SimBroker(store),
        store.list_portfolios(),
        market,
        run_id=new_run_id(clock()),
        sleep=clock.advance,
    )
    assert [(o.symbol, o.qty) for o in out.orders] == [("AAA", 600 * UNITS_PER_ONE)]


def test_pre_trade_checks_refuse(store: Store, clock: FakeClock) -> None:
    _setup(store, clock, a=10_000)
    _weights(store, clock, "a", AAA=0.6)
    closed = SimBroker(store, market="closed")
    with pytest.raises(RefusedError, match=r"^the market is closed .*pass --queue"):
        _run(store, closed, ["a"])
    with pytest.raises(RefusedError, match=r"above MAX_POSITION_WEIGHT \(50.0%\); lower its target weight$"):
        run_rebalance(
            store, SimBroker(store), store.list_portfolios(), TradingLimits(), run_id="x" * 16, sleep=print
        )
    small = replace(LIMITS, max_order_notional=D(1000))
    with pytest.raises(
        RefusedError,
        match=r"^the order to buy 600 AAA \(up to \$6,600.00 at its limit \$11.00\) is above",
    ):
        run_rebalance(store, SimBroker(store), store.list_portfolios(), small, run_id="x" * 16, sleep=print)

    class Untradable(SimBroker):
        def asset(self, symbol: str) -> Asset:
            return Asset(symbol, tradable=False, fractionable=False)

    with pytest.raises(RefusedError, match=r"^AAA cannot be traded at the broker"):
        _run(store, Untradable(store), ["a"])
    assert store.unfinished_trade_run("sim") is None
    assert SimBroker(store).list_orders("all") == []


def test_queued_orders_fill_when_the_market_opens(store: Store, clock: FakeClock) -> None:
    _setup(store, clock, a=10_000)
    _weights(store, clock, "a", AAA=0.4)
    clock.now = clock.now.replace(day=10)  # a Saturday
    out = _run(store, SimBroker(store), ["a"], queue=True, timeout_sec=0)
    assert out.timed_out and store.holdings("a") == {}
    clock.now = clock.now.replace(day=12)  # Monday
    assert sync_fills(store, SimBroker(store)).fills_recorded == 1
    assert store.holdings("a") == {"AAA": D(400)}


def test_a_second_run_waits_for_the_lock_and_a_dead_holder_is_taken_over(
    store: Store, clock: FakeClock
) -> None:
    _setup(store, clock, a=10_000)
    _weights(store, clock, "a", AAA=0.4)
    assert store.acquire_lock("trading", "elsewhere:1", 60)
    with pytest.raises(LockHeldError, match=r"^another trading run \(elsewhere:1\) holds the trading lock"):
        _run(store, SimBroker(store), ["a"])
    store.release_lock("trading", "elsewhere:1")
    import socket

    assert store.acquire_lock("trading", f"{socket.gethostname()}:999999999", 60)
    _run(store, SimBroker(store), ["a"])
    assert store.lock_owner("trading") is None


def test_a_lock_whose_lease_expired_is_taken_over_and_the_run_names_its_holder(
    store: Store, clock: FakeClock
) -> None:
    _setup(store, clock, a=10_000)
    _weights(store, clock, "a", AAA=0.4)
    assert store.acquire_lock("trading", "host-a:4242", 60)  # a host that went away
    clock.advance(61)
    out = _run(store, SimBroker(store), ["a"], owner="host-b:7")
    assert out.notes[0] == (
        "took over the trading lock from host-a:4242, whose lease expired at 2026-01-05 15:01:00 UTC "
        "and is presumed dead; what that run left in flight is settled before anything new is planned"
    )
    assert store.holdings("a") == {"AAA": D(400)}


def test_a_run_that_lost_its_lock_to_another_host_sends_nothing_more(store: Store, clock: FakeClock) -> None:
    """This run's lease ran out while it was between two orders (its host was suspended or
    cut off from the store) and host-b took the lock: sending the rest would trade twice."""
    _setup(store, clock, a=10_000)
    _weights(store, clock, "a", AAA=0.4, BBB=0.4)

    def taken_over(order: object, placed: object) -> None:
        clock.advance(LOCK_SLACK_SEC + 61)
        assert store.acquire_lock("trading", "host-b:7", 600), "host-b takes the expired lease"

    with pytest.raises(
        LockLostError, match=r"^this trading run \(host-a:1\) lost the trading lock to host-b:7"
    ):
        _run(store, SimBroker(store), ["a"], owner="host-a:1", after_submit=taken_over, timeout_sec=60)
    sent = [o.client_order_id for o in SimBroker(store).list_orders("all")]
    assert sent == ["pas-260105150000aaaa-a-AAA"], "the second order was never sent"
    assert store.lock_owner("trading") == "host-b:7", "the loser never releases the winner's lock"


def test_no_targets_or_no_capital_is_an_input_error(store: Store, clock: FakeClock) -> None:
    _setup(store, clock)
    store.add_portfolio(Portfolio("a", "manual", Schedule.WEEKLY, clock(), broker="sim"))
    with pytest.raises(InputError, match=r"^portfolio a has no target weights; set them with"):
        _run(store, SimBroker(store), ["a"])
    _weights(store, clock, "a", AAA=0.4)
    with pytest.raises(
        InputError, match=r"^portfolio a has no capital; give it some with `pas portfolio fund a"
    ):
        _run(store, SimBroker(store), ["a"])


def test_dry_run_stores_and_sends_nothing(store: Store, clock: FakeClock) -> None:
    _setup(store, clock, a=10_000)
    _weights(store, clock, "a", AAA=0.4)
    out = _run(store, SimBroker(store), ["a"], dry_run=True)
    assert out.dry_run and [o.symbol for o in out.orders] == ["AAA"]
    assert store.trade_orders() == [] and SimBroker(store).list_orders("all") == []


def test_unsettled_orders_of_an_earlier_run_block_a_new_plan(store: Store, clock: FakeClock) -> None:
    _setup(store, clock, a=10_000)
    _weights(store, clock, "a", AAA=0.4)
    clock.now = clock.now.replace(day=10)
    _run(store, SimBroker(store), ["a"], queue=True, timeout_sec=0)
    with pytest.raises(
        RefusedError, match=r"^1 order\(s\) of run 260105150000aaaa are still open at the broker"
    ):
        _run(store, SimBroker(store), ["a"], run_id="260110150000dddd", queue=True)


def test_every_poll_renews_the_trading_lock_so_a_slow_poll_keeps_it(store: Store, clock: FakeClock) -> None:
    # Issue 12: "keep the trading lock alive during long waits". A poll can wait minutes
    # through a broker's retries; the lease is renewed at every poll, so another host
    # never takes over a run that is still waiting for its fills.
    _setup(store, clock, a=10_000)
    _weights(store, clock, "a", AAA=0.4)
    stolen = []

    class SlowPolls(SimBroker):
        calls = 0

        def get_order(self, order_id: str) -> Order:
            SlowPolls.calls += 1
            if SlowPolls.calls == 3:  # the second poll (the first call is the submit's own)
                clock.advance(LOCK_SLACK_SEC + 150)  # retries that took more than the slack
                if store.acquire_lock("trading", "host-b:7", 60):
                    stolen.append(clock())
            return super().get_order(order_id)

    broker = SlowPolls(store, market="closed")  # the order waits: the run polls it
    out = _run(
        store, broker, ["a"], owner="host-a:1", queue=True, timeout_sec=200, poll_sec=100, sleep=clock.advance
    )
    assert SlowPolls.calls >= 3 and out.timed_out
    assert stolen == [], "host-b took the lock of a run still waiting"
