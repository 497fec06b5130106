"""The embedded store: one SQLite file, safe for several cron jobs at once.

WAL mode lets readers run beside one writer; every read-modify-write runs in
``BEGIN IMMEDIATE`` so two processes never interleave inside one; the busy timeout makes
a second writer wait instead of failing. Quantities and money are integers of nano units.

One module per aggregate, each a mixin over :class:`~pas.store.sqlite.store.SqliteCore`
(the connection, its transactions and the schema); :class:`SqliteStore` composes them.
"""

from __future__ import annotations

from pas.store.sqlite.control import SqliteControl
from pas.store.sqlite.performance import SqlitePerformance
from pas.store.sqlite.portfolios import SqlitePortfolios
from pas.store.sqlite.prices import SqlitePrices
from pas.store.sqlite.records import SqliteRecords
from pas.store.sqlite.sim import SqliteSimBook
from pas.store.sqlite.trading import SqliteTrading

__all__ = ["SqliteStore"]


class SqliteStore(
    SqlitePortfolios,
    SqliteTrading,
    SqliteSimBook,
    SqlitePrices,
    SqliteRecords,
    SqlitePerformance,
    SqliteControl,
):
    """The embedded backend: every aggregate over one SQLite file."""
