"""Row (document) conversions shared by several aggregates of this backend."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from pas.models import (
    AppliedAllocation,
    Side,
    TradeOrder,
    TradeOrderStatus,
    TradeRun,
    TradeRunStatus,
    format_ts,
    from_units,
    parse_ts,
    to_units,
)


def _trade_run(d: Mapping[str, Any]) -> TradeRun:
    return TradeRun(
        d["_id"], parse_ts(d["created_at"]), d["broker"], tuple(d["portfolios"]), TradeRunStatus(d["status"])
    )


def _weights_doc(allocation: AppliedAllocation) -> list[list[Any]]:
    return [[p, w] for p, w in sorted(allocation.weights.items())]


def _allocation(d: Mapping[str, Any]) -> AppliedAllocation:
    return AppliedAllocation(
        date.fromisoformat(d["as_of"]),
        parse_ts(d["applied_at"]),
        d["method"],
        {p: float(w) for p, w in d["weights"]},
        float(d["exposure"]),
        None if d.get("ex_ante_vol") is None else float(d["ex_ante_vol"]),
    )


def _trade_order_doc(o: TradeOrder) -> dict[str, Any]:
    return {
        "run_id": o.run_id,
        "client_order_id": o.client_order_id,
        "seq": o.seq,
        "symbol": o.symbol,
        "side": o.side.value,
        "qty_n": o.qty,
        "ref_price_n": to_units(o.ref_price),
        "fractionable": o.fractionable,
        "shares": [[p, u] for p, u in o.shares],
        "crosses": [[p, u] for p, u in o.crosses],
        "status": o.status.value,
        "broker_order_id": o.broker_order_id,
        "broker_status": o.broker_status,
        "error": o.error,
        "sent_at": format_ts(o.sent_at) if o.sent_at else "",
    }


def _trade_order(d: Mapping[str, Any]) -> TradeOrder:
    return TradeOrder(
        run_id=d["run_id"],
        client_order_id=d["client_order_id"],
        seq=int(d["seq"]),
        symbol=d["symbol"],
        side=Side(d["side"]),
        qty=int(d["qty_n"]),
        ref_price=from_units(int(d["ref_price_n"])),
        fractionable=bool(d["fractionable"]),
        shares=tuple((p, int(u)) for p, u in d["shares"]),
        crosses=tuple((p, int(u)) for p, u in d["crosses"]),
        status=TradeOrderStatus(d["status"]),
        broker_order_id=d.get("broker_order_id", ""),
        broker_status=d.get("broker_status", ""),
        error=d.get("error", ""),
        sent_at=parse_ts(d["sent_at"]) if d.get("sent_at") else None,
    )
