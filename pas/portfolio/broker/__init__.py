"""Broker gateways: Alpaca over REST, and the embedded simulated broker.

The value objects that cross a broker live in :mod:`pas.domain.broker`.
"""

from pas.portfolio.broker.base import Broker
from pas.portfolio.broker.errors import BrokerAuthError, BrokerError, OrderOutcomeUnknown, OrderRejected

__all__ = [
    "Broker",
    "BrokerAuthError",
    "BrokerError",
    "OrderOutcomeUnknown",
    "OrderRejected",
]
