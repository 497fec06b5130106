"""The full store: the union of the aggregates' interfaces, plus its lifecycle.

Methods are named after what the domain needs, not after a query language. Both
backends honour the same contract, checked by the modules of ``tests/store``:

- recording the same fill (same ``fill_id``) twice keeps one copy;
- a batch of fills is validated before anything is written;
- a lock is held by one owner at a time until released or expired;
- lists come back in a stable, documented order;
- removing a portfolio leaves nothing of it behind (:mod:`pas.store.cascade`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager

from pas.clock import Clock, system_clock
from pas.store.interfaces import (
    ControlStore,
    PerformanceStore,
    PortfolioStore,
    PriceStore,
    RecordStore,
    SimBook,
    TradingStore,
)
from pas.store.rules import LedgerFold


class Store(
    PortfolioStore,
    TradingStore,
    SimBook,
    PriceStore,
    RecordStore,
    PerformanceStore,
    ControlStore,
    ABC,
):
    """A pas store. Obtain one with :func:`pas.store.open_store`."""

    backend: str
    """``"sqlite"`` or ``"mongo"``."""

    def __init__(self, clock: Clock = system_clock) -> None:
        self.clock = clock

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @abstractmethod
    def close(self) -> None:
        """Releases the connection."""

    @abstractmethod
    def describe(self) -> str:
        """Where the data lives, for humans (no secrets)."""

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Many writes at once: the SQLite backend makes them one transaction; elsewhere
        each write stays its own."""
        yield

    def ledger_fold(self, portfolio_id: str) -> LedgerFold:
        """The portfolio's :meth:`ledger` folded into positions (:class:`LedgerFold`);
        the caller reads it and never changes it."""
        return LedgerFold().add(self.ledger(portfolio_id))
