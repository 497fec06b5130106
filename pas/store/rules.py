"""Semantics both backends share, as pure functions: how a batch of records compares
with what is stored, which field names records can be read as columns by, when a lock
may be taken, what the Sim book holds, how a ledger folds into positions, and how the
breaker's state is written as plain values."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pas.errors import InputError
from pas.models import UNITS_PER_ONE, format_ts, from_units, parse_ts

if TYPE_CHECKING:
    from pas.models import BreakerState
    from pas.records import Record, UpsertCounts
    from pas.store.interfaces import LedgerRow


@dataclass(frozen=True)
class RecordChanges:
    """What an upsert of a batch has to write.

    Attributes:
        new: records whose key is not stored yet, with their digest.
        changed: records whose stored digest differs, with their new digest, in batch order
            (a key repeated in the batch with other values appears again: the last wins).
        unchanged: how many records match what is stored.
    """

    new: list[tuple[Record, str]]
    changed: list[tuple[Record, str]]
    unchanged: int

    def revised(self, stored: Mapping[str, Any]) -> list[str]:
        """The keys stored before the batch whose values it changes, once each, in batch
        order: their stored values are the revisions to keep."""
        return list(dict.fromkeys(r.key for r, _ in self.changed if r.key in stored))

    @property
    def counts(self) -> UpsertCounts:
        """The upsert's counts, before any race with another writer is accounted for."""
        from pas.records import UpsertCounts

        return UpsertCounts(len(self.new), len(self.changed), self.unchanged)


def column_fields(fields: Sequence[str]) -> tuple[str, ...]:
    """Field names to read records' columns by, checked: any name a record's JSON may
    hold (``a.b`` and ``$where`` are names, not paths or operators) except one with a
    double quote, which a JSON path cannot quote.

    Raises:
        InputError: a name holds a double quote.
    """
    for name in fields:
        if '"' in name:
            raise InputError(f"record field {name!r} has a double quote; read it with records() instead")
    return tuple(fields)


def classify_records(batch: Sequence[Record], stored: Mapping[str, str]) -> RecordChanges:
    """Sorts a batch into new, changed and unchanged records by comparing digests.

    Args:
        batch: records of one dataset, in the order they were scraped.
        stored: the stored digest of each key of the batch that exists (absent keys are new).

    A key seen earlier in the same batch compares with that earlier copy, so a batch that
    repeats a record is one record.
    """
    known = dict(stored)
    new: list[tuple[Record, str]] = []
    changed: list[tuple[Record, str]] = []
    unchanged = 0
    for record in batch:
        digest = record.digest()
        old = known.get(record.key)
        if old is None:
            new.append((record, digest))
        elif old != digest:
            changed.append((record, digest))
        else:
            unchanged += 1
        known[record.key] = digest
    return RecordChanges(new, changed, unchanged)


@dataclass(frozen=True)
class LockGrant:
    """The answer to a request for a lock; true when the lock was granted.

    Attributes:
        acquired: whether the requester now holds the lock.
        holder: granted, the holder whose lease had expired and was taken over (None when
            the lock was free or already the requester's); refused, the live holder.
        expires_at: when that holder's lease expired or expires (UTC; None without one).
    """

    acquired: bool
    holder: str | None = None
    expires_at: datetime | None = None

    def __bool__(self) -> bool:
        return self.acquired


def lock_grant(holder: str | None, expires_at: datetime | None, owner: str, now: datetime) -> LockGrant:
    """Whether ``owner`` may take (or renew) a lock held by ``holder`` until ``expires_at``:
    it is free, already ``owner``'s, or its holder's time ran out (``expires_at`` at or
    before ``now``, both UTC), and from whom it is taken or by whom it is refused."""
    if holder is None or holder == owner:
        return LockGrant(True)
    return LockGrant(expires_at is None or expires_at <= now, holder, expires_at)


def lock_expiry(now: datetime, ttl_sec: float) -> datetime:
    """When a lock taken at ``now`` for ``ttl_sec`` seconds expires (UTC)."""
    return now + timedelta(seconds=ttl_sec)


