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
5. at the end, :func:`pas.metrics.update_all_metrics` (:func:`~pas.metrics.update_metrics`
   of every funded book, their statistics computed together) computes every day's return
   and the trailing statistics.

These are the functions the live commands call; only the clock, the broker and the
store they work on differ. Datasets are read from the source store. The days are
simulated on a working store in memory (:class:`pas.store.memory.MemoryStore`, whose
answers do not slow down as the history grows); when the last day is measured, the
ledger, targets, metrics, allocations and the simulated broker's state are written once
to the separate target store, one per run (:func:`pas.store.open_backtest_store`;
:mod:`pas.backtest_runs` keeps and compares them), so a backtest never touches live
positions.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pas.errors import InputError, PasError, RefusedError
from pas.models import AppliedAllocation, CashFlow, Portfolio, new_run_id
from pas.portfolio.broker.base import Broker
from pas.portfolio.trading.limits import TradingLimits
from pas.runs import recorded_run
from pas.store.base import Store
from pas.walk_forward import WalkForward

# Closes copied from before the start, so trailing windows and carry-forward have history.
PRICE_LOOKBACK = timedelta(days=400)
# A target symbol whose newest close is older than this on the day is dropped (the rest
# of its weight stays in cash): the simulated broker could not price it.
MAX_PRICE_AGE = timedelta(days=7)

