"""The MongoDB backend (pymongo), used when ``MONGO_URI`` is set.

Unique indexes make recording idempotent, ``bulk_write`` upserts batch the writes,
``find_one_and_update`` takes locks atomically, and an aggregation pipeline sums
holdings in the server. Works unchanged against a replica set or Atlas, so several hosts
can run the crons against one database.

Documents never use symbols as field names (``BRK.B`` would be read as a path).

One module per aggregate, each a mixin over :class:`~pas.store.mongo.store.MongoCore`
(the client, error translation, indexes, counters and the ``_collection`` seam);
:class:`MongoStore` composes them.
"""

from __future__ import annotations

from pas.store.mongo.control import MongoControl
from pas.store.mongo.performance import MongoPerformance
from pas.store.mongo.portfolios import MongoPortfolios
from pas.store.mongo.prices import MongoPrices
from pas.store.mongo.records import MongoRecords
from pas.store.mongo.sim import MongoSimBook
from pas.store.mongo.trading import MongoTrading

__all__ = ["MongoStore"]


class MongoStore(
    MongoPortfolios,
    MongoTrading,
    MongoSimBook,
    MongoPrices,
    MongoRecords,
    MongoPerformance,
    MongoControl,
):
    """The MongoDB backend: every aggregate over one database.

    Args:
        client: a ``pymongo.MongoClient`` (or ``mongomock.MongoClient`` in tests).
        db_name: the database (``DB_NAME``).
        where: a description of the server for messages, without credentials.
        prefix: put before every collection's name (the backtest namespace).
        socket_timeout_sec: the client's socket timeout, named in a timeout's message.
    """
