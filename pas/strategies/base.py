"""The strategy interface: point-in-time records in, target weights out.

A strategy is a pure function of (point-in-time datasets, as-of time, parameters) to
target weights ``{symbol: weight}`` (non-negative, summing to at most 1; the rest is cash).
It never sees a record whose ``public_at`` is after the as-of time, and every window it
uses is anchored on the as-of time, never on the newest record in the store, so the
backtest can call the very same code with a simulated as-of time. Ties break on the
ticker, alphabetically.

Each dataset reaches the strategy as one table (:func:`frame`), read from the store in
one query with only the fields the strategy names in ``datasets``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from pas.errors import InputError
from pas.records import RecordColumns

if TYPE_CHECKING:
    import pandas as pd

Params = Mapping[str, int | float]


@dataclass(frozen=True)
class ParamSpec:
    """A strategy parameter: its default (whose type, int or float, the value must have),
    what it means (with units) and the smallest value that makes sense."""

    default: int | float
    doc: str
    minimum: int | float = 0

    def parse(self, strategy: str, name: str, value: object) -> int | float:
        """The value checked against the type of the default and the minimum."""
        kind = type(self.default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(f"parameter {name} of {strategy} must be a number, got {value!r}")
        if kind is int and not float(value).is_integer():
            raise InputError(f"parameter {name} of {strategy} must be a whole number, got {value!r}")
        parsed = kind(value)
        if parsed < self.minimum:
            raise InputError(f"parameter {name} of {strategy} must be at least {self.minimum}, got {value!r}")
        return parsed


@runtime_checkable
class Strategy(Protocol):
    """What the build (and the backtest) needs of a strategy.

    Attributes:
        name: the registry name (``lobbying_growth``) or ``module:Class``.
        datasets: the record datasets :meth:`weights` reads, each with the names of the
            fields its table carries (``{"wiki": ("views",)}``).
        params: the parameters with their defaults.
    """

    name: str
    datasets: Mapping[str, tuple[str, ...]]
    params: Mapping[str, ParamSpec]

    def history_days(self, params: Params) -> int:
        """How many days of records before the as-of time :meth:`weights` reads (by ``public_at``)."""
        ...

    def weights(self, data: Mapping[str, pd.DataFrame], as_of: datetime, params: Params) -> dict[str, float]:
        """Target weights as of ``as_of`` (UTC) from records public at or before it: one
        :func:`frame` per dataset."""
        ...


def resolve_params(strategy: Strategy, given: Mapping[str, Any]) -> dict[str, int | float]:
    """The strategy's parameters: its defaults overridden by ``given``, each checked.

    Raises:
        InputError: an unknown name or a bad value; the message lists the valid names.
    """
    unknown = sorted(set(given) - set(strategy.params))
    if unknown:
        valid = ", ".join(sorted(strategy.params)) or "none"
        raise InputError(f"{strategy.name} has no parameter {unknown[0]!r}; its parameters: {valid}")
    return {
        name: spec.parse(strategy.name, name, given[name]) if name in given else spec.default
        for name, spec in strategy.params.items()
    }


def frame(columns: RecordColumns, as_of: datetime) -> pd.DataFrame:
    """Records as a table: ``ticker``, ``event_date`` (datetime64, a day), ``public_at``
    (UTC datetime64) and one column per field read (values as
    :func:`pas.records.column_value` gives them), oldest ``public_at`` first.

    Rows public after ``as_of`` are dropped: the store filters already, and filtering
    again costs little and keeps a backend bug from turning into look-ahead.
    """
    import pandas as pd

    public_at = pd.DatetimeIndex(columns.public_at).tz_localize("UTC")
    table = pd.DataFrame(
        {"ticker": columns.ticker, "event_date": columns.event_date, "public_at": public_at, **columns.fields}
    )
    public = public_at <= pd.Timestamp(as_of)
    return table if public.all() else table[public].reset_index(drop=True)


def to_number(column: pd.Series) -> pd.Series:
    """Decimal strings (as records keep amounts) as floats; missing ones NaN."""
    import pandas as pd

    return pd.to_numeric(column, errors="coerce").astype(float)


def top_n(scores: pd.Series, n: int) -> list[str]:
    """The tickers of the ``n`` highest positive scores; ties go to the earlier ticker."""
    positive = scores[scores > 0]
    ordered = sorted(positive.items(), key=lambda kv: (-float(kv[1]), str(kv[0])))
    return [str(ticker) for ticker, _ in ordered[:n]]


def equal_weights(tickers: Sequence[str]) -> dict[str, float]:
    """1/n each."""
    return {t: 1.0 / len(tickers) for t in tickers}


def capped_weights(sizes: Mapping[str, float], cap: float) -> dict[str, float]:
    """Weights proportional to positive ``sizes``, none above ``cap``: what a capped name
    gives up is spread over the others in proportion, until no name is above the cap.
    When every name is capped (``cap`` times the number of names is below 1) the rest is cash."""
    weights: dict[str, float] = {}
    free = {t: s for t, s in sizes.items() if s > 0}
    budget = 1.0
    while free:
        total = sum(free.values())
        over = {t for t, s in free.items() if s / total * budget > cap}
        if not over:
            weights.update({t: s / total * budget for t, s in free.items()})
            break
        for t in over:
            weights[t] = cap
            budget -= cap
            del free[t]
    return weights
