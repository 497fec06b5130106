"""Daily metrics per portfolio and the trailing statistics computed from them.

A daily metric is a portfolio's return on one trading day (with its equity at the close
and the benchmark's return that day, when known). Metrics are posted by hand
(:func:`parse_posted_rows`, :func:`check_posted`) or computed from the portfolio's own
ledger and the stored daily closes (:func:`daily_returns_from_ledger`).

Conventions of :func:`daily_returns_from_ledger`:

- **Trading days** are the days with a stored close of the benchmark (``BENCHMARK``,
  default SPY); the benchmark's return on a day is its close over its previous stored close.
- **Equity** at the close of day d is capital + cash flows up to d − cash consumed by fills
  up to d (buys − sells + commissions) + Σ quantity × close. A fill or cash flow counts on
  the first trading day on or after its day in New York (one on a Saturday counts on
  Monday). A held symbol without a close on d is valued at its last earlier close.
- **Return** on day d is ``equity_d / (equity_{d−1} + flow_d) − 1``, where ``flow_d`` are
  the cash flows of day d, counted at the start of the day: a deposit is not a gain and a
  withdrawal is not a loss, and the day's P&L on deposited money is measured against it.
  Start of day because pas invests a flow the morning it arrives (an allocation's
  transfer is recorded by the rebalance that trades it); counting it at the end of the
  day would credit that money's first-day P&L to the old capital — five times over for a
  portfolio whose capital the allocation multiplied by six. A day with nothing at work
  (previous equity plus flows zero or less) gets no metric.
- The **first metric day** is the first trading day after the one the portfolio's first
  fill or cash flow counts on: that day's close is the base.

Trailing statistics (:func:`trailing_stats_table`) are the :mod:`pas.analytics` functions
over windows of :data:`WINDOWS`, stored under the functions' names plus ``days`` and
``cumulative_return``. NumPy and pandas are imported inside the functions that need them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pas.dates import closed_reason
from pas.errors import InputError, StaleDataError
from pas.freshness import require_fresh
from pas.models import (
    UNITS_PER_ONE,
    CashFlow,
    DailyMetric,
    Fill,
    Portfolio,
    TrailingStats,
    from_units,
    parse_day,
    parse_decimal,
    to_units,
)
from pas.schedule import market_day

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from pas.store.base import Store

    FloatArray = npt.NDArray[np.float64]

FIXED_WINDOWS = (63, 126, 252)
"""Trailing windows in trading days: a quarter, half a year and a year."""
INCEPTION = "inception"
WINDOWS: tuple[str, ...] = (*(str(w) for w in FIXED_WINDOWS), INCEPTION)
"""Window names as stored: the allocation engine reads them by these names."""
MIN_INCEPTION_RETURNS = 2
"""Statistics since inception need at least this many returns (a deviation needs two)."""
INCEPTION_CHUNK = 256
"""As-of days per block of expanding windows (a block is history × this many floats)."""

STATISTICS: tuple[str, ...] = (
    "days",
    "cumulative_return",
    "annual_return",
    "annual_volatility",
    "sharpe_ratio",
    "sortino_ratio",
    "downside_risk",
    "max_drawdown",
    "calmar_ratio",
    "alpha",
    "beta",
    "tracking_error",
    "information_ratio",
    "value_at_risk",
    "conditional_value_at_risk",
)
"""Names of the stored statistics: ``pas.analytics`` function names, plus ``days`` (the
number of returns used) and ``cumulative_return`` (compounded over the window)."""

SOURCE_POST = "post"
SOURCE_UPDATE = "update"
MIN_RETURN = -1.0
"""A day can lose everything (-100%), never more."""


# -- posting -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PostedRow:
    """One day of performance given by hand: ``ret`` a fraction, ``equity`` dollars."""

    day: date
    ret: float
    equity: Decimal | None = None


def parse_return(text: str | float, what: str = "return") -> float:
    """A daily return as a fraction (0.01 is +1%): finite and not below -100%."""
    try:
        value = float(str(text).strip())
    except ValueError:
        raise InputError(f"{what} must be a number such as 0.0125 (for +1.25%), got {text!r}") from None
    if not math.isfinite(value):
        raise InputError(f"{what} must be a finite number, got {text!r}")
    if value < MIN_RETURN:
        raise InputError(f"{what} {text} is below -100% (-1); returns are fractions: 0.01 is +1%")
    return value


def parse_equity(text: str | float, what: str = "equity") -> Decimal:
    """Equity in dollars: a finite number, zero or more, kept to 9 decimal places."""
    value = parse_decimal(text, what)
    if value < 0:
        raise InputError(f"{what} must be zero or more dollars, got {text!r}")
    return value.quantize(Decimal(1).scaleb(-9))


def parse_posted_rows(records: Iterable[tuple[str, Mapping[str, Any]]]) -> list[PostedRow]:
    """Rows of a metrics file: ``date``, ``return``, optional ``equity`` per record.

    Every record is checked; all problems are reported together (up to five) and then
    nothing is returned.

    Args:
        records: (location, record) pairs, location such as "line 3".

    Raises:
        InputError: any record is bad, a day appears twice, or there is no record.
    """
    rows: list[PostedRow] = []
    problems: list[str] = []
    seen: dict[date, str] = {}
    for where, record in records:
        try:
            day = parse_day(_field(record, "date"))
            ret = parse_return(_field(record, "return"))
            raw_equity = record.get("equity")
            equity = None if raw_equity in (None, "") else parse_equity(raw_equity)
        except InputError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if day in seen:
            problems.append(f"{where}: {day} is already on {seen[day]}")
            continue
        seen[day] = where
        rows.append(PostedRow(day, ret, equity))
    if problems:
        raise InputError(f"{len(problems)} bad row(s), nothing posted: {_first(problems)}")
    if not rows:
        raise InputError("no rows to post; give date and return columns")
    return rows


def read_posted_file(path: Path) -> list[PostedRow]:
    """Reads a CSV (or JSON list) with columns ``date``, ``return``, optional ``equity``."""
    from pas.portfolio.imports import records_of

    try:
        return parse_posted_rows(records_of(path, "metrics"))
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None


def portfolio_start(portfolio: Portfolio, fills: Sequence[Fill], flows: Sequence[CashFlow]) -> date:
    """The first day the portfolio existed: its creation, or an earlier fill or cash flow
    (history imported after the fact)."""
    days = [market_day(portfolio.created_at)]
    days += [market_day(f.ts) for f in fills[:1]] + [market_day(f.ts) for f in flows[:1]]
    return min(days)


def check_posted(
    rows: Sequence[PostedRow],
    *,
    start: date | None,
    today: date,
    existing: set[date],
    replace: bool,
) -> None:
    """Refuses rows dated in the future, on a day the NYSE is closed, before ``start``, or
    already stored without ``replace``.

    Args:
        start: the first day the portfolio existed; None to backfill a track record kept
            before it (``pas metrics post --backfill``).

    Raises:
        InputError: listing the bad days (nothing was written).
    """
    problems: list[str] = []
    for row in rows:
        if row.day > today:
            problems.append(f"{row.day} is in the future (today is {today})")
        elif closed := closed_reason(row.day):
            problems.append(f"{row.day} is {closed}, not an NYSE trading day")
        elif start is not None and row.day < start:
            problems.append(
                f"{row.day} is before the portfolio existed ({start}); add --backfill to post "
                "a track record from before it"
            )
        elif row.day in existing and not replace:
            problems.append(f"{row.day} is already posted (add --replace to overwrite it)")
    if problems:
        raise InputError(f"nothing posted: {_first(problems)}")


def posted_metrics(
    portfolio: str, rows: Sequence[PostedRow], benchmark_closes: Sequence[tuple[date, Decimal]]
) -> list[DailyMetric]:
    """Metrics of posted rows, with the benchmark's return where two closes allow it.

    The benchmark return of day D is D's close over the close before it; None when either
    is not stored.
    """
    closes = dict(benchmark_closes)
    ordered = sorted(closes)
    previous = {day: before for before, day in pairwise(ordered)}
    metrics = []
    for row in rows:
        bench = None
        if row.day in previous:
            bench = float(closes[row.day] / closes[previous[row.day]]) - 1.0
        metrics.append(DailyMetric(portfolio, row.day, row.ret, row.equity, bench, SOURCE_POST))
    return metrics


# -- returns from the ledger -------------------------------------------------------------


def daily_returns_from_ledger(
    portfolio: str,
    capital: Decimal | None,
    fills: Sequence[Fill],
    flows: Sequence[CashFlow],
    closes: Mapping[str, Sequence[tuple[date, Decimal]]],
    benchmark: str,
    since: date | None = None,
) -> list[DailyMetric]:
    """Every trading day's equity, return and benchmark return from a portfolio's ledger.

    Pure. See the module docstring for the conventions (trading days, equity, returns net
    of cash flows, carrying a close forward, the first metric day). Arithmetic is on
    integers of 10⁻¹⁸ dollars; equity is reported to 10⁻⁹ dollars.

    Args:
        portfolio: the portfolio's id.
        capital: its starting dollars (None counts as 0 when there are cash flows).
        fills: its fills, oldest first.
        flows: its cash flows, oldest first.
        closes: (day, close) pairs per symbol, oldest first; must hold the benchmark and
            every symbol the fills trade.
        benchmark: the symbol whose close days are the trading days.
        since: only the metrics of days on or after it are wanted. Equity is then valued
            from the trading day before it only, so ``closes`` of the other symbols need
            to start at that day's close (or the last one before it, carried forward):
            the results equal those of a full computation, for a fraction of the work.

    Returns:
        One :class:`DailyMetric` (source ``update``) per trading day after the base day;
        empty when there is no fill or cash flow yet or no trading day after it.

    Raises:
        InputError: no capital and no cash flows (the portfolio has no equity).
        StaleDataError: no close of the benchmark, or of a held symbol on or before a day.
    """
    if capital is None and not flows:
        raise InputError(
            f"portfolio {portfolio} has no capital and no cash flows, so it has no equity; "
            f"fund it with `pas portfolio fund {portfolio} AMOUNT`"
        )
    bench = list(closes.get(benchmark, ()))
    if not bench:
        raise StaleDataError(
            f"no closes of the benchmark {benchmark} are stored; run `pas prices fetch` first"
        )
    if not fills and not flows:
        return []
    days = [d for d, _ in bench]
    base = _base_index(days, fills, flows)
    if base >= len(days) - 1:
        return []
    # Events by the index of the trading day they count on.
    fill_at = _group(fills, days)
    flow_at = _group(flows, days)
    symbols = sorted({f.symbol for f in fills})
    history = {s: _units(closes.get(s, ())) for s in symbols}
    seen = dict.fromkeys(symbols, 0)  # how many of each symbol's closes are on or before the day
    last_close: dict[str, int] = {}
    qty: dict[str, int] = {}
    cash = to_units(capital or Decimal(0)) * UNITS_PER_ONE
    metrics: list[DailyMetric] = []
    previous_equity = 0
    # Equity is valued from this day on; before it only holdings and cash are counted.
    valued = base if since is None else max(base, _index_on_or_after(days, since) - 1)
    for index in range(base, len(days)):
        day = days[index]
        flow_today = sum(to_units(f.amount) for f in flow_at.get(index, ())) * UNITS_PER_ONE
        for fill in fill_at.get(index, ()):
            signed = to_units(fill.signed_qty)
            qty[fill.symbol] = qty.get(fill.symbol, 0) + signed
            cash -= signed * to_units(fill.price) + to_units(fill.commission) * UNITS_PER_ONE
        cash += flow_today
        if index < valued:
            continue
        equity = cash
        for symbol, held in qty.items():
            # Carry the last close on or before the day forward.
            pairs, count = history[symbol], seen[symbol]
            while count < len(pairs) and pairs[count][0] <= day:
                count += 1
            seen[symbol] = count
            if count:
                last_close[symbol] = pairs[count - 1][1]
            if held == 0:
                continue
            if symbol not in last_close:
                raise StaleDataError(
                    f"no close of {symbol} on or before {day} is stored (portfolio {portfolio} holds it); "
                    "run `pas prices fetch` first"
                )
            equity += held * last_close[symbol]
        if index > valued and previous_equity + flow_today > 0:
            ret = equity / (previous_equity + flow_today) - 1.0
            bench_ret = float(bench[index][1] / bench[index - 1][1]) - 1.0
            dollars = from_units(equity // UNITS_PER_ONE)
            metrics.append(DailyMetric(portfolio, day, ret, dollars, bench_ret, SOURCE_UPDATE))
        previous_equity = equity
    return metrics


def _units(pairs: Sequence[tuple[date, Decimal]]) -> list[tuple[date, int]]:
    return [(d, to_units(c)) for d, c in pairs]


def _base_index(days: Sequence[date], fills: Sequence[Fill], flows: Sequence[CashFlow]) -> int:
    """The index of the base day: the trading day the first fill or cash flow counts on."""
    first_event = min([market_day(f.ts) for f in fills[:1]] + [market_day(f.ts) for f in flows[:1]])
    return _index_on_or_after(days, first_event)


def _index_on_or_after(days: Sequence[date], day: date) -> int:
    from bisect import bisect_left

    return bisect_left(days, day)


def _group[T: (Fill, CashFlow)](events: Sequence[T], days: Sequence[date]) -> dict[int, list[T]]:
    grouped: dict[int, list[T]] = {}
    for event in events:
        grouped.setdefault(_index_on_or_after(days, market_day(event.ts)), []).append(event)
    return grouped


# -- trailing statistics -----------------------------------------------------------------


def trailing_stats_table(
    portfolio: str, metrics: Sequence[DailyMetric], from_day: date | None = None
) -> list[TrailingStats]:
    """Statistics of every window as of every metric day on or after ``from_day``.

    The statistics as of day D use only the returns of days up to D (no look-ahead). A
    fixed window (63, 126, 252 trading days) with fewer returns than its length stores NaN
    for every statistic but ``days``; ``inception`` needs at least
    :data:`MIN_INCEPTION_RETURNS` returns. Benchmark-relative statistics (``alpha``,
    ``beta``, ``tracking_error``, ``information_ratio``) skip days without a benchmark
    return; NaN when none is stored.

    Fixed windows run every :mod:`pas.analytics` function once over a (window × as-of days)
    array of sliding windows. ``inception`` pads expanding windows with NaN for the
    functions that skip NaN exactly as they skip absent days, and calls the others
    (``annual_return``, ``calmar_ratio`` and ``value_at_risk``, which count or refuse NaN)
    per as-of day. ``alpha`` and ``beta`` are computed per as-of day in every window,
    because pas.analytics regresses all columns on one benchmark series while each as-of
    day has its own benchmark window.

    Args:
        portfolio: the portfolio's id.
        metrics: all its daily metrics, oldest first.
        from_day: the first as-of day to compute (default: the first metric day).

    Returns:
        One :class:`TrailingStats` per (as-of day, window), keyed by :data:`STATISTICS`.
    """
    import numpy as np

    if not metrics:
        return []
    days = [m.day for m in metrics]
    returns = np.array([m.ret for m in metrics], dtype=np.float64)
    bench = np.array([np.nan if m.benchmark_ret is None else m.benchmark_ret for m in metrics])
    first = 0 if from_day is None else _index_on_or_after(days, from_day)
    if first >= len(days):
        return []
    tables = {str(w): _fixed_window(returns, bench, w, first) for w in FIXED_WINDOWS}
    tables[INCEPTION] = _inception(returns, bench, first)
    out = []
    for column, index in enumerate(range(first, len(days))):
        for window in WINDOWS:
            values = {name: float(tables[window][name][column]) for name in STATISTICS}
            out.append(TrailingStats(portfolio, days[index], window, values))
    return out


def recompute_trailing_stats(store: Store, portfolio: str, from_day: date) -> int:
    """Replaces a portfolio's statistics as of ``from_day`` and later with fresh ones.

    Statistics as of earlier days cannot have changed (they use only earlier returns).

    Returns:
        How many (as-of day, window) rows were stored.
    """
    stats = trailing_stats_table(portfolio, store.daily_metrics(portfolio), from_day)
    store.delete_trailing_stats_from(portfolio, from_day)
    return store.put_trailing_stats(stats)


def _statistics(windows: FloatArray, factors: FloatArray) -> dict[str, FloatArray]:
    """Each statistic of every column of ``windows`` (rows: days; columns: as-of days).

    ``factors`` holds each column's benchmark returns, NaN where missing. Absent days at
    the end of a column are NaN (inception); only functions exact under NaN padding are
    called here.
    """
    import numpy as np

    from pas import analytics

    active = windows - factors
    stats: dict[str, FloatArray] = {
        "cumulative_return": np.asarray(analytics.cumulative_returns(windows))[-1],
        "annual_volatility": np.asarray(analytics.annual_volatility(windows)),
        "sharpe_ratio": np.asarray(analytics.sharpe_ratio(windows)),
        "sortino_ratio": np.asarray(analytics.sortino_ratio(windows)),
        "downside_risk": np.asarray(analytics.downside_risk(windows)),
        "max_drawdown": np.asarray(analytics.max_drawdown(windows)),
        "conditional_value_at_risk": np.asarray(analytics.conditional_value_at_risk(windows)),
        # r − b against a zero benchmark is the same arithmetic as r against b, column by column.
        "tracking_error": np.asarray(analytics.tracking_error(active, 0.0)),
        "information_ratio": np.asarray(analytics.information_ratio(active, 0.0)),
    }
    return stats


def _alpha_beta(windows: FloatArray, factors: FloatArray, lengths: Sequence[int]) -> dict[str, FloatArray]:
    """``alpha`` and ``beta`` of each column over its first ``lengths[j]`` rows."""
    import numpy as np

    from pas import analytics

    alphas, betas = np.empty(len(lengths)), np.empty(len(lengths))
    for j, length in enumerate(lengths):
        a, b = analytics.alpha_beta(windows[:length, j], factors[:length, j])
        alphas[j], betas[j] = float(a), float(b)  # type: ignore[arg-type]
    return {"alpha": alphas, "beta": betas}


def _fixed_window(returns: FloatArray, bench: FloatArray, window: int, first: int) -> dict[str, FloatArray]:
    """Statistics of a fixed window as of days ``first`` … last; NaN while too short."""
    import numpy as np
    from numpy.lib.stride_tricks import sliding_window_view

    count = len(returns) - first
    out = {name: np.full(count, np.nan) for name in STATISTICS}
    out["days"] = np.minimum(np.arange(first, len(returns)) + 1, window).astype(np.float64)
    # Column j of the sliding view ends on day j + window − 1.
    start = max(first - window + 1, 0)
    if len(returns) < window or start + window - 1 >= len(returns):
        return out
    windows = sliding_window_view(returns, window)[start:].T
    factors = sliding_window_view(bench, window)[start:].T
    full = windows.shape[1]
    stats = _statistics(windows, factors)
    from pas import analytics

    stats["annual_return"] = np.asarray(analytics.annual_return(windows))
    stats["calmar_ratio"] = np.asarray(analytics.calmar_ratio(windows))
    stats["value_at_risk"] = np.asarray(analytics.value_at_risk(windows))
    stats.update(_alpha_beta(windows, factors, [window] * full))
    for name, values in stats.items():
        out[name][count - full :] = values
    return out


def _inception(returns: FloatArray, bench: FloatArray, first: int) -> dict[str, FloatArray]:
    """Statistics since the first return as of days ``first`` … last.

    Expanding windows are built :data:`INCEPTION_CHUNK` as-of days at a time, so memory
    stays linear in the history.
    """
    import numpy as np

    from pas import analytics

    n = len(returns)
    parts: list[dict[str, FloatArray]] = []
    for chunk in range(first, n, INCEPTION_CHUNK):
        ends = np.arange(chunk, min(chunk + INCEPTION_CHUNK, n))  # as-of index of each column
        lengths = [int(e) + 1 for e in ends]
        rows = lengths[-1]
        present = np.arange(rows)[:, np.newaxis] <= ends  # day i is in column j's window
        windows = np.where(present, returns[:rows, np.newaxis], np.nan)
        factors = np.where(present, bench[:rows, np.newaxis], np.nan)
        part = _statistics(windows, factors)
        part.update(_alpha_beta(windows, factors, lengths))
        annual, calmar, var = (np.empty(len(lengths)) for _ in range(3))
        for j, length in enumerate(lengths):
            prefix = returns[:length]
            annual[j] = float(analytics.annual_return(prefix))  # type: ignore[arg-type]
            calmar[j] = float(analytics.calmar_ratio(prefix))  # type: ignore[arg-type]
            var[j] = float(analytics.value_at_risk(prefix))  # type: ignore[arg-type]
        part.update(annual_return=annual, calmar_ratio=calmar, value_at_risk=var)
        part["days"] = np.array(lengths, dtype=np.float64)
        short = part["days"] < MIN_INCEPTION_RETURNS
        for name, values in part.items():
            if name != "days":
                values[short] = np.nan
        parts.append(part)
    return {name: np.concatenate([p[name] for p in parts]) for name in STATISTICS}


def _field(record: Mapping[str, Any], key: str) -> str:
    value = record.get(key)
    if value is None or str(value).strip() == "":
        raise InputError(f"missing {key}")
    return str(value).strip()


def _first(problems: Sequence[str], shown: int = 5) -> str:
    more = f" (and {len(problems) - shown} more)" if len(problems) > shown else ""
    return "; ".join(problems[:shown]) + more


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
    fills = store.fills(portfolio.id)
    flows = store.cash_flows(portfolio.id)
    stored = store.metric_days(portfolio.id)
    bench = [(p.day, p.close) for p in store.price_history([benchmark], None, until).get(benchmark, [])]
    if max_stale_days is not None and bench:
        newest = {s: p.day for s, p in store.latest_prices(store.holdings(portfolio.id)).items()}
        newest[benchmark] = bench[-1][0]
        require_fresh(newest, market_day(store.clock()), max_stale_days, "compute returns")
    since = _first_missing(bench, stored, fills, flows)
    if since is None and stored and bench:
        return MetricsUpdate(portfolio.id, 0)  # every day is stored already
    symbols = {f.symbol for f in fills} - {benchmark}
    closes: dict[str, list[tuple[date, Decimal]]] = {benchmark: bench}
    if since is None:
        start = None
    else:
        # The day before `since` is the base of its return: read closes from there on,
        # plus each symbol's last close before it (carried forward).
        start = bench[max(_index_on_or_after([d for d, _ in bench], since) - 1, 0)][0]
        for symbol, price in store.latest_prices(symbols, on_or_before=start).items():
            closes[symbol] = [(price.day, price.close)]
    for symbol, prices in store.price_history(symbols, start, until).items():
        seeded = closes.setdefault(symbol, [])
        seeded.extend((p.day, p.close) for p in prices if not seeded or p.day > seeded[-1][0])
    computed = daily_returns_from_ledger(
        portfolio.id, portfolio.capital, fills, flows, closes, benchmark, since=since
    )
    new = [m for m in computed if m.day not in stored]
    if not new:
        return MetricsUpdate(portfolio.id, 0)
    store.put_daily_metrics(new)
    recompute_trailing_stats(store, portfolio.id, new[0].day)
    return MetricsUpdate(portfolio.id, len(new), new[0].day, new[-1].day)


def _first_missing(
    bench: Sequence[tuple[date, Decimal]], stored: set[date], fills: Sequence[Fill], flows: Sequence[CashFlow]
) -> date | None:
    """The first trading day after the base day without a stored metric, when the days
    before it are all stored (so only it and later days need computing); None when
    everything must be computed (nothing stored yet) or nothing is missing."""
    if not stored or not bench or (not fills and not flows):
        return None
    days = [d for d, _ in bench]
    for day in days[_base_index(days, fills, flows) + 1 :]:
        if day not in stored:
            return day
    return None
