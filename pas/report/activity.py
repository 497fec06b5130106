"""What a book did: its trades, its exposure and turnover over time, the costs it paid.

Read from the ledger (each portfolio's own fills) and the stored closes. Conventions
(README "Statistics conventions"):

- A trade's **day** is its New York market day.
- **Exposure** on a day is the book's positions after that day's fills valued at that
  day's close (the last earlier close when none is stored), over the day's equity: gross
  Σ|value| and net Σ value, as fractions. A symbol never closed up to that day has no
  value, and the day's figures are NaN (unknown, never zero).
- **Turnover** on a day is the dollars traded (buys plus sells) over that day's equity;
  the report plots its sum over the trailing :data:`TURNOVER_WINDOW` trading days.
- **Costs** are the commissions the fills record, plus the slippage measured against the
  day's stored close: a buy above (a sell below) the close cost the difference × shares.
  A trade on a day without a stored close has no measured slippage, and the count of such
  trades is shown beside the total.
"""

from __future__ import annotations

import csv
import io
import math
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from pas.models import Fill, Price, Side
from pas.schedule import market_day

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

TURNOVER_WINDOW = 21
"""Trading days summed in the turnover plot (about a month)."""
CSV_COLUMNS = (
    "time_utc",
    "day",
    "portfolio",
    "symbol",
    "side",
    "qty",
    "price",
    "value",
    "commission",
    "close",
    "slippage",
)
"""The trades CSV's header. Money and quantities are decimal strings; times ISO-8601 UTC."""


@dataclass(frozen=True)
class Trade:
    """One fill of a portfolio, with the day's stored close it is measured against.

    Attributes:
        qty: shares, positive; ``side`` says which way.
        price, commission: dollars (per share; in all).
        close: the stored close of ``symbol`` on the trade's market day, None if none.
        day: the New York market day of ``ts``.
    """

    portfolio: str
    ts: datetime
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal
    commission: Decimal
    close: Decimal | None
    day: date

    @property
    def value(self) -> Decimal:
        """Dollars traded: shares × price."""
        return self.qty * self.price

    @property
    def slippage(self) -> Decimal | None:
        """Dollars lost against the day's close (negative: a better price); None without one."""
        if self.close is None:
            return None
        per_share = self.price - self.close if self.side is Side.BUY else self.close - self.price
        return per_share * self.qty


@dataclass(frozen=True)
class Costs:
    """What a book's trading cost, in dollars.

    Attributes:
        unmeasured: trades without a stored close, whose slippage is not in ``slippage``.
    """

    trades: int
    traded: Decimal
    commission: Decimal
    slippage: Decimal
    unmeasured: int

    @property
    def total(self) -> Decimal:
        """Commission plus measured slippage."""
        return self.commission + self.slippage


@dataclass(frozen=True)
class Activity:
    """A book's exposure and turnover on each of its days (fractions of equity, NaN unknown)."""

    gross: tuple[float, ...]
    net: tuple[float, ...]
    turnover: tuple[float, ...]


def trades_of(fills: Iterable[Fill], closes: Mapping[str, Mapping[date, Decimal]]) -> list[Trade]:
    """Fills as trades, oldest first, each with its day's close (``closes[symbol][day]``)."""
    out = []
    for f in sorted(fills, key=lambda f: (f.ts, f.fill_id)):
        day = market_day(f.ts)
        close = closes.get(f.symbol, {}).get(day)
        out.append(Trade(f.portfolio, f.ts, f.symbol, f.side, f.qty, f.price, f.commission, close, day))
    return out


def closes_by_day(history: Mapping[str, Sequence[Price]]) -> dict[str, dict[date, Decimal]]:
    """``price_history`` as ``{symbol: {day: close}}``."""
    return {s: {p.day: p.close for p in prices} for s, prices in history.items()}


def costs(trades: Sequence[Trade]) -> Costs:
    """Totals of a book's trades (see the module's conventions)."""
    slips = [t.slippage for t in trades]
    return Costs(
        trades=len(trades),
        traded=sum((t.value for t in trades), Decimal(0)),
        commission=sum((t.commission for t in trades), Decimal(0)),
        slippage=sum((s for s in slips if s is not None), Decimal(0)),
        unmeasured=sum(1 for s in slips if s is None),
    )


def activity(
    days: Sequence[date],
    equity: Sequence[float | None],
    trades: Sequence[Trade],
    closes: Mapping[str, Mapping[date, Decimal]],
) -> Activity:
    """Exposure and daily turnover of a book on each of ``days`` (see the conventions).

    Args:
        days: the book's days, oldest first.
        equity: dollars at each day's close, None where unknown.
        trades: the book's trades, oldest first.
        closes: stored closes, ``{symbol: {day: close}}``.
    """
    import numpy as np

    symbols = sorted({t.symbol for t in trades})
    col = {s: j for j, s in enumerate(symbols)}
    qty_change = np.zeros((len(days), len(symbols)))
    traded = np.zeros(len(days))
    for t in trades:
        i = bisect_left(days, t.day)  # a trade between two book days counts on the next
        if i == len(days):
            continue
        signed = float(t.qty) if t.side is Side.BUY else -float(t.qty)
        qty_change[i, col[t.symbol]] += signed
        traded[i] += float(t.value)
    held = np.cumsum(qty_change, axis=0)
    price = _carried_closes(days, symbols, closes)
    value = np.where(held == 0, 0.0, held * price)  # a closed position needs no close
    eq = np.array([math.nan if e is None or e <= 0 else e for e in equity], dtype=np.float64)
    return Activity(
        gross=tuple((np.abs(value).sum(axis=1) / eq).tolist()),
        net=tuple((value.sum(axis=1) / eq).tolist()),
        turnover=tuple((traded / eq).tolist()),
    )


def _carried_closes(
    days: Sequence[date], symbols: Sequence[str], closes: Mapping[str, Mapping[date, Decimal]]
) -> npt.NDArray[np.float64]:
    """(days, symbols) closes, each carried forward from its last stored day; NaN before
    a symbol's first close (on or before the book's first day counts)."""
    import numpy as np

    out = np.full((len(days), len(symbols)), np.nan)
    for j, s in enumerate(symbols):
        known = sorted(closes.get(s, {}).items())
        k, last = 0, math.nan
        for i, d in enumerate(days):
            while k < len(known) and known[k][0] <= d:
                last = float(known[k][1])
                k += 1
            out[i, j] = last
    return out


def trades_csv(trades: Iterable[Trade]) -> str:
    """The trades as CSV text (:data:`CSV_COLUMNS`); unknown close and slippage are empty."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for t in trades:
        slip = t.slippage
        writer.writerow(
            [
                t.ts.isoformat().replace("+00:00", "Z"),
                t.day.isoformat(),
                t.portfolio,
                t.symbol,
                t.side.value,
                _plain(t.qty),
                _plain(t.price),
                _plain(t.value),
                _plain(t.commission),
                "" if t.close is None else _plain(t.close),
                "" if slip is None else _plain(slip),
            ]
        )
    return buffer.getvalue()


def _plain(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros (``1E+1`` is written ``10``)."""
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "") else text
