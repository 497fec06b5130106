"""Values the store contract tests build, shared by the modules of ``tests/store``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from pas.models import Fill, Portfolio, Schedule, Side, TradeOrder, TradeOrderStatus

T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


def portfolio(pid: str = "alpha", capital: str | None = "10000") -> Portfolio:
    return Portfolio(
        id=pid,
        strategy="manual",
        schedule=Schedule.WEEKLY,
        created_at=T0,
        capital=None if capital is None else Decimal(capital),
        params={"top_n": 15, "label": "x"},
    )


def fill(n: int, pid: str = "alpha", symbol: str = "AAPL", side: Side = Side.BUY, qty: str = "1") -> Fill:
    return Fill(
        portfolio=pid,
        symbol=symbol,
        side=side,
        qty=Decimal(qty),
        price=Decimal("100.5"),
        ts=T0 + timedelta(minutes=n),
        fill_id=f"f{n}",
        commission=Decimal("0.01"),
    )


def trade_order(coid: str, seq: int, status: TradeOrderStatus = TradeOrderStatus.PLANNED) -> TradeOrder:
    return TradeOrder(
        run_id="r1",
        client_order_id=coid,
        seq=seq,
        symbol="AAA",
        side=Side.BUY,
        qty=5 * 10**9,
        ref_price=Decimal("10.5"),
        fractionable=True,
        shares=(("a", 3 * 10**9), ("b", 2 * 10**9)),
        crosses=(("c", -(10**9)), ("a", 10**9)),
        status=status,
    )
