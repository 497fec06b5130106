"""Daily closing prices."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from pas.models import Price, from_units, to_units
from pas.store.sqlite.store import SqliteCore


class SqlitePrices(SqliteCore):
    """Daily closing prices."""

    def upsert_prices(self, prices: Iterable[Price]) -> int:
        rows = [(p.symbol, p.day.isoformat(), to_units(p.close)) for p in prices]
        with self._write() as db:
            db.executemany(
                "INSERT INTO prices (symbol, day, close_n) VALUES (?, ?, ?)"
                " ON CONFLICT (symbol, day) DO UPDATE SET close_n = excluded.close_n",
                rows,
            )
        return len(rows)

    def latest_prices(self, symbols: Iterable[str], on_or_before: date | None = None) -> dict[str, Price]:
        wanted = sorted(set(symbols))
        if not wanted:
            return {}
        day = (on_or_before or date.max).isoformat()
        found: dict[str, Price] = {}
        # SQLite returns the other columns of the row that holds MAX(day) (documented).
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT symbol, MAX(day), close_n FROM prices WHERE symbol IN ({marks})"
                " AND day <= ? GROUP BY symbol",
                [*chunk, day],
            )
            for symbol, d, close in rows:
                found[symbol] = Price(symbol, date.fromisoformat(d), from_units(close))
        return found

    def price_symbols(self) -> list[str]:
        return [
            symbol for (symbol,) in self._db.execute("SELECT DISTINCT symbol FROM prices ORDER BY symbol")
        ]

    def price_history(
        self, symbols: Iterable[str], start: date | None = None, end: date | None = None
    ) -> dict[str, list[Price]]:
        wanted = sorted(set(symbols))
        first, last = (start or date.min).isoformat(), (end or date.max).isoformat()
        found: dict[str, list[Price]] = {}
        for offset in range(0, len(wanted), 500):
            chunk = wanted[offset : offset + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT symbol, day, close_n FROM prices WHERE symbol IN ({marks})"
                " AND day >= ? AND day <= ? ORDER BY symbol, day",
                [*chunk, first, last],
            )
            for symbol, d, close in rows:
                found.setdefault(symbol, []).append(Price(symbol, date.fromisoformat(d), from_units(close)))
        return found
