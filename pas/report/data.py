"""What a report shows, gathered from a store, and the statistics computed from it.

:class:`ReportData` is plain data so that a backtest can fill one without a store.
Statistics are computed with :mod:`pas.analytics` from the daily returns; VaR and CVaR
are losses, positive (:mod:`pas.analytics.losses`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from pas.errors import InputError
from pas.report.activity import Activity, Trade, activity, closes_by_day, trades_of
from pas.store.base import Store

VAR_LEVELS = (0.95, 0.99)
"""Confidence levels of the 1-day value at risk the report shows."""

STAT_NAMES = (
    "annual return",
    "annual volatility",
    "Sharpe",
    "Sortino",
    "max drawdown",
    "Calmar",
    "alpha",
    "beta",
    "information ratio",
    "VaR 95%",
    "CVaR 95%",
)
"""The statistics table's rows, in order. Returns, volatility, drawdown, alpha and VaR are
fractions (shown as percentages); the ratios and beta are plain numbers."""

COMBINED = "combined"
"""The combined book's name in every section."""

PERCENT_STATS = frozenset(
    {"annual return", "annual volatility", "max drawdown", "alpha", "VaR 95%", "CVaR 95%"}
)


@dataclass(frozen=True)
class PortfolioSeries:
    """A portfolio's daily history.

    Attributes:
        days: trading days, oldest first.
        returns: each day's return as a fraction, net of cash flows.
        equity: dollars at each close, None where unknown.
    """

    days: tuple[date, ...]
    returns: tuple[float, ...]
    equity: tuple[float | None, ...] = ()

    @property
    def last_equity(self) -> float | None:
        """The newest known equity in dollars."""
        known = [e for e in self.equity if e is not None]
        return known[-1] if known else None


@dataclass(frozen=True)
class RiskFigures:
    """A portfolio's 1-day value at risk, as fractions and dollars (losses are positive).

    Attributes:
        var: per confidence level (0.95, 0.99), the 1-day VaR as a loss fraction of equity.
        equity: the dollars the fractions apply to (None when unknown).
        method: how the figures were obtained, shown in the report.
    """

    var: Mapping[float, float]
    equity: float | None = None
    method: str = "historical"


@dataclass(frozen=True)
class ReportData:
    """Everything a report shows.

    Attributes:
        portfolios: daily history per portfolio id, in the order shown.
        benchmark: the benchmark's symbol, or None when there is none.
        benchmark_returns: the benchmark's daily returns (days without one are left out).
        weights: each portfolio's current target weights ``{symbol: weight}``.
        allocation: allocation history: (day, ``{portfolio: share of capital}``), oldest
            first; empty until an allocation has been applied.
        risk: risk figures per portfolio (missing ones are not shown).
        generated_at: when the report was made (UTC).
        backtest: whether the data comes from a backtest rather than live trading.
        trades: each portfolio's trades, oldest first.
        activity: each book's exposure and turnover on its days (the combined book's too).
        combined: the combined book (the portfolios' summed equity net of flows), shown as
            one more book in every section when given.
    """

    portfolios: Mapping[str, PortfolioSeries]
    benchmark: str | None = None
    benchmark_returns: Mapping[date, float] = field(default_factory=dict)
    weights: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    allocation: Sequence[tuple[date, Mapping[str, float]]] = ()
    risk: Mapping[str, RiskFigures] = field(default_factory=dict)
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    backtest: bool = False
    trades: Mapping[str, Sequence[Trade]] = field(default_factory=dict)
    activity: Mapping[str, Activity] = field(default_factory=dict)
    combined: PortfolioSeries | None = None

    @property
    def books(self) -> dict[str, PortfolioSeries]:
        """The series every section shows: each portfolio, then the combined book."""
        out = dict(self.portfolios)
        if self.combined is not None:
            out[COMBINED] = self.combined
        return out


def load_report_data(
    store: Store,
    portfolio_ids: Sequence[str],
    benchmark: str | None,
    *,
    allocation: Sequence[tuple[date, Mapping[str, float]]] | None = None,
    now: datetime | None = None,
    backtest: bool = False,
) -> ReportData:
    """Gathers a report's data from the store: daily metrics, current weights, trades
    (with exposure and turnover against the stored closes), and historical 1-day VaR from
    the returns.

    Args:
        store: the store holding the daily metrics (``put_daily_metrics``).
        portfolio_ids: the portfolios to show, each with at least one daily metric.
        benchmark: the benchmark's symbol, named in the report; its returns are the
            ``benchmark_ret`` of the daily metrics.
        allocation: allocation history; default: the allocations applied in ``store``,
            each portfolio's share of the account (weight × exposure) from its as-of day.
        now: the report's time (default: the store's clock).
        backtest: whether the store holds a backtest.

    With several portfolios, the combined book (:func:`combined_series`) follows them
    (``combined``) in every section: the equity chart, the statistics and risk tables.

    Raises:
        InputError: a portfolio has no daily metrics.
    """
    series: dict[str, PortfolioSeries] = {}
    bench: dict[date, float] = {}
    weights: dict[str, dict[str, float]] = {}
    risk: dict[str, RiskFigures] = {}
    for pid in portfolio_ids:
        metrics = store.daily_metrics(pid)
        if not metrics:
            raise InputError(f"portfolio {pid!r} has no daily metrics yet; run `pas metrics update {pid}`")
        s = PortfolioSeries(
            days=tuple(m.day for m in metrics),
            returns=tuple(m.ret for m in metrics),
            equity=tuple(None if m.equity is None else float(m.equity) for m in metrics),
        )
        series[pid] = s
        for m in metrics:
            if m.benchmark_ret is not None:
                bench.setdefault(m.day, m.benchmark_ret)
        current = store.current_weights(pid)
        weights[pid] = dict(current.weights) if current is not None else {}
        risk[pid] = historical_risk(s)
    combined = combined_series(series.values()) if len(series) > 1 else None
    trades, books = _activity(store, series, combined)
    if combined is not None:
        risk[COMBINED] = historical_risk(combined)
    return ReportData(
        portfolios=series,
        benchmark=benchmark if bench else None,
        benchmark_returns=dict(sorted(bench.items())),
        weights=weights,
        allocation=tuple(allocation if allocation is not None else applied_allocations(store)),
        risk=risk,
        generated_at=now or store.clock(),
        backtest=backtest,
        trades=trades,
        activity=books,
        combined=combined,
    )


