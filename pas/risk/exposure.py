"""Exposures of a book: pure functions of market values, equity and cash.

Every figure is a fraction of equity (0.25 is 25%) except the Herfindahl index, which is
over the positions' weights of the gross position value (|value| / Σ|value|), so it is 1
for a single position and 1/N for N equal ones whatever the cash (1 / HHI is the
effective number of positions).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from pas.errors import InputError

TOP_N = 5  # the concentration figure is the weight of this many largest positions
DEFAULT_LARGEST = 10  # positions listed


@dataclass(frozen=True)
class Holding:
    """One position: market value in dollars and weight of equity (negative when short)."""

    symbol: str
    market_value: Decimal
    weight: float


@dataclass(frozen=True)
class Exposure:
    """Exposures of one book (a portfolio or the whole account).

    Attributes:
        equity: dollars the fractions are of.
        cash: dollars of cash, when known.
        gross: Σ|market value| / equity.
        net: Σ market value / equity.
        long: Σ positive market value / equity.
        short: Σ negative market value / equity (zero or negative).
        cash_fraction: cash / equity, when cash is known.
        top5: Σ|weight| of the 5 largest positions by |market value|.
        herfindahl: Σw² over |value| / Σ|value|; NaN without positions.
        largest: the largest positions by |market value|, then symbol.
        positions: how many positions were counted.
    """

    equity: Decimal
    cash: Decimal | None
    gross: float
    net: float
    long: float
    short: float
    cash_fraction: float | None
    top5: float
    herfindahl: float
    largest: tuple[Holding, ...]
    positions: int


def exposure(
    values: Mapping[str, Decimal],
    equity: Decimal,
    cash: Decimal | None = None,
    largest: int = DEFAULT_LARGEST,
) -> Exposure:
    """Exposures of positions with known market values.

    Args:
        values: market value in dollars per symbol (negative for a short); zeros are skipped.
        equity: the book's equity in dollars, more than zero.
        cash: the book's cash in dollars, if known.
        largest: how many of the largest positions to list.

    Raises:
        InputError: equity is zero or negative.
    """
    if equity <= 0:
        raise InputError(f"equity must be more than zero to compute exposures, got {equity:,.2f}")
    held = sorted(((s, v) for s, v in values.items() if v != 0), key=lambda sv: (-abs(sv[1]), sv[0]))
    gross_value = sum((abs(v) for _, v in held), Decimal(0))
    long_value = sum((v for _, v in held if v > 0), Decimal(0))
    short_value = sum((v for _, v in held if v < 0), Decimal(0))
    hhi = float(sum(((abs(v) / gross_value) ** 2 for _, v in held), Decimal(0))) if held else float("nan")
    return Exposure(
        equity=equity,
        cash=cash,
        gross=float(gross_value / equity),
        net=float((long_value + short_value) / equity),
        long=float(long_value / equity),
        short=float(short_value / equity),
        cash_fraction=None if cash is None else float(cash / equity),
        top5=float(sum((abs(v) for _, v in held[:TOP_N]), Decimal(0)) / equity),
        herfindahl=hhi,
        largest=tuple(Holding(s, v, float(v / equity)) for s, v in held[:largest]),
        positions=len(held),
    )
