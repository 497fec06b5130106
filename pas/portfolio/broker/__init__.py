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

__all__ = [
    "Account",
    "Asset",
    "Broker",
    "BrokerFill",
    "BrokerPosition",
    "MarketClock",
    "Order",
    "OrderRequest",
    "OrderStatus",
]
