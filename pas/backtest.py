"""Backtests: the live pipeline driven by a simulated clock over stored history.

On each trading day of the backtest (a day with a stored close of the benchmark), in order:

1. the clock is set to that day at :data:`pas.schedule.DECISION_TIME` in New York, the
   time of the ``pas build --due`` cron line;
2. :func:`pas.workflows.build_due` builds every portfolio whose schedule is due *as of
   that moment*: the strategies see only records public by then (the store's
   point-in-time view);
3. on the first trading day of each ISO week (and on the first day), with an allocation
   method, the metrics are brought up to the day before and
   :func:`pas.allocation.allocate` sizes the portfolios from returns and trailing
   statistics up to that day; the allocation is applied;
4. when anything changed, :func:`pas.workflows.trade` trades the portfolios
   through the simulated broker, which fills at that day's stored close (with the
   configured slippage and commission); fills go to the ledger;
5. at the end, :func:`pas.metrics.update_metrics` computes every day's return and the
   trailing statistics.

These are the functions the live commands call; only the clock, the broker and the
store they work on differ. Datasets are read from the source store. The days are
simulated on a working store in memory (:class:`pas.store.memory.MemoryStore`, whose
answers do not slow down as the history grows); when the last day is measured, the
ledger, targets, metrics, allocations and the simulated broker's state are written once
to the separate target store (``PAS_HOME/backtest.db``, or the ``backtest.*``
collections of ``DB_NAME``), so a backtest never touches live positions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from pas.errors import InputError, PasError, RefusedError
from pas.models import AppliedAllocation, CashFlow, Portfolio, new_run_id
from pas.portfolio.broker.base import Broker
from pas.portfolio.trading.limits import TradingLimits
from pas.store.base import Store

# Closes copied from before the start, so trailing windows and carry-forward have history.
PRICE_LOOKBACK = timedelta(days=400)
# A target symbol whose newest close is older than this on the day is dropped (the rest
# of its weight stays in cash): the simulated broker could not price it.
MAX_PRICE_AGE = timedelta(days=7)

Progress = Callable[[int, int], None]


class SimulatedClock:
    """A clock the backtest sets; the target store and its simulated broker read it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass(frozen=True)
class BacktestSpec:
    """What to simulate.

    Attributes:
        capital: dollars the whole book starts with.
        allocation_method: ``score``, ``inverse_vol``, ``risk_parity`` or ``equal``, applied
            weekly; None keeps each portfolio at an equal share of ``capital`` (deposited
            on the first day) with no reallocation.
    """

    start: date
    end: date
    capital: Decimal
    benchmark: str
    limits: TradingLimits
    max_stale_days: int
    allocation_method: str | None = "equal"
    min_alloc: float = 0.0
    max_alloc: float = 1.0
    target_vol: float | None = None
    min_history: int = 63
    slippage_bps: Decimal = Decimal(0)
    commission: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise InputError(f"--end {self.end} is before --start {self.start}")
        if self.capital <= 0:
            raise InputError(f"--capital must be more than zero dollars, got {self.capital}")


@dataclass
class BacktestResult:
    """What a backtest did; its ledger, metrics and allocations are in the target store."""

    portfolios: list[str]
    days: list[date]
    builds: int = 0
    allocations: int = 0
    rebalances: int = 0
    notes: list[str] = field(default_factory=list)


def trading_days(source: Store, benchmark: str, start: date, end: date) -> list[date]:
    """The days with a stored close of the benchmark between two days (inclusive).

    Raises:
        InputError: there is none.
    """
    closes = source.price_history([benchmark], start, end).get(benchmark, [])
    if not closes:
        raise InputError(
            f"no stored close of {benchmark} (BENCHMARK) between {start} and {end}; "
            "store prices first (`pas prices fetch` or `pas prices import`)"
        )
    return [p.day for p in closes]


