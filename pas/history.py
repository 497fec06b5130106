"""The value objects of what pas did and decided: command runs, trading runs and their
orders, weight sets, daily metrics, trailing statistics, applied allocations and the
breaker's state.

Import them from :mod:`pas.models`, which loads this module the first time one is asked
for: a frozen dataclass builds its methods at import (about a millisecond each on a small
machine), and a read command such as ``pas positions`` needs none of these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pas.models import RunStatus, Side, TradeOrderStatus, TradeRunStatus


@dataclass(frozen=True)
class WeightSet:
    """Target weights of a portfolio set at one time; the rest of its equity is cash."""

    portfolio: str
    at: datetime
    weights: Mapping[str, float]
    source: str = "manual"

    @property
    def cash(self) -> float:
        """The untargeted fraction."""
        return max(0.0, 1.0 - sum(self.weights.values()))


@dataclass(frozen=True)
class Run:
    """A recorded invocation of a state-changing command."""

    run_id: str
    command: str
    started_at: datetime
    status: RunStatus
    ended_at: datetime | None = None
    error: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def seconds(self) -> float | None:
        """Wall time, when the run has ended."""
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class TradeOrder:
    """One broker order of a trading run, with the portfolios it trades for.

    Quantities are integers of nano units. ``shares`` are what each portfolio asked of the
    broker order (fills are split back by them); ``crosses`` are quantities matched
    between portfolios inside the run (signed: + bought, − sold), booked at ``ref_price``.

    Attributes:
        qty: the broker order's quantity (0 when fully crossed).
        ref_price: dollars per share the plan used (the cross price).
        fractionable: whether fills may be split into fractions of a share.
        sent_at: when the order's request last went out (None before it was sent).
    """

    run_id: str
    client_order_id: str
    seq: int
    symbol: str
    side: Side
    qty: int
    ref_price: Decimal
    fractionable: bool
    shares: tuple[tuple[str, int], ...]
    crosses: tuple[tuple[str, int], ...] = ()
    status: TradeOrderStatus = TradeOrderStatus.PLANNED
    broker_order_id: str = ""
    broker_status: str = ""
    error: str = ""
    sent_at: datetime | None = None


@dataclass(frozen=True)
class TradeRun:
    """A trading run: its id is stored before any order is sent, so a crash can resume it."""

    run_id: str
    created_at: datetime
    broker: str
    portfolios: tuple[str, ...]
    status: TradeRunStatus = TradeRunStatus.SUBMITTING


@dataclass(frozen=True)
class DailyMetric:
    """A portfolio's performance on one trading day.

    Attributes:
        ret: the day's return as a fraction (0.01 is +1%), net of cash flows.
        equity: dollars at the close, when known.
        benchmark_ret: the benchmark's return that day, when known.
        source: ``post`` (given by hand) or ``update`` (computed from the ledger and closes).
    """

    portfolio: str
    day: date
    ret: float
    equity: Decimal | None = None
    benchmark_ret: float | None = None
    source: str = "post"


@dataclass(frozen=True)
class TrailingStats:
    """Statistics of a portfolio over a trailing window, using only returns up to ``as_of``.

    ``window`` is a number of trading days as text ("63", "126", "252") or "inception".
    ``values`` maps statistic names to floats (NaN where too little data).
    """

    portfolio: str
    as_of: date
    window: str
    values: Mapping[str, float]


@dataclass(frozen=True)
class AppliedAllocation:
    """An allocation stored by ``pas allocate --apply``: how the account's equity is split.

    Attributes:
        as_of: the day whose data it was computed from.
        applied_at: when it was stored (UTC).
        method: the allocation method (``score``, ``inverse_vol``, ``risk_parity``, ``equal``).
        weights: relative weight per portfolio (sum 1).
        exposure: fraction of the account invested (≤ 1); a portfolio's capital is
            account equity × exposure × its weight.
        ex_ante_vol: annualised ex-ante volatility of the invested book, when estimated.
    """

    as_of: date
    applied_at: datetime
    method: str
    weights: Mapping[str, float]
    exposure: float = 1.0
    ex_ante_vol: float | None = None

    def capital(self, portfolio: str, account_equity: Decimal) -> Decimal | None:
        """Dollars of the account this allocation gives a portfolio; None when it names
        no such portfolio."""
        weight = self.weights.get(portfolio)
        if weight is None:
            return None
        return account_equity * Decimal(repr(self.exposure)) * Decimal(repr(weight))


@dataclass(frozen=True)
class BreakerState:
    """The persisted state of the account's circuit breaker (see :mod:`pas.risk.breaker`).

    Money in dollars, times UTC. A state that was never saved has ``version`` 0 and no
    high-water mark; every save increments ``version`` (the store's compare-and-swap).

    Attributes:
        tripped: whether trading is refused.
        reason: why it tripped (empty when not tripped).
        since: when it tripped.
        high_water_mark: the highest account equity observed; it only ever rises.
        hwm_at: when the high-water mark was observed.
        last_equity: the latest equity observed, and ``last_equity_at`` when.
        prev_equity: the last equity recorded on an earlier market day than
            ``last_equity_at``: the reference of the one-day loss.
        prev_equity_at: when ``prev_equity`` was observed.
        reset_at: when the breaker was last reset, with ``reset_reason``.
    """

    tripped: bool = False
    reason: str = ""
    since: datetime | None = None
    high_water_mark: Decimal | None = None
    hwm_at: datetime | None = None
    last_equity: Decimal | None = None
    last_equity_at: datetime | None = None
    prev_equity: Decimal | None = None
    prev_equity_at: datetime | None = None
    reset_at: datetime | None = None
    reset_reason: str = ""
    version: int = 0
