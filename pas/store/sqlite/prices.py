"""Daily closing prices."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from pas.models import Price, from_units, to_units
from pas.store.interfaces import PriceStore, PriceUnits
from pas.store.sqlite.store import SqliteCore


class SqlitePrices(SqliteCore):
    """Daily closing prices."""

    def upsert_prices(self, prices: Iterable[Price]) -> int:
        return self._upsert_price_rows([(p.symbol, p.day.isoformat(), to_units(p.close)) for p in prices])

    def upsert_price_units(self, closes: Iterable[PriceUnits]) -> int:
        return self._upsert_price_rows([(symbol, d.isoformat(), int(units)) for symbol, d, units in closes])

    def price_units(
        self, start: date | None = None, end: date | None = None, symbols: Iterable[str] | None = None
    ) -> list[PriceUnits]:
        first, last = (start or date.min).isoformat(), (end or date.max).isoformat()
        if symbols is None:
            chunks: list[list[str] | None] = [None]
        else:
            wanted = sorted(set(symbols))
            chunks = [wanted[at : at + 500] for at in range(0, len(wanted), 500)]
        parsed: dict[str, date] = {}  # the same days recur for every symbol: parsed once
        found: list[PriceUnits] = []
        for chunk in chunks:
            among = "" if chunk is None else f"symbol IN ({','.join('?' * len(chunk))}) AND "
            rows = self._db.execute(
                f"SELECT symbol, day, close_n FROM prices WHERE {among}day >= ? AND day <= ?"
                " ORDER BY symbol, day",
                [*(chunk or ()), first, last],
            )
            found.extend(
                (symbol, parsed.get(d) or parsed.setdefault(d, date.fromisoformat(d)), units)
                for symbol, d, units in rows
            )
        return found

    def copy_prices(self, source: PriceStore, start: date, end: date) -> int:
        # Between two SQLite files SQLite copies the rows itself (0.19 s for a 500-symbol
        # backtest's 629,256 closes, 0.75 s through Python); not inside a bulk transaction,
        # where SQLite cannot attach a file.
        where = source.price_file() if isinstance(source, SqlitePrices) else None
        if where is None or self._bulk or self.price_file() in (None, where):
            return self.upsert_price_units(source.price_units(start, end))
        self._db.execute("ATTACH DATABASE ? AS source", (str(where),))
        try:
            with self._write() as db:
                return db.execute(
                    "INSERT INTO main.prices (symbol, day, close_n) SELECT symbol, day, close_n"
                    " FROM source.prices WHERE day >= ? AND day <= ? ORDER BY symbol, day"
                    " ON CONFLICT (symbol, day) DO UPDATE SET close_n = excluded.close_n",
                    (start.isoformat(), end.isoformat()),
                ).rowcount
        finally:
            self._db.execute("DETACH DATABASE source")

    def price_file(self) -> Path | None:
        """The file whose ``prices`` table holds this store's closes (None: not in SQL)."""
        return None if str(self.path) == ":memory:" else self.path.resolve()

    def _upsert_price_rows(self, rows: list[tuple[str, str, int]]) -> int:
        with self._write() as db:
            db.executemany(
                "INSERT INTO prices (symbol, day, close_n) VALUES (?, ?, ?)"
                " ON CONFLICT (symbol, day) DO UPDATE SET close_n = excluded.close_n",
                rows,
            )
        return len(rows)

    def latest_prices(self, symbols: Iterable[str], on_or_before: date | None = None) -> dict[str, Price]:
        found = self.latest_price_units(symbols, on_or_before)
        return {symbol: Price(symbol, day, from_units(close)) for symbol, (day, close) in found.items()}

    def latest_price_units(
        self, symbols: Iterable[str], on_or_before: date | None = None
    ) -> dict[str, tuple[date, int]]:
        day = (on_or_before or date.max).isoformat()
        # One statement, one seek down the primary key per symbol for its newest day (SQLite
        # answers MAX(day) over an index range from its end) and one for its close: a
        # MAX(day) ... GROUP BY walks every stored close of the symbols (106 ms against
        # 5.7 ms for 501 symbols × 1,132 days), and a query per symbol costs Python's
        # round trips (3.6 ms against 1.4 for 500 symbols).
        rows = self._db.execute(
            "SELECT p.symbol, p.day, p.close_n FROM json_each(?) s JOIN prices p ON p.symbol = s.value"
            " AND p.day = (SELECT MAX(day) FROM prices WHERE symbol = s.value AND day <= ?)",
            (json.dumps(sorted(set(symbols))), day),
        )
        return {symbol: (date.fromisoformat(d), close) for symbol, d, close in rows}

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
        parsed: dict[str, date] = {}  # the same few days recur for every symbol: parsed once
        for offset in range(0, len(wanted), 500):
            chunk = wanted[offset : offset + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT symbol, day, close_n FROM prices WHERE symbol IN ({marks})"
                " AND day >= ? AND day <= ? ORDER BY symbol, day",
                [*chunk, first, last],
            )
            for symbol, d, close in rows:
                day = parsed.get(d) or parsed.setdefault(d, date.fromisoformat(d))
                found.setdefault(symbol, []).append(Price(symbol, day, from_units(close)))
        return found
