"""Positions kept as fills are written: each portfolio's ledger folded (``ledger_folds``).

The MongoDB side of :mod:`pas.store.sqlite.folds`. A standalone server has no
multi-document transactions, so a fold written after its fills can be missing or behind
(a crash between the two, two writers at once, a database from before this collection).
Every read checks it against the ledger instead: the document names how many fills it
folded and the last one, in the ledger's order (``ts``, then ``seq``); the fills after
that one are folded in when the folded count and theirs add up to the ledger's count,
and the ledger is folded again from its first fill when they do not. Fills are only ever
added (a removed portfolio loses all of them, and its document), so equal counts mean the
same fills. A document is replaced only if it is still the one read, so a slower writer
never puts back an older fold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from pas.store.rules import LedgerFold

if TYPE_CHECKING:
    from pas.store.mongo.store import MongoCore

_ORDER = [("ts", 1), ("seq", 1)]
_READ = {"_id": 0, "symbol": 1, "side": 1, "qty_n": 1, "price_n": 1, "commission_n": 1, "ts": 1, "seq": 1}


def current_fold(store: MongoCore, portfolio: str) -> LedgerFold:
    """The portfolio's fold, checked against its ledger and brought up to date (written
    back when it was missing or behind)."""
    folds, fills = store._collection("ledger_folds"), store._collection("fills")
    doc = folds.find_one({"_id": portfolio})
    if doc is not None:
        mark = (doc["last_ts"], doc["last_seq"])
        later = [
            d
            for d in fills.find({"portfolio": portfolio, "ts": {"$gte": mark[0]}}, _READ).sort(_ORDER)
            if (d["ts"], d["seq"]) > mark
        ]
        if doc["fills"] + len(later) == fills.count_documents({"portfolio": portfolio}):
            fold = LedgerFold.from_json(doc["fold"]).add(_entries(later))
            if later:
                _save(store, portfolio, doc, doc["fills"] + len(later), later[-1], fold)
            return fold
    ledger = list(fills.find({"portfolio": portfolio}, _READ).sort(_ORDER))
    fold = LedgerFold().add(_entries(ledger))
    if ledger:
        _save(store, portfolio, doc, len(ledger), ledger[-1], fold)
    return fold


def _entries(docs: Iterable[Mapping[str, Any]]) -> Iterable[tuple[str, int, int, int]]:
    for d in docs:
        yield d["symbol"], d["qty_n"] if d["side"] == "buy" else -d["qty_n"], d["price_n"], d["commission_n"]


def _save(
    store: MongoCore,
    portfolio: str,
    read: Mapping[str, Any] | None,
    count: int,
    last: Mapping[str, Any],
    fold: LedgerFold,
) -> None:
    """Writes the fold unless another writer changed the document since it was ``read``
    (its fold is then as good or newer, or the next read folds again)."""
    from pymongo.errors import DuplicateKeyError

    folds = store._collection("ledger_folds")
    doc = {
        "_id": portfolio,
        "portfolio": portfolio,
        "fills": count,
        "last_ts": last["ts"],
        "last_seq": last["seq"],
        "fold": fold.to_json(),
    }
    if read is None:
        with suppress(DuplicateKeyError):  # another writer's, as good or newer
            folds.insert_one(doc)
    else:
        folds.replace_one({"_id": portfolio, "fills": read["fills"], "last_seq": read["last_seq"]}, doc)