def sum_sim_fills(rows: Iterable[tuple[str, str, int, int, int]]) -> tuple[dict[str, Decimal], Decimal]:
    """Net nano-unit quantities and the exact cost (10⁻¹⁸ dollars) of Sim fill rows."""
    qty: dict[str, int] = {}
    spent = 0
    for symbol, side, q, price, commission in rows:
        signed = q if side == "buy" else -q
        qty[symbol] = qty.get(symbol, 0) + signed
        spent += signed * price + commission * UNITS_PER_ONE
    return {s: from_units(v) for s, v in qty.items()}, Decimal(spent) / (Decimal(UNITS_PER_ONE) ** 2)


@dataclass
class LedgerFold:
    """A portfolio's ledger folded, in time order, into average-cost positions.

    Integers only: quantities and prices in nano units (10⁻⁹), cost, realised P&L and
    cash in 10⁻¹⁸ dollars, commissions in nano dollars. A sell realises (price − average
    cost) × quantity and removes that fraction of the cost basis (floor division, under
    10⁻¹⁸ dollars); a buy adds to both; a position that crosses zero (only possible with
    imported data: pas never sells short) restarts at the crossing fill's price.
    :func:`pas.portfolio.ledger.build_book` turns it into a ``Book``. A fold can be
    continued with later entries, so a store that sees every fill as it is written (the
    backtest's :class:`~pas.store.memory.MemoryStore`) keeps one instead of re-reading
    the ledger.
    """

    qty: dict[str, int] = field(default_factory=dict)
    cost: dict[str, int] = field(default_factory=dict)
    realized: dict[str, int] = field(default_factory=dict)
    commissions: int = 0
    cash_out: int = 0

    def add(self, entries: Iterable[LedgerRow]) -> LedgerFold:
        """Folds later entries in (oldest first); returns itself."""
        qty, cost, realized = self.qty, self.cost, self.realized
        for symbol, signed, price, commission in entries:
            held = qty.get(symbol, 0)
            basis = cost.get(symbol, 0)
            notional = signed * price
            self.commissions += commission
            self.cash_out += notional
            if held == 0 or (held > 0) == (signed > 0):
                qty[symbol] = held + signed
                cost[symbol] = basis + notional
                continue
            closed = min(abs(signed), abs(held)) * (1 if held > 0 else -1)
            removed = basis * closed // held if held > 0 else -((-basis) * closed // held)
            realized[symbol] = realized.get(symbol, 0) + closed * price - removed
            remaining = held + signed
            qty[symbol] = remaining
            if remaining == 0:
                cost[symbol] = 0
            elif (remaining > 0) == (held > 0):
                cost[symbol] = basis - removed
            else:
                cost[symbol] = remaining * price
        return self

    def to_json(self) -> str:
        """The fold as JSON text, integers exact (a cost can pass 64 bits, so a store keeps
        the text rather than numbers of its own)."""
        return json.dumps(
            [self.qty, self.cost, self.realized, self.commissions, self.cash_out], separators=(",", ":")
        )

    @classmethod
    def from_json(cls, text: str) -> LedgerFold:
        """The inverse of :meth:`to_json`."""
        qty, cost, realized, commissions, cash_out = json.loads(text)
        return cls(qty, cost, realized, commissions, cash_out)


def breaker_to_doc(state: BreakerState) -> dict[str, Any]:
    """A breaker state as plain JSON values: Decimals as strings, times as stored text."""
    doc: dict[str, Any] = {}
    for name, value in vars(state).items():
        if name == "version":
            continue
        if isinstance(value, Decimal):
            value = f"{value:f}"
        elif isinstance(value, datetime):
            value = format_ts(value)
        doc[name] = value
    return doc


_BREAKER_MONEY = ("high_water_mark", "last_equity", "prev_equity")
_BREAKER_TIMES = ("since", "hwm_at", "last_equity_at", "prev_equity_at", "reset_at")


def breaker_from_doc(doc: Mapping[str, Any], version: int) -> BreakerState:
    """The inverse of :func:`breaker_to_doc`."""
    values: dict[str, Any] = dict(doc)
    for name in _BREAKER_MONEY:
        if values.get(name) is not None:
            values[name] = Decimal(values[name])
    for name in _BREAKER_TIMES:
        if values.get(name) is not None:
            values[name] = parse_ts(values[name])
    from pas.models import BreakerState

    return BreakerState(**values, version=version)
