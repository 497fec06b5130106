"""Positions kept as fills are written: each portfolio's ledger folded (``ledger_folds``).

Average cost depends on the order of the fills, so positions cannot be a ``GROUP BY``;
folding a portfolio's whole ledger on every read cost ``pas positions`` 0.12 s for 50,000
fills. The fold is kept instead, one row per portfolio, written in the transaction that
writes its fills: fills later than the last one folded (in the ledger's order, ``ts``
then ``id``) continue it; a fill that sorts before it (an import or a sync of older
fills) folds the ledger again from the first fill. A removed portfolio's row goes with
its fills (:data:`pas.store.cascade.OWNED_BY_PORTFOLIO`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from pas.store.interfaces import LedgerRow
from pas.store.rules import LedgerFold

# The ledger's entries in the fold's order. The planner has been seen to pick
# fills_by_symbol and sort instead (145 ms against 34 on a 1M-fill ledger), so the
# covering index is named.
LEDGER_SQL = (
    "SELECT symbol, CASE side WHEN 'buy' THEN qty_n ELSE -qty_n END, price_n, commission_n"
    " FROM fills INDEXED BY fills_ledger WHERE portfolio = ? ORDER BY ts, id"
)


def last_fill_id(db: sqlite3.Connection) -> int:
    """The greatest fill row id (0 without fills): fills inserted after this call get
    greater ones, since SQLite gives a new row the greatest id plus one."""
    (last,) = db.execute("SELECT COALESCE(MAX(id), 0) FROM fills").fetchone()
    return int(last)


def fold_fills_after(db: sqlite3.Connection, after_id: int) -> None:
    """Folds the fills inserted after row ``after_id`` into their portfolios' rows, inside
    the caller's write transaction."""
    new: dict[str, list[tuple[str, int, int, int, str, int]]] = {}
    for portfolio, *row in db.execute(
        "SELECT portfolio, symbol, CASE side WHEN 'buy' THEN qty_n ELSE -qty_n END, price_n,"
        " commission_n, ts, id FROM fills WHERE id > ? ORDER BY portfolio, ts, id",
        (after_id,),
    ):
        new.setdefault(portfolio, []).append(tuple(row))
    for portfolio, rows in new.items():
        stored = db.execute(
            "SELECT fills, last_ts, fold FROM ledger_folds WHERE portfolio = ?", (portfolio,)
        ).fetchone()
        # New rows have greater ids than every stored one, so they continue the fold unless
        # one is older than the last fill folded.
        if stored is not None and rows[0][4] >= stored[1]:
            fold = LedgerFold.from_json(stored[2]).add(r[:4] for r in rows)
            _save(db, portfolio, stored[0] + len(rows), rows[-1][4], rows[-1][5], fold)
        else:
            refold(db, portfolio)


def refold(db: sqlite3.Connection, portfolio: str) -> None:
    """Folds a portfolio's whole ledger into its row (none when it has no fill)."""
    ledger: Sequence[LedgerRow] = db.execute(LEDGER_SQL, (portfolio,)).fetchall()
    if not ledger:
        db.execute("DELETE FROM ledger_folds WHERE portfolio = ?", (portfolio,))
        return
    last_ts, last_id = db.execute(
        "SELECT ts, id FROM fills WHERE portfolio = ? ORDER BY ts DESC, id DESC LIMIT 1", (portfolio,)
    ).fetchone()
    _save(db, portfolio, len(ledger), last_ts, last_id, LedgerFold().add(ledger))


def refold_all(db: sqlite3.Connection) -> None:
    """Folds every portfolio's ledger (the migration that brings in ``ledger_folds``)."""
    for (portfolio,) in db.execute("SELECT DISTINCT portfolio FROM fills").fetchall():
        refold(db, portfolio)


def stored_fold(db: sqlite3.Connection, portfolio: str) -> LedgerFold | None:
    """The portfolio's kept fold; None when it has none (it has no fill)."""
    row = db.execute("SELECT fold FROM ledger_folds WHERE portfolio = ?", (portfolio,)).fetchone()
    return None if row is None else LedgerFold.from_json(row[0])


def _save(
    db: sqlite3.Connection, portfolio: str, fills: int, last_ts: str, last_id: int, fold: LedgerFold
) -> None:
    db.execute(
        "INSERT OR REPLACE INTO ledger_folds (portfolio, fills, last_ts, last_id, fold)"
        " VALUES (?, ?, ?, ?, ?)",
        (portfolio, fills, last_ts, last_id, fold.to_json()),
    )
