"""Broker gateways: Alpaca over REST, and the embedded simulated broker."""

from pas.portfolio.broker.base import (
    Account,
    Asset,
    Broker,
    BrokerFill,
    BrokerPosition,
    MarketClock,
    Order,
    OrderRequest,
    OrderStatus,
)
from pas.portfolio.broker.errors import BrokerAuthError, BrokerError, OrderOutcomeUnknown, OrderRejected

__all__ = [
    "Account",
    "Asset",
    "Broker",
    "BrokerAuthError",
    "BrokerError",
    "BrokerFill",
    "BrokerPosition",
    "MarketClock",
    "Order",
    "OrderOutcomeUnknown",
    "OrderRejected",
    "OrderRequest",
    "OrderStatus",
]