def combined_series(books: Iterable[PortfolioSeries]) -> PortfolioSeries:
    """The combined book of several portfolios: on each day any of them has a return, the
    return of their summed equities net of outside money
    (:func:`pas.backtest.combined_returns`) and that summed equity in dollars."""
    import numpy as np

    from pas.backtest import combined_returns

    books = list(books)
    days = sorted({d for b in books for d in b.days})
    row = {d: i for i, d in enumerate(days)}
    returns = np.full((len(days), len(books)), np.nan)
    equity = np.full((len(days), len(books)), np.nan)
    for j, b in enumerate(books):
        for d, r, e in zip(b.days, b.returns, b.equity or (None,) * len(b.days), strict=True):
            returns[row[d], j] = r
            equity[row[d], j] = math.nan if e is None else e
    combined = combined_returns(returns, equity)
    known = ~np.isnan(combined)
    total = np.where(np.isnan(equity), 0.0, equity).sum(axis=1)
    return PortfolioSeries(
        days=tuple(d for d, k in zip(days, known, strict=True) if k),
        returns=tuple(float(r) for r in combined[known]),
        equity=tuple(float(e) for e in total[known]),
    )


def _activity(
    store: Store, series: Mapping[str, PortfolioSeries], combined: PortfolioSeries | None
) -> tuple[dict[str, list[Trade]], dict[str, Activity]]:
    """Each portfolio's trades and each book's exposure and turnover, from one read of the
    closes. The combined book's are those of every portfolio's trades over the summed
    equity."""
    fills = {pid: store.fills(pid) for pid in series}
    symbols = sorted({f.symbol for found in fills.values() for f in found})
    last = max((s.days[-1] for s in series.values() if s.days), default=None)
    closes = closes_by_day(store.price_history(symbols, end=last)) if symbols else {}
    trades = {pid: trades_of(found, closes) for pid, found in fills.items()}
    books = {pid: activity(s.days, s.equity, trades[pid], closes) for pid, s in series.items()}
    if combined is not None:
        every = [t for found in trades.values() for t in found]
        books[COMBINED] = activity(combined.days, combined.equity, every, closes)
    return trades, books


def historical_risk(series: PortfolioSeries) -> RiskFigures:
    """1-day historical VaR at :data:`VAR_LEVELS` from a portfolio's daily returns, as
    losses (positive)."""
    from pas.analytics import value_at_risk
    from pas.analytics.losses import as_loss

    return RiskFigures(
        var={level: as_loss(_scalar(value_at_risk(list(series.returns), 1 - level))) for level in VAR_LEVELS},
        equity=series.last_equity,
    )


def statistics(series: PortfolioSeries, benchmark_returns: Mapping[date, float]) -> dict[str, float]:
    """The statistics table's values (:data:`STAT_NAMES`) for one portfolio; NaN where the
    data is too short or there is no benchmark. Alpha, beta and the information ratio use
    the days that have a benchmark return."""
    import numpy as np

    from pas import analytics as a
    from pas.analytics.losses import as_loss

    r = np.asarray(series.returns, dtype=np.float64)
    bench = np.asarray([benchmark_returns.get(d, math.nan) for d in series.days], dtype=np.float64)
    both = ~np.isnan(bench)
    nan = math.nan
    stats = {
        "annual return": _scalar(a.annual_return(r)),
        "annual volatility": _scalar(a.annual_volatility(r)),
        "Sharpe": _scalar(a.sharpe_ratio(r)),
        "Sortino": _scalar(a.sortino_ratio(r)),
        "max drawdown": _scalar(a.max_drawdown(r)),
        "Calmar": _scalar(a.calmar_ratio(r)),
        "alpha": _scalar(a.alpha(r[both], bench[both])) if both.sum() >= 2 else nan,
        "beta": _scalar(a.beta(r[both], bench[both])) if both.sum() >= 2 else nan,
        "information ratio": _scalar(a.information_ratio(r[both], bench[both])) if both.sum() >= 2 else nan,
        "VaR 95%": as_loss(_scalar(a.value_at_risk(r, 0.05))),
        "CVaR 95%": as_loss(_scalar(a.conditional_value_at_risk(r, 0.05))),
    }
    return stats


def _scalar(value: object) -> float:
    """A statistic of 1-D returns as a float (pas.analytics returns floats for 1-D input)."""
    return float(value)  # type: ignore[arg-type]


def applied_allocations(store: Store) -> list[tuple[date, dict[str, float]]]:
    """The allocations applied in a store, oldest first, as each portfolio's share of the
    account (relative weight × exposure)."""
    return [
        (a.as_of, {p: w * a.exposure for p, w in a.weights.items()})
        for a in reversed(store.allocation_history())
    ]
