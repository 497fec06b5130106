"""Target weights: parsing and checking ``{symbol: weight}`` maps."""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal

from pas.errors import InputError
from pas.models import WEIGHT_SUM_SLACK, check_symbol, parse_decimal


def check_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """Returns the weights when each is finite and non-negative and they sum to at most 1.

    The rest of 1 is cash. The sum may exceed 1 by :data:`~pas.models.WEIGHT_SUM_SLACK`
    (float rounding of weights such as 0.1 + 0.2 + 0.7).
    """
    for symbol, weight in weights.items():
        if not math.isfinite(weight) or weight < 0:
            raise InputError(f"the weight of {symbol} must be a finite number, zero or more, got {weight}")
    total = math.fsum(weights.values())
    if total > 1 + WEIGHT_SUM_SLACK:
        raise InputError(f"weights sum to {total:g}, more than 1; the rest of 1 is cash, so lower them")
    return dict(weights)


def parse_weight_pairs(pairs: list[str]) -> dict[str, float]:
    """Parses ``SYMBOL=WEIGHT`` arguments (exact decimals, then checked as weights)."""
    weights: dict[str, Decimal] = {}
    for pair in pairs:
        raw_symbol, sep, raw_weight = pair.partition("=")
        if not sep:
            raise InputError(f"{pair!r} must look like SYMBOL=WEIGHT, e.g. AAPL=0.6")
        symbol = check_symbol(raw_symbol)
        if symbol in weights:
            raise InputError(f"{symbol} is given twice")
        weights[symbol] = parse_decimal(raw_weight, f"the weight of {symbol}")
    total = sum(weights.values(), Decimal(0))
    if total > 1 + Decimal(WEIGHT_SUM_SLACK):
        raise InputError(f"weights sum to {total}, more than 1; the rest of 1 is cash, so lower them")
    return check_weights({s: float(w) for s, w in weights.items()})
