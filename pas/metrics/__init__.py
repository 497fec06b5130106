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

Stages, one module each: :mod:`~pas.metrics.posted` (rows given by hand),
:mod:`~pas.metrics.returns` (returns from the ledger), :mod:`~pas.metrics.trailing`
(trailing windows) and :mod:`~pas.metrics.update` (what ``pas metrics update`` stores).
"""

from pas.metrics.posted import (
    MIN_RETURN,
    SOURCE_POST,
    PostedRow,
    check_posted,
    parse_equity,
    parse_posted_rows,
    parse_return,
    portfolio_start,
    posted_metrics,
    read_posted_file,
)
from pas.metrics.returns import SOURCE_UPDATE, daily_returns_from_ledger
from pas.metrics.trailing import (
    FIXED_WINDOWS,
    INCEPTION,
    STATISTICS,
    WINDOWS,
    recompute_all_trailing_stats,
    recompute_trailing_stats,
    trailing_stats_table,
    trailing_stats_tables,
)
from pas.metrics.update import MetricsUpdate, update_all_metrics, update_metrics

__all__ = [
    "FIXED_WINDOWS",
    "INCEPTION",
    "MIN_RETURN",
    "SOURCE_POST",
    "SOURCE_UPDATE",
    "STATISTICS",
    "WINDOWS",
    "MetricsUpdate",
    "PostedRow",
    "check_posted",
    "daily_returns_from_ledger",
    "parse_equity",
    "parse_posted_rows",
    "parse_return",
    "portfolio_start",
    "posted_metrics",
    "read_posted_file",
    "recompute_all_trailing_stats",
    "recompute_trailing_stats",
    "trailing_stats_table",
    "trailing_stats_tables",
    "update_all_metrics",
    "update_metrics",
]
