"""Errors a broker raises. Each carries the HTTP status and the broker's own message.

Messages are one line naming the fix; they never contain keys or secrets.
"""

from __future__ import annotations

from pas.errors import EXIT_USAGE, PasError


class BrokerError(PasError):
    """The broker failed or refused a request.

    Attributes:
        status: the HTTP status, or None when no answer came (timeout, connection error).
        broker_message: the broker's own explanation, as it sent it.
    """

    def __init__(self, message: str, status: int | None = None, broker_message: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.broker_message = broker_message


class BrokerAuthError(BrokerError):
    """The broker refused the credentials: a setting to fix, hence exit code 2."""

    exit_code = EXIT_USAGE


class OrderRejected(BrokerError):
    """The broker refused an order (buying power, wash trade, invalid order...).

    Attributes:
        reason: ``"buying_power"``, ``"wash_trade"``, ``"insufficient_qty"``,
            ``"duplicate"``, ``"rate_limited"`` or ``"invalid"``.
    """

    def __init__(self, message: str, status: int | None, broker_message: str, reason: str) -> None:
        super().__init__(message, status, broker_message)
        self.reason = reason


class OrderOutcomeUnknown(BrokerError):
    """An order POST got no usable answer and the look-up did not settle it: the order may
    or may not exist at the broker.

    Its fate is unknown, never "not placed": the order must not be sent again; it is
    looked up by its client order id later (``pas sync``, the next ``pas rebalance``).
    """
