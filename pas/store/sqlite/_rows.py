"""Row (document) conversions shared by several aggregates of this backend."""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING, Any

from pas.models import Side, TradeOrderStatus, TradeRunStatus, from_units, parse_ts

if TYPE_CHECKING:
    from pas.models import AppliedAllocation, TradeOrder, TradeRun

_TRADE_ORDER_COLUMNS = (
    "run_id, client_order_id, seq, symbol, side, qty_n, ref_price_n, fractionable, shares, crosses,"
    " status, broker_order_id, broker_status, error, sent_at"
)


def _trade_run(row: tuple[Any, ...]) -> TradeRun:
    from pas.models import TradeRun  # loaded at first use (pas.history)

    run_id, created, broker, portfolios, status = row
    return TradeRun(run_id, parse_ts(created), broker, tuple(json.loads(portfolios)), TradeRunStatus(status))


def _allocation(row: tuple[Any, ...]) -> AppliedAllocation:
    from pas.models import AppliedAllocation

    day, applied_at, method, exposure, vol, weights = row
    return AppliedAllocation(
        date.fromisoformat(day), parse_ts(applied_at), method, dict(json.loads(weights)), exposure, vol
    )


def _trade_order(row: tuple[Any, ...]) -> TradeOrder:
    from pas.models import TradeOrder

    (run_id, coid, seq, symbol, side, qty, ref, frac, shares, crosses, status, boid, bstatus, error, sent) = (
        row
    )
    return TradeOrder(
        run_id=run_id,
        client_order_id=coid,
        seq=seq,
        symbol=symbol,
        side=Side(side),
        qty=qty,
        ref_price=from_units(ref),
        fractionable=bool(frac),
        shares=tuple((p, int(u)) for p, u in json.loads(shares)),
        crosses=tuple((p, int(u)) for p, u in json.loads(crosses)),
        status=TradeOrderStatus(status),
        broker_order_id=boid,
        broker_status=bstatus,
        error=error,
        sent_at=parse_ts(sent) if sent else None,
    )
