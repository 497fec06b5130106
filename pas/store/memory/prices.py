"""The working store's daily closes, as Python values only."""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from pas.clock import Clock
from pas.models import Price, to_units
from pas.store.sqlite import SqliteStore


class MemoryPrices(SqliteStore):
    """The closes per symbol, as sorted days and their closes."""

    def __init__(self, path: Path, clock: Clock) -> None:
        super().__init__(path, clock)
        self._closes: dict[str, tuple[list[date], list[Price]]] = {}

    def upsert_prices(self, prices: Iterable[Price]) -> int:
        # Kept as Python values only: this store answers every question about closes
        # itself, so SQL would only be written to and read back (a quarter of a 500-symbol
        # backtest). A close with more than 9 decimals is refused as SQLite refuses it
        # (to_units), so the close kept has the value SQLite would read back: the Price is
        # kept as given, not rebuilt from its units (a third of copying the closes in).
        new: dict[str, dict[date, Price]] = {}
        count = 0
        for p in prices:
            count += 1
            to_units(p.close)
            new.setdefault(p.symbol, {})[p.day] = p
        for symbol, closes in new.items():
            days, kept = self._closes.get(symbol, ([], []))
            merged = dict(zip(days, kept, strict=True)) | closes
            ordered = sorted(merged)
            self._closes[symbol] = (ordered, [merged[d] for d in ordered])
        return count

    def price_symbols(self) -> list[str]:
        return sorted(self._closes)

    def latest_prices(self, symbols: Iterable[str], on_or_before: date | None = None) -> dict[str, Price]:
        found: dict[str, Price] = {}
        for symbol in set(symbols):
            days, closes = self._closes.get(symbol, ([], []))
            at = len(days) if on_or_before is None else bisect.bisect_right(days, on_or_before)
            if at:
                found[symbol] = closes[at - 1]
        return found

    def price_history(
        self, symbols: Iterable[str], start: date | None = None, end: date | None = None
    ) -> dict[str, list[Price]]:
        found: dict[str, list[Price]] = {}
        for symbol in sorted(set(symbols)):
            days, closes = self._closes.get(symbol, ([], []))
            first = 0 if start is None else bisect.bisect_left(days, start)
            last = len(days) if end is None else bisect.bisect_right(days, end)
            if first < last:
                found[symbol] = closes[first:last]
        return found
