"""Every query of the store once, over a little data: what the index check watches."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from pas.models import DailyMetric, Price, TradeRun
from pas.store.base import Store
from tests.conftest import FakeClock
from tests.store.builders import T0, fill, portfolio, trade_order


def run_workload(store: Store, clock: FakeClock) -> None:
    """Writes a little of each aggregate, then asks every read the interfaces have."""
    day = date(2026, 1, 5)
    store.add_portfolio(portfolio("alpha"))
    store.append_fills([fill(n) for n in range(3)])
    store.upsert_prices(
        [Price(s, day + timedelta(days=n), Decimal(10 + n)) for s in ("A", "B") for n in range(3)]
    )
    store.put_daily_metrics([DailyMetric("alpha", day, 0.01, Decimal(100), None, "ledger")])
    store.create_trade_run(TradeRun("r1", T0, "sim", ("alpha",)), [trade_order("c1", 0)])
    store.list_portfolios()
    store.weights_history("alpha", limit=5)
    store.current_weights("alpha")
    store.fills("alpha")
    store.fills("alpha", since=T0, symbol="AAPL", limit=2)
    store.ledger("alpha")
    store.holdings("alpha")
    store.fills_of_order("B1")
    store.cash_flows("alpha")
    store.unfinished_trade_run("sim")
    store.trade_orders("r1")
    store.trade_orders(unsettled=True)
    store.sim_orders()
    store.sim_orders(open_only=True)
    store.sim_orders(after=T0)
    store.sim_fills(after=T0)
    store.latest_prices(["A", "B"], on_or_before=day + timedelta(days=1))
    store.latest_prices(["A"])
    store.price_history(["A", "B"], day, day + timedelta(days=2))
    store.records("lobbying")
    store.records("lobbying", as_of=T0, ticker="AAPL", since=T0 - timedelta(days=9))
    store.newest_records("lobbying", 10)
    store.newest_records("lobbying", 10, tickers=["AAPL", "MSFT"], since=T0)
    store.count_records("lobbying", tickers=["AAPL"], since=T0)
    store.latest_public_at("lobbying")
    store.daily_metrics("alpha", day, day)
    store.trailing_stats("alpha", "63", day)
    store.allocation_history(limit=3)
    store.latest_allocation(day)
    store.recent_runs(5)
    clock.advance(1)
