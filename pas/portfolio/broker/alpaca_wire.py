"""Alpaca's wire formats: answers parsed into pas's value objects, requests formatted.

Money in trading answers is JSON strings; in data answers JSON numbers, parsed as
:class:`~decimal.Decimal` by the caller so no close goes through a float. A field that is
missing or malformed raises :class:`~pas.portfolio.broker.errors.BrokerError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import requests

from pas.domain.broker import BrokerFill, Order, OrderStatus
from pas.models import Side, utc
from pas.portfolio.broker.errors import BrokerError

# Phrases of Alpaca's refusals, mapped to OrderRejected.reason.
_REJECT_REASONS = (
    ("client_order_id must be unique", "duplicate"),
    ("wash trade", "wash_trade"),
    ("buying power", "buying_power"),
    ("insufficient qty", "insufficient_qty"),
)


def alpaca_message(response: requests.Response) -> str:
    """The ``message`` of an error answer, else its HTTP reason phrase."""
    try:
        data = response.json()
    except ValueError:
        return (response.reason or "no message").strip()
    if isinstance(data, Mapping) and data.get("message"):
        return str(data["message"])
    return (response.reason or "no message").strip()


# Alpaca's answer (HTTP 403; 422 has been seen too) when the market data subscription does
# not cover the feed asked for, e.g. a free plan asking for the last 15 minutes of SIP:
# {"message": "subscription does not permit querying recent SIP data"}.
FEED_REFUSAL = "subscription does not permit"


def is_feed_refusal(message: str) -> bool:
    """True when an error message is Alpaca's refusal of a data feed the plan lacks."""
    return FEED_REFUSAL in message.lower()


def order_refusal(message: str) -> str | None:
    """The :attr:`OrderRejected.reason` a refusal's message names, None if none."""
    lowered = message.lower()
    for phrase, reason in _REJECT_REASONS:
        if phrase in lowered:
            return reason
    return None


def malformed(where: str, status: int = 200) -> BrokerError:
    """The error for an answer to ``where`` that is not what Alpaca documents."""
    return BrokerError(
        f"Alpaca answered {where} with a malformed body (HTTP {status}); try again later", status
    )


def as_list(data: Any, where: str) -> list[Mapping[str, Any]]:
    """A JSON list answer (empty for no body)."""
    if data is None:
        return []
    if not isinstance(data, list):
        raise malformed(where)
    return data


def decimal_field(data: Mapping[str, Any], key: str) -> Decimal:
    """A required number (JSON string or number) as an exact Decimal."""
    raw = data.get(key) if isinstance(data, Mapping) else None
    if raw is None:
        raise BrokerError(f"Alpaca's answer lacks {key!r}; try again later")
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise BrokerError(f"Alpaca sent {key}={raw!r}, not a number; try again later") from None
    return value


def optional_decimal_field(data: Mapping[str, Any], key: str) -> Decimal | None:
    """A number that may be null, as an exact Decimal."""
    return None if data.get(key) is None else decimal_field(data, key)


def time_field(data: Mapping[str, Any], key: str) -> datetime:
    """A required RFC 3339 time, in UTC."""
    raw = data.get(key) if isinstance(data, Mapping) else None
    try:
        return utc(datetime.fromisoformat(str(raw).replace("Z", "+00:00")))
    except ValueError:
        raise BrokerError(f"Alpaca sent {key}={raw!r}, not an RFC 3339 time; try again later") from None


def order_status(raw: str) -> tuple[OrderStatus, str]:
    """Alpaca's order status, and the raw string when pas does not recognise it.

    Every status Alpaca documents is an :class:`OrderStatus`. Any other string (one Alpaca
    may add later) is :attr:`OrderStatus.UNRECOGNISED`: open, so pas keeps looking and the
    order is never taken for failed; the trading run warns about it by name.
    """
    if raw != OrderStatus.UNRECOGNISED.value:
        try:
            return OrderStatus(raw), ""
        except ValueError:
            pass
    return OrderStatus.UNRECOGNISED, raw


def order_side(raw: str) -> Side:
    """Alpaca's side as the ledger's."""
    # A short sale ("sell_short") is a sell for the ledger.
    return Side.BUY if raw == "buy" else Side.SELL


def parse_order(data: Any) -> Order:
    """An order answer."""
    if not isinstance(data, Mapping) or "id" not in data:
        raise malformed("an order")
    status, status_text = order_status(str(data["status"]))
    return Order(
        id=str(data["id"]),
        client_order_id=str(data.get("client_order_id") or ""),
        symbol=str(data["symbol"]),
        side=order_side(str(data["side"])),
        qty=optional_decimal_field(data, "qty") or Decimal(0),
        filled_qty=optional_decimal_field(data, "filled_qty") or Decimal(0),
        filled_avg_price=optional_decimal_field(data, "filled_avg_price"),
        status=status,
        submitted_at=time_field(data, "submitted_at") if data.get("submitted_at") else None,
        status_text=status_text,
        limit_price=optional_decimal_field(data, "limit_price"),
        time_in_force=str(data.get("time_in_force") or "day"),
    )


def parse_fill(data: Mapping[str, Any]) -> BrokerFill:
    """A FILL account activity."""
    return BrokerFill(
        id=str(data["id"]),
        order_id=str(data["order_id"]),
        symbol=str(data["symbol"]),
        side=order_side(str(data["side"])),
        qty=decimal_field(data, "qty"),
        price=decimal_field(data, "price"),
        ts=time_field(data, "transaction_time"),
    )


def qty_param(qty: Decimal) -> str:
    """A quantity as Alpaca wants it: a plain decimal string, no exponent."""
    text = f"{qty:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def time_param(ts: datetime) -> str:
    """A time as Alpaca's query parameters want it: RFC 3339 in UTC, ``Z``."""
    return utc(ts).isoformat().replace("+00:00", "Z")