def run_backtest(
    source: Store,
    target: Store,
    clock: SimulatedClock,
    portfolios: Sequence[Portfolio],
    spec: BacktestSpec,
    progress: Progress | None = None,
) -> BacktestResult:
    """Runs the backtest (see the module docstring) into ``target``, which must be empty.

    Args:
        source: where the datasets and closes are read (never written).
        target: the backtest's own store, built on ``clock``.
        clock: the simulated clock ``target`` reads.
        progress: called with (days done, days in all) after each day.

    Raises:
        InputError: no portfolio, no trading day, or an impossible allocation bound.
    """
    from pas.portfolio.broker.sim import SimBroker
    from pas.store.memory import MemoryStore

    if not portfolios:
        raise InputError("a backtest needs at least one portfolio")
    days = trading_days(source, spec.benchmark, spec.start, spec.end)
    clock.now = _at(days[0])
    work = MemoryStore(clock)  # the days are simulated here; the results go to `target`
    _copy_prices(source, (work, target), days[0] - PRICE_LOOKBACK, days[-1])
    books = [replace(p, capital=None, created_at=clock.now, broker=SimBroker.name) for p in portfolios]
    for p in books:
        work.add_portfolio(p)
    if spec.allocation_method is None:
        share = spec.capital / len(books)
        for p in books:
            work.add_cash_flow(CashFlow(p.id, share, clock.now, f"backtest-seed-{p.id}", "backtest capital"))
    broker = SimBroker(
        work,
        slippage_bps=spec.slippage_bps,
        commission=spec.commission,
        cash=spec.capital,
        market="always",
    )
    result = BacktestResult([p.id for p in books], days)
    for number, day in enumerate(days):
        clock.now = _at(day)
        built = _build_due(source, work, books, day, spec, result)
        allocated = _allocate(work, books, day, number, days, spec, result)
        if built or allocated:
            _trade(work, broker, books, day, spec, result)
        if progress is not None:
            progress(number + 1, len(days))
    _measure(work, books, spec.benchmark, days[-1])
    work.save_into(target)
    work.close()
    return result


def _at(day: date) -> datetime:
    from pas.schedule import decision_time

    return decision_time(day)


def _copy_prices(source: Store, targets: Sequence[Store], start: date, end: date) -> None:
    history = source.price_history(source.price_symbols(), start, end)
    closes = [p for prices in history.values() for p in prices]
    for target in targets:
        target.upsert_prices(closes)


def _build_due(
    source: Store,
    target: Store,
    books: Sequence[Portfolio],
    day: date,
    spec: BacktestSpec,
    result: BacktestResult,
) -> bool:
    """Builds the due portfolios as the live ``pas build --due`` does, keeping only the
    symbols the simulated broker can price that day."""
    from pas.strategies.build import Build
    from pas.workflows import build_due

    def priced(p: Portfolio, build: Build) -> dict[str, float]:
        weights = _priced(target, build.weights, day)
        dropped = sorted(set(build.weights) - set(weights))
        if dropped:
            result.notes.append(f"{day} {p.id}: no close for {', '.join(dropped)}; left in cash")
        return weights

    results = build_due(source, target, books, _at(day), max_stale_days=spec.max_stale_days, tidy=priced)
    built = 0
    for p, outcome in results:
        if isinstance(outcome, PasError):
            result.notes.append(f"{day} {p.id}: not built ({outcome})")
        else:
            built += 1
    result.builds += built
    return built > 0


def _priced(target: Store, weights: dict[str, float], day: date) -> dict[str, float]:
    closes = target.latest_prices(weights, on_or_before=day)
    return {s: w for s, w in weights.items() if s in closes and day - closes[s].day <= MAX_PRICE_AGE}


def _measure(target: Store, books: Sequence[Portfolio], benchmark: str, until: date) -> None:
    """Brings the daily metrics up to ``until``, for every portfolio that has money: one
    the allocation never funded (it never had targets to trade) has no equity to measure."""
    from pas.metrics import update_metrics

    for p in books:
        if target.cash_flows(p.id):
            update_metrics(target, p, benchmark, until=until)


def _allocate(
    target: Store,
    books: Sequence[Portfolio],
    day: date,
    number: int,
    days: Sequence[date],
    spec: BacktestSpec,
    result: BacktestResult,
) -> bool:
    """Applies a new allocation on the first day and the first trading day of each week."""
    from pas.allocation import allocate

    if spec.allocation_method is None:
        return False
    if number > 0 and days[number - 1].isocalendar()[:2] == day.isocalendar()[:2]:
        return False
    ids = [p.id for p in books]
    as_of = days[number - 1] if number > 0 else day
    if number > 0:
        _measure(target, books, spec.benchmark, as_of)
    proposal = allocate(
        target,
        ids,
        as_of,
        method=spec.allocation_method,
        min_alloc=spec.min_alloc,
        max_alloc=spec.max_alloc,
        target_vol=spec.target_vol,
        min_history=spec.min_history,
    )
    chosen = proposal.allocation
    target.put_allocation(
        AppliedAllocation(
            as_of, _at(day), spec.allocation_method, chosen.weights, chosen.exposure, chosen.ex_ante_vol
        )
    )
    result.allocations += 1
    return True


