"""The strategy interface: point-in-time records in, target weights out.

A strategy is a pure function of (point-in-time datasets, as-of time, parameters) to
target weights ``{symbol: weight}`` (non-negative, summing to at most 1; the rest is cash).
It never sees a record whose ``public_at`` is after the as-of time, and every window it
uses is anchored on the as-of time, never on the newest record in the store, so the
backtest can call the very same code with a simulated as-of time. Ties break on the
ticker, alphabetically.

Each dataset reaches the strategy as one table (:func:`frame`), read from the store in
one query with only the fields the strategy names in ``datasets``.

**Portfolio construction** is the same for every strategy, a user's own included: two
parameters every strategy takes (:data:`CONSTRUCTION`), applied by :func:`construct` to
what the strategy returns. ``max_weight`` caps one name (default 0.2) and ``min_names``
(default 5) is the breadth floor: no name weighs more than ``1 / min_names``, so with
fewer qualifying names than ``min_names`` the rest stays cash instead of concentrating
(two names under the defaults are 20% each, 60% cash). What a capped name gives up goes
to the uncapped ones in proportion (:func:`capped_weights`), never beyond the cap.
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
    what it means (with units) and the smallest (and largest, if any) value that makes sense."""

    default: int | float
    doc: str
    minimum: int | float = 0
    maximum: int | float | None = None

    def parse(self, strategy: str, name: str, value: object) -> int | float:
        """The value checked against the type of the default, the minimum and the maximum."""
        kind = type(self.default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(f"parameter {name} of {strategy} must be a number, got {value!r}")
        if kind is int and not float(value).is_integer():
            raise InputError(f"parameter {name} of {strategy} must be a whole number, got {value!r}")
        parsed = kind(value)
        if parsed < self.minimum:
            raise InputError(f"parameter {name} of {strategy} must be at least {self.minimum}, got {value!r}")
        if self.maximum is not None and parsed > self.maximum:
            raise InputError(f"parameter {name} of {strategy} must be at most {self.maximum}, got {value!r}")
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


DEFAULT_MAX_WEIGHT = 0.2
DEFAULT_MIN_NAMES = 5
CONSTRUCTION: Mapping[str, ParamSpec] = {
    "max_weight": ParamSpec(DEFAULT_MAX_WEIGHT, "the largest weight of one name (fraction)", 0.001),
    "min_names": ParamSpec(
        DEFAULT_MIN_NAMES, "the fewest names the weights spread over; with fewer the rest is cash", 1
    ),
}
"""The construction parameters every strategy takes (a strategy may set other defaults)."""


def param_specs(strategy: Strategy) -> dict[str, ParamSpec]:
    """Every parameter of a strategy: its own, then those of :data:`CONSTRUCTION` it does
    not set itself."""
    return {**strategy.params, **{k: v for k, v in CONSTRUCTION.items() if k not in strategy.params}}


def resolve_params(strategy: Strategy, given: Mapping[str, Any]) -> dict[str, int | float]:
    """The strategy's parameters (:func:`param_specs`): defaults overridden by ``given``, each checked.

    Raises:
        InputError: an unknown name or a bad value; the message lists the valid names.
    """
    specs = param_specs(strategy)
    unknown = sorted(set(given) - set(specs))
    if unknown:
        valid = ", ".join(sorted(specs))
        raise InputError(f"{strategy.name} has no parameter {unknown[0]!r}; its parameters: {valid}")
    return {
        name: spec.parse(strategy.name, name, given[name]) if name in given else spec.default
        for name, spec in specs.items()
    }


def construct(weights: Mapping[str, float], params: Params) -> dict[str, float]:
    """A strategy's weights under the construction rules (see the module docstring).

    The weights keep their sum (a strategy's own cash stays cash) and their proportions,
    but no name is above ``min(max_weight, 1 / min_names)``; what capped names give up
    goes to the others in proportion, and to cash when every name is capped.

    Args:
        weights: non-negative weights summing to at most 1.
        params: resolved parameters with ``max_weight`` and ``min_names``.
    """
    cap = min(float(params["max_weight"]), 1.0 / int(params["min_names"]), 1.0)
    return capped_weights(weights, cap, budget=sum(w for w in weights.values() if w > 0))


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
    """Decimal strings (as records keep amounts) as floats; missing ones, and text that is
    not a number, NaN.

    The scrapers store amounts as canonical decimal text, which Python's ``float`` reads
    as pandas' parser does, 7× faster (195,000 page views: 17 against 125 ms); a column
    with any other text goes through pandas' parser, which makes that text NaN.
    """
    import pandas as pd

    try:
        return column.astype(float)
    except (TypeError, ValueError):
        return pd.to_numeric(column, errors="coerce").astype(float)


def top_n(scores: pd.Series, n: int) -> list[str]:
    """The tickers of the ``n`` highest positive scores; ties go to the earlier ticker."""
    positive = scores[scores > 0]
    ordered = sorted(positive.items(), key=lambda kv: (-float(kv[1]), str(kv[0])))
    return [str(ticker) for ticker, _ in ordered[:n]]


def equal_weights(tickers: Sequence[str]) -> dict[str, float]:
    """1/n each."""
    return {t: 1.0 / len(tickers) for t in tickers}


def capped_weights(sizes: Mapping[str, float], cap: float, budget: float = 1.0) -> dict[str, float]:
    """Weights proportional to positive ``sizes`` summing to ``budget``, none above ``cap``:
    what a capped name gives up is spread over the others in proportion, until no name is
    above the cap. When every name is capped (``cap`` times the number of names is below
    the budget) the rest is cash."""
    weights: dict[str, float] = {}
    free = {t: s for t, s in sizes.items() if s > 0}
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


def relative_to_history(
    window: pd.Series, history: pd.Series, lookback_days: int, history_days: int
) -> pd.Series:
    """Each company's window score over its own trailing baseline (the size-neutral score).

    The baseline is the company's dollars in the ``history_days`` before the window, scaled
    to one window (× ``lookback_days / history_days``): 2.0 means twice its usual amount
    for a window that long. A company with no dollars in its history has no baseline to be
    large against and is left out.

    Args:
        window: dollars per ticker in the lookback window.
        history: dollars per ticker (positive: awards, or insider volume) in the
            ``history_days`` before the window.
    """
    baseline = history[history > 0] * (lookback_days / history_days)
    return (window.reindex(baseline.index) / baseline).dropna()
