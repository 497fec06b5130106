"""Building a portfolio's target weights: load the point-in-time data, check it is fresh,
run the strategy. The backtest calls :func:`build_weights` with a simulated as-of time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pas.errors import InputError, RefusedError, StaleDataError
from pas.models import Portfolio, WeightSet
from pas.portfolio.targets import check_weights
from pas.schedule import day_end, market_day
from pas.store.interfaces import RecordStore
from pas.strategies import MANUAL, Strategy, get_strategy, resolve_params
from pas.strategies.base import construct, frame

if TYPE_CHECKING:
    import pandas as pd

SOURCE = "build"
"""The source of weights built as of the time they were built (what ``--due`` looks for)."""


@dataclass(frozen=True)
class DatasetUse:
    """What a build read of one dataset: how many records, and the newest public time."""

    name: str
    records: int
    newest: datetime


@dataclass(frozen=True)
class Build:
    """A portfolio's new target weights and what they were built from."""

    portfolio: Portfolio
    as_of: datetime
    params: Mapping[str, int | float]
    weights: dict[str, float]
    datasets: tuple[DatasetUse, ...]

    def weight_set(self, at: datetime, source: str = SOURCE) -> WeightSet:
        """The weights to store, set at ``at``."""
        return WeightSet(portfolio=self.portfolio.id, at=at, weights=self.weights, source=source)


def as_of_time(day: date | None, now: datetime) -> datetime:
    """The as-of time of a build: the last instant of ``day`` in New York (pas's day, as
    "today" is), or ``now`` when that is earlier or no day is given. A record public at
    any time of ``day`` is seen; one dated only by ``day`` is public at its end
    (:func:`pas.schedule.day_end`), so it is first seen as of the next day."""
    if day is None:
        return now
    return min(day_end(day) - timedelta(microseconds=1), now)


# Datasets published in bursts may go longer than BUILD_MAX_STALE_DAYS without a record
# and still be current: lobbying reports (LD-2) are quarterly, due 20 days after the
# quarter ends, so weeks without a filing are normal between deadlines.
STALE_DAYS_FLOOR: dict[str, int] = {"lobbying": 95}


def load_data(
    store: RecordStore,
    strategy: Strategy,
    params: Mapping[str, int | float],
    as_of: datetime,
    max_stale_days: int,
) -> tuple[dict[str, pd.DataFrame], tuple[DatasetUse, ...]]:
    """Each dataset the strategy reads as one table (:func:`pas.strategies.base.frame`):
    its records public in the strategy's history window before ``as_of`` (at least
    ``max_stale_days`` of it), with the fields the strategy names, in one query.

    A dataset is stale when its newest record is more than ``max_stale_days`` old, or, for
    a dataset published in bursts, more than its :data:`STALE_DAYS_FLOOR`.

    Raises:
        StaleDataError: a dataset is empty, or its newest record public by ``as_of`` is
            more than ``max_stale_days`` days older than ``as_of``.
    """
    data: dict[str, pd.DataFrame] = {}
    uses: list[DatasetUse] = []
    for name, fields in strategy.datasets.items():
        stale_days = max(max_stale_days, STALE_DAYS_FLOOR.get(name, 0))
        days = max(strategy.history_days(params), stale_days)
        columns = store.record_columns(name, fields, as_of=as_of, since=as_of - timedelta(days=days))
        table = frame(columns, as_of)
        if table.empty:
            if store.latest_public_at(name) is None:
                raise StaleDataError(f"the {name} dataset is empty; run `pas scrape {name}` first")
            raise StaleDataError(
                f"no {name} record was public in the {days} days before {as_of:%Y-%m-%d %H:%M} UTC; "
                f"run `pas scrape {name}`"
            )
        newest: datetime = table["public_at"].max().to_pydatetime()
        if newest < as_of - timedelta(days=stale_days):
            raise StaleDataError(
                f"the newest {name} record public by {market_day(as_of)} is from {newest:%Y-%m-%d}, "
                f"more than {stale_days} days old; run `pas scrape {name}` (or raise BUILD_MAX_STALE_DAYS)"
            )
        data[name] = table
        uses.append(DatasetUse(name, len(table), newest))
    return data, tuple(uses)


def build_weights(
    store: RecordStore,
    portfolio: Portfolio,
    as_of: datetime,
    *,
    max_stale_days: int,
    max_position_weight: float | None = None,
) -> Build:
    """Runs the portfolio's strategy with its parameters on the data public by ``as_of``,
    under the construction rules (:func:`pas.strategies.base.construct`).

    Args:
        max_position_weight: ``MAX_POSITION_WEIGHT``: a target above it is refused here, at
            build time, rather than by the pre-trade check when the portfolio trades.

    Raises:
        InputError: the portfolio has hand-set weights, an unknown strategy or bad parameters.
        StaleDataError: a dataset it needs is empty or stale (see :func:`load_data`).
        RefusedError: a target weight is above ``max_position_weight``.
    """
    if portfolio.strategy == MANUAL:
        raise InputError(
            f"portfolio {portfolio.id!r} has hand-set weights (strategy manual); "
            "set them with `pas portfolio set-weights`"
        )
    strategy = get_strategy(portfolio.strategy)
    params = resolve_params(strategy, portfolio.params)
    data, uses = load_data(store, strategy, params, as_of, max_stale_days)
    weights = construct(check_weights(strategy.weights(data, as_of, params)), params)
    if max_position_weight is not None:
        _check_position_weight(portfolio, weights, max_position_weight)
    return Build(portfolio, as_of, params, {s: w for s, w in weights.items() if w > 0}, uses)


def _check_position_weight(portfolio: Portfolio, weights: Mapping[str, float], limit: float) -> None:
    heaviest = max(weights.items(), key=lambda kv: (kv[1], kv[0]), default=None)
    if heaviest is not None and heaviest[1] > limit + WEIGHT_TOLERANCE:
        raise RefusedError(
            f"portfolio {portfolio.id}: the target of {heaviest[0]} is {heaviest[1]:.1%}, above "
            f"MAX_POSITION_WEIGHT ({limit:.1%}); lower the strategy's max_weight or raise MAX_POSITION_WEIGHT"
        )


# A built weight equal to the limit is not above it, whatever its last bits.
WEIGHT_TOLERANCE = 1e-12


def describe_params(params: Mapping[str, Any]) -> str:
    """``name=value, ...`` for humans."""
    return ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())
