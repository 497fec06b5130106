"""Bringing a portfolio's stored daily metrics and trailing statistics up to date."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from itertools import groupby
from operator import itemgetter
from typing import TYPE_CHECKING

from pas.freshness import require_fresh
from pas.metrics.returns import base_index, daily_returns_in_units
from pas.metrics.trailing import recompute_all_trailing_stats
from pas.models import CashFlow, DailyMetric, Fill, Portfolio
from pas.schedule import market_day

if TYPE_CHECKING:
    from pas.store.base import Store


@dataclass(frozen=True)
class MetricsUpdate:
    """What :func:`update_metrics` wrote for one portfolio."""

    portfolio: str
    written: int
    first: date | None = None
    last: date | None = None


def update_metrics(
    store: Store,
    portfolio: Portfolio,
    benchmark: str,
    until: date | None = None,
    *,
    max_stale_days: int | None = None,
) -> MetricsUpdate:
    """Computes and stores each missing day's metric of a portfolio from its ledger and the
    stored closes, then recomputes its trailing statistics from the first new day.

    Days already stored (posted by hand, or computed before) are left alone.

    Args:
        until: the last day to compute (a backtest's simulated today); closes after it
            are not read, so no metric is written from prices that are not yet known.
        max_stale_days: refuse when the newest close of the benchmark or of a held
            symbol is more than this many calendar days before today in New York (the
            store's clock; :mod:`pas.freshness`); None does not check (the backtest).

    Raises:
        StaleDataError: the benchmark or a held symbol has no stored close, or a stale one.
        InputError: the portfolio has neither capital nor cash flows.
    """
    (done,) = update_all_metrics(store, [portfolio], benchmark, until, max_stale_days=max_stale_days)
    return done


def update_all_metrics(
    store: Store,
    portfolios: Sequence[Portfolio],
    benchmark: str,
    until: date | None = None,
    *,
    max_stale_days: int | None = None,
) -> list[MetricsUpdate]:
    """:func:`update_metrics` of several portfolios, their trailing statistics computed
    together (:func:`~pas.metrics.trailing.recompute_all_trailing_stats`: one set of
    statistics calls for all, as the backtest measures its books every week).

    Every portfolio's new metrics are computed before anything is written, and every
    statistic is written before any metric (the order :func:`recompute_trailing_stats`
    explains), so a portfolio that fails leaves nothing of the others half written.

    Raises:
        StaleDataError, InputError: as :func:`update_metrics`, for the first portfolio
            that fails; nothing is written then.
    """
    computed = [(p, _new_metrics(store, p, benchmark, until, max_stale_days)) for p in portfolios]
    recompute_all_trailing_stats(store, [(p.id, new[0].day, new) for p, new in computed if new])
    done = []
    for p, new in computed:
        if new:
            store.put_daily_metrics(new)
            done.append(MetricsUpdate(p.id, len(new), new[0].day, new[-1].day))
        else:
            done.append(MetricsUpdate(p.id, 0))
    return done


def _new_metrics(
    store: Store, portfolio: Portfolio, benchmark: str, until: date | None, max_stale_days: int | None
) -> list[DailyMetric]:
    """The metrics of the portfolio's days not stored yet (see :func:`update_metrics`)."""
    fills = store.fills(portfolio.id)
    flows = store.cash_flows(portfolio.id)
    stored = store.metric_days(portfolio.id)
    bench = [(day, units) for _, day, units in store.price_units(None, until, [benchmark])]
    if max_stale_days is not None and bench:
        newest = {s: p.day for s, p in store.latest_prices(store.holdings(portfolio.id)).items()}
        newest[benchmark] = bench[-1][0]
        require_fresh(newest, market_day(store.clock()), max_stale_days, "compute returns")
    since = _first_missing(bench, stored, fills, flows)
    if since is None and stored and bench:
        return []  # every day is stored already
    # Every symbol the ledger ever traded: the fold keeps each (a closed position at 0).
    folded = None if since is None else store.ledger_fold(portfolio.id)
    traded = {f.symbol for f in fills} if folded is None else set(folded.qty)
    symbols = traded - {benchmark}
    closes: dict[str, list[tuple[date, int]]] = {benchmark: bench}
    if since is None:
        start = None
    else:
        # The day before `since` is the base of its return: read closes from there on,
        # plus each symbol's last close before it (carried forward).
        start = bench[max(bisect_left(bench, since, key=lambda pair: pair[0]) - 1, 0)][0]
        for symbol, seed in store.latest_price_units(symbols, on_or_before=start).items():
            closes[symbol] = [seed]
    for symbol, rows in groupby(store.price_units(start, until, symbols), key=itemgetter(0)):
        pairs = [(day, units) for _, day, units in rows]
        seeded = closes.setdefault(symbol, [])
        seeded.extend(pairs[1:] if seeded and pairs[0][0] <= seeded[-1][0] else pairs)
    computed = daily_returns_in_units(
        portfolio.id,
        portfolio.capital,
        fills,
        flows,
        closes,
        benchmark,
        since=since,
        folded=folded,
    )
    return [m for m in computed if m.day not in stored]


def _first_missing(
    bench: Sequence[tuple[date, int]], stored: set[date], fills: Sequence[Fill], flows: Sequence[CashFlow]
) -> date | None:
    """The first trading day after the base day without a stored metric, when the days
    before it are all stored (so only it and later days need computing); None when
    everything must be computed (nothing stored yet) or nothing is missing."""
    if not stored or not bench or (not fills and not flows):
        return None
    days = [d for d, _ in bench]
    for day in days[base_index(days, fills, flows) + 1 :]:
        if day not in stored:
            return day
    return None