def _trade(
    target: Store,
    broker: Broker,
    books: Sequence[Portfolio],
    day: date,
    spec: BacktestSpec,
    result: BacktestResult,
) -> None:
    """Rebalances every portfolio with targets together (netted, as live); a run refused by
    a risk limit is retried portfolio by portfolio, skipping the refused ones."""
    from pas.workflows import trade

    ready = [p for p in books if target.current_weights(p.id) is not None]
    if not ready:
        return

    def run(group: Sequence[Portfolio]) -> None:
        trade(
            target,
            broker,
            group,
            spec.limits,
            run_id=new_run_id(_at(day)),
            breaker=None,
            queue=True,
            timeout_sec=0,
            poll_sec=0,
            sleep=lambda _: None,
        )

    try:
        run(ready)
        result.rebalances += 1
    except (RefusedError, InputError) as exc:
        result.notes.append(f"{day}: netted run refused ({exc}); trading portfolio by portfolio")
        for p in ready:
            try:
                run([p])
                result.rebalances += 1
            except (RefusedError, InputError) as single:
                result.notes.append(f"{day} {p.id}: not traded ({single})")


# Statistics of the summary table: (label, pas.analytics function, needs the benchmark).
SUMMARY_STATS: tuple[tuple[str, str, bool], ...] = (
    ("annual return", "annual_return", False),
    ("annual volatility", "annual_volatility", False),
    ("Sharpe ratio", "sharpe_ratio", False),
    ("Sortino ratio", "sortino_ratio", False),
    ("max drawdown", "max_drawdown", False),
    ("Calmar ratio", "calmar_ratio", False),
    ("alpha", "alpha", True),
    ("beta", "beta", True),
    ("information ratio", "information_ratio", True),
    ("VaR 95% (1 day)", "value_at_risk", False),
    ("CVaR 95% (1 day)", "conditional_value_at_risk", False),
)
COMBINED = "combined"


@dataclass(frozen=True)
class Summary:
    """Statistics per book: each portfolio, the combined book and the benchmark.

    ``values[label][column]`` is a float (NaN where undefined); ``final_equity`` is in
    dollars (None for the benchmark).
    """

    columns: list[str]
    days: list[date]
    values: dict[str, dict[str, float]]
    final_equity: dict[str, Decimal | None]


def summarize(target: Store, portfolio_ids: Sequence[str], benchmark: str) -> Summary:
    """The statistics table of a backtest (or of live metrics) from the stored daily metrics.

    The combined book's daily return is the average of the portfolios' returns weighted
    by their equity at the previous close: the return of the sum of their equities, net
    of the money the allocation moved between them. Cash the allocation left outside
    every portfolio (a volatility target below 100% exposure) is not part of it.
    The benchmark's returns are those stored beside the portfolios' metrics. VaR and
    CVaR are losses, positive (:mod:`pas.analytics.losses`).
    """
    import numpy as np

    from pas import analytics
    from pas.analytics.losses import shown

    series = {p: {m.day: m for m in target.daily_metrics(p)} for p in portfolio_ids}
    days = sorted({d for s in series.values() for d in s})
    n = len(portfolio_ids)
    returns = np.full((len(days), n + 2), np.nan)
    equity = np.full((len(days), n), np.nan)
    bench = np.full(len(days), np.nan)
    for j, p in enumerate(portfolio_ids):
        for i, d in enumerate(days):
            m = series[p].get(d)
            if m is None:
                continue
            returns[i, j] = m.ret
            if m.equity is not None:
                equity[i, j] = float(m.equity)
            if m.benchmark_ret is not None:
                bench[i] = m.benchmark_ret
    previous = np.vstack([np.full((1, n), np.nan), equity[:-1]])
    # A book's first day has no stored previous close: its equity before that day's return.
    with np.errstate(invalid="ignore", divide="ignore"):
        previous = np.where(np.isnan(previous), equity / (1 + returns[:, :n]), previous)
    weights = np.where(np.isnan(returns[:, :n]) | np.isnan(previous), 0.0, previous)
    total = weights.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        combined = np.where(total > 0, (np.nan_to_num(returns[:, :n]) * weights).sum(axis=1) / total, np.nan)
    returns[:, n] = combined
    returns[:, n + 1] = bench
    columns = [*portfolio_ids, COMBINED, benchmark]
    values: dict[str, dict[str, float]] = {}
    for label, name, relative in SUMMARY_STATS:
        fn = getattr(analytics, name)
        figures = fn(returns, bench) if relative else fn(returns)
        values[label] = {
            c: shown(name, float(v)) for c, v in zip(columns, np.atleast_1d(figures), strict=True)
        }
    final: dict[str, Decimal | None] = {}
    for p in portfolio_ids:
        known = [m.equity for m in series[p].values() if m.equity is not None]
        final[p] = known[-1] if known else None
    present = [v for v in final.values() if v is not None]
    final[COMBINED] = sum(present, Decimal(0)) if present else None
    final[benchmark] = None
    return Summary(columns, days, values, final)