Progress = Callable[[int, int], None]
RUN_COMMAND = "backtest"  # the run record a backtest keeps in its own store


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
    commission_per_share: Decimal = Decimal(0)
    spread_bps: Decimal = Decimal(0)
    walk_forward: WalkForward | None = None
    """In-sample and out-of-sample windows (:mod:`pas.walk_forward`); None for none."""

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
    refusals: int = 0
    """Trading runs refused (by a risk limit, or for buying power) and retried one by one."""
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
    record: Mapping[str, Any] | None = None,
    host: str | None = None,
) -> BacktestResult:
    """Runs the backtest (see the module docstring) into ``target``, which must be empty.

    Args:
        source: where the datasets and closes are read (never written).
        target: the backtest's own store, built on ``clock``.
        clock: the simulated clock ``target`` reads.
        progress: called with (days done, days in all) after each day.
        record: more details for the run record the backtest keeps in ``target`` (what
            the run was: :func:`pas.backtest_runs.run_details`); its counts are added
            when it finishes.
        host: this host among those sharing one store (``PAS_HOST_ID``), recorded with
            the pid so that only this host judges the run abandoned; the host name when None.

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
    # Sorted: a run's result never depends on the order its portfolios were named in.
    books = sorted(
        (replace(p, capital=None, created_at=clock.now, broker=SimBroker.name) for p in portfolios),
        key=lambda p: p.id,
    )
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
        commission_per_share=spec.commission_per_share,
        spread_bps=spec.spread_bps,
        cash=spec.capital,
        market="always",
    )
    result = BacktestResult([p.id for p in books], days)
    # The run record is finished ok only when every day was simulated, measured and saved:
    # an interrupted backtest (Ctrl-C, a crash, a kill) leaves it failed or running, and
    # :func:`completed` tells a report so.
    details = {**(record or {}), "first_day": str(days[0]), "last_day": str(days[-1])}
    with recorded_run(target, RUN_COMMAND, details, host) as handle:
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
        handle.details.update(
            builds=result.builds,
            allocations=result.allocations,
            rebalances=result.rebalances,
            refusals=result.refusals,
            notes=len(result.notes),
        )
    return result


def completed(target: Store) -> str | None:
    """None when the backtest in ``target`` finished; else why its results are partial."""
    from pas.models import RunStatus

    runs = [r for r in target.recent_runs(limit=50) if r.command == RUN_COMMAND]
    if not runs:
        return "it left no run record (it did not finish, or predates this check)"
    latest = max(runs, key=lambda r: r.started_at)
    if latest.status is RunStatus.OK:
        return None
    if latest.status is RunStatus.RUNNING:
        return "it did not finish (interrupted, or still running)"
    return f"it did not finish ({latest.error or latest.status.value})"


def _at(day: date) -> datetime:
    from pas.schedule import decision_time

    return decision_time(day)


def _copy_prices(source: Store, targets: Sequence[Store], start: date, end: date) -> None:
    for target in targets:
        target.copy_prices(source, start, end)  # as stored: no Decimal or Price per close


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

    results = build_due(
        source,
        target,
        books,
        _at(day),
        max_stale_days=spec.max_stale_days,
        max_position_weight=float(spec.limits.max_position_weight),
        tidy=priced,
    )
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
    from pas.metrics import update_all_metrics

    update_all_metrics(target, [p for p in books if target.cash_flows(p.id)], benchmark, until=until)


def _allocate(
    target: Store,
    books: Sequence[Portfolio],
    day: date,
    number: int,
    days: Sequence[date],
    spec: BacktestSpec,
    result: BacktestResult,
) -> bool:
    """Applies a new allocation on the first day and the first trading day of each week,
    and on the first day of each walk-forward window; none while a window holds it."""
    from pas.allocation import allocate

    walk = spec.walk_forward
    if spec.allocation_method is None or (walk is not None and walk.held(number)):
        return False
    opens_window = walk is not None and number > 0 and walk.phase(number) != walk.phase(number - 1)
    if number > 0 and days[number - 1].isocalendar()[:2] == day.isocalendar()[:2] and not opens_window:
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

    def run(group: Sequence[Portfolio], serial: int) -> None:  # numbered: random ids can repeat
        trade(
            target,
            broker,
            group,
            spec.limits,
            run_id=new_run_id(_at(day), serial),
            breaker=None,
            queue=True,
            timeout_sec=0,
            poll_sec=0,
            sleep=lambda _: None,
        )

    try:
        run(ready, 0)
        result.rebalances += 1
    except (RefusedError, InputError) as exc:
        result.refusals += 1
        result.notes.append(f"{day}: netted run refused ({exc}); trading portfolio by portfolio")
        for serial, p in enumerate(ready, start=1):
            try:
                run([p], serial)
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


def combined_returns(returns: Any, equity: Any) -> Any:
    """The combined book's daily returns: the return of the portfolios' summed equities,
    net of the money that came into them from outside that day.

    ``r_c = Σ E_i / Σ (E_i / (1 + r_i)) − 1`` over the portfolios with a return that day:
    ``E_i / (1 + r_i)`` is portfolio i's previous close plus its flows of the day (see
    :mod:`pas.metrics`), so money moved between portfolios cancels out, and money that
    came from outside (a deposit, or cash of the account's pool) is counted at the start
    of the day, never as a gain. Cash outside every portfolio is not part of the book.

    Args:
        returns: days × portfolios daily returns (NaN where a portfolio has none).
        equity: days × portfolios equity at the close in dollars (NaN where unknown).

    Returns:
        One return per day; NaN on a day no portfolio has a return.
    """
    import numpy as np

    known = ~(np.isnan(returns) | np.isnan(equity))
    with np.errstate(invalid="ignore", divide="ignore"):
        start = np.where(known, equity / (1 + returns), 0.0).sum(axis=1)
        end = np.where(known, equity, 0.0).sum(axis=1)
        out = np.where(start > 0, end / start - 1, np.nan)
    return out


@dataclass(frozen=True)
class Summary:
    """Statistics per book: each portfolio, the combined book and the benchmark.

    ``values[label][column]`` is a float (NaN where undefined); ``final_equity`` is in
    dollars (None for the benchmark); ``combined`` is the combined book's return on each
    of ``days`` (:func:`combined_returns`, NaN where it has none).
    """

    columns: list[str]
    days: list[date]
    values: dict[str, dict[str, float]]
    final_equity: dict[str, Decimal | None]
    combined: list[float] = field(default_factory=list)


def summarize(
    target: Store, portfolio_ids: Sequence[str], benchmark: str, only: Collection[date] | None = None
) -> Summary:
    """The statistics table of a backtest (or of live metrics) from the stored daily metrics,
    over every day, or over the days in ``only`` (a walk-forward phase).

    The combined book is :func:`combined_returns`. Each portfolio is measured over its
    own life: its statistics use only the days it has a metric (NaN elsewhere), never
    0% days before it started. The benchmark's returns are those stored beside the
    portfolios' metrics. VaR and CVaR are losses, positive (:mod:`pas.analytics.losses`).
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
    combined = combined_returns(returns[:, :n], equity)
    returns[:, n] = combined
    returns[:, n + 1] = bench
    if only is not None:  # the combined book's returns were computed from every day first
        kept = np.array([d in only for d in days], dtype=bool)
        days, returns, bench, combined = (
            [d for d in days if d in only],
            returns[kept],
            bench[kept],
            combined[kept],
        )
    columns = [*portfolio_ids, COMBINED, benchmark]
    values: dict[str, dict[str, float]] = {label: {} for label, _, _ in SUMMARY_STATS}
    for j, column in enumerate(columns):
        lived = ~np.isnan(returns[:, j])  # each book over its own life
        for label, name, relative in SUMMARY_STATS:
            fn = getattr(analytics, name)
            own = returns[lived, j]
            values[label][column] = shown(name, float(fn(own, bench[lived]) if relative else fn(own)))
    final: dict[str, Decimal | None] = {}
    for p in portfolio_ids:
        known = [m.equity for m in series[p].values() if m.equity is not None]
        final[p] = known[-1] if known else None
    present = [v for v in final.values() if v is not None]
    final[COMBINED] = sum(present, Decimal(0)) if present else None
    final[benchmark] = None
    return Summary(columns, days, values, final, [float(r) for r in combined])
