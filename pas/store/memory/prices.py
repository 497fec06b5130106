"""The working store's daily closes, as Python values only."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import repeat
from pathlib import Path

from pas.clock import Clock
from pas.errors import InputError
from pas.models import MAX_UNITS, Price, from_units, to_units
from pas.store.interfaces import PriceStore, PriceUnits
from pas.store.sqlite import SqliteStore


@dataclass
class _Closes:
    """One symbol's closes: its days, sorted, their closes in nano dollars, and each
    close's :class:`Price` once something has read it (None before)."""

    days: list[date] = field(default_factory=list)
    units: list[int] = field(default_factory=list)
    built: list[Price | None] = field(default_factory=list)

    def price(self, symbol: str, at: int) -> Price:
        found = self.built[at]
        if found is None:
            found = self.built[at] = Price(symbol, self.days[at], from_units(self.units[at]))
        return found


class MemoryPrices(SqliteStore):
    """The closes per symbol, kept as stored (days and nano-dollar closes); a close's
    ``Price`` is made the first time it is read, as SQLite's would be (from its units)."""

    def __init__(self, path: Path, clock: Clock) -> None:
        super().__init__(path, clock)
        self._closes: dict[str, _Closes] = {}

    def upsert_prices(self, prices: Iterable[Price]) -> int:
        # to_units refuses a close with more than 9 decimals, as SQLite's store does.
        return self.upsert_price_units([(p.symbol, p.day, to_units(p.close)) for p in prices])

    def upsert_price_units(self, closes: Iterable[PriceUnits]) -> int:
        # Kept as Python values only: this store answers every question about closes
        # itself, so SQL would only be written to and read back (a quarter of a 500-symbol
        # backtest), and a Decimal and a Price for each of a backtest's closes would cost
        # more than the few the days read (a third of copying the closes in).
        new: dict[str, dict[date, int]] = {}
        count = 0
        for symbol, day, units in closes:
            count += 1
            if not -MAX_UNITS <= units <= MAX_UNITS:
                raise InputError(f"a close of {symbol} on {day} is beyond what pas stores exactly")
            new.setdefault(symbol, {})[day] = int(units)
        for symbol, given in new.items():
            kept = self._closes.get(symbol)
            merged = given if kept is None else dict(zip(kept.days, kept.units, strict=True)) | given
            days = sorted(merged)
            self._closes[symbol] = _Closes(days, [merged[d] for d in days], [None] * len(days))
        return count

    def copy_prices(self, source: PriceStore, start: date, end: date) -> int:
        return self.upsert_price_units(source.price_units(start, end))

    def price_file(self) -> Path | None:
        return None  # kept in Python (see upsert_price_units)

    def price_units(
        self, start: date | None = None, end: date | None = None, symbols: Iterable[str] | None = None
    ) -> list[PriceUnits]:
        found: list[PriceUnits] = []
        for symbol in sorted(self._closes if symbols is None else set(symbols)):
            kept = self._closes.get(symbol)
            if kept is not None:
                first, last = self._span(kept, start, end)
                found.extend(zip(repeat(symbol), kept.days[first:last], kept.units[first:last], strict=False))
        return found

    def price_symbols(self) -> list[str]:
        return sorted(self._closes)

    def latest_prices(self, symbols: Iterable[str], on_or_before: date | None = None) -> dict[str, Price]:
        return {s: kept.price(s, at) for s, kept, at in self._latest(symbols, on_or_before)}

    def latest_price_units(
        self, symbols: Iterable[str], on_or_before: date | None = None
    ) -> dict[str, tuple[date, int]]:
        return {s: (kept.days[at], kept.units[at]) for s, kept, at in self._latest(symbols, on_or_before)}

    def _latest(self, symbols: Iterable[str], before: date | None) -> Iterator[tuple[str, _Closes, int]]:
        """Each symbol with a close on or before the day, its closes and that close's index."""
        for symbol in set(symbols):
            kept = self._closes.get(symbol)
            if kept is not None:
                at = len(kept.days) if before is None else bisect.bisect_right(kept.days, before)
                if at:
                    yield symbol, kept, at - 1

    def price_history(
        self, symbols: Iterable[str], start: date | None = None, end: date | None = None
    ) -> dict[str, list[Price]]:
        found: dict[str, list[Price]] = {}
        for symbol in sorted(set(symbols)):
            kept = self._closes.get(symbol)
            if kept is None:
                continue
            first, last = self._span(kept, start, end)
            if first < last:
                found[symbol] = [kept.price(symbol, i) for i in range(first, last)]
        return found

    @staticmethod
    def _span(kept: _Closes, start: date | None, end: date | None) -> tuple[int, int]:
        """The indexes of a symbol's closes from ``start`` to ``end`` (inclusive)."""
        first = 0 if start is None else bisect.bisect_left(kept.days, start)
        last = len(kept.days) if end is None else bisect.bisect_right(kept.days, end)
        return first, last
