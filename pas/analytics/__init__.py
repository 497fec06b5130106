"""Pure, vectorised performance and risk statistics of portfolios.

Each function takes daily noncumulative returns, 1-D for one portfolio or 2-D with one
column per portfolio, and matches empyrical-reloaded's conventions; see
:mod:`pas.analytics.stats` (returns, volatility, ratios, drawdowns),
:mod:`pas.analytics.relative` (against a benchmark) and :mod:`pas.analytics.tail` (VaR,
CVaR). This package imports NumPy and pandas, so only the commands that
need statistics import it.
"""

from pas.analytics.periods import (
    ANNUALIZATION_FACTORS,
    DAILY,
    MONTHLY,
    QUARTERLY,
    WEEKLY,
    YEARLY,
)
from pas.analytics.relative import alpha, alpha_beta, beta, information_ratio, tracking_error
from pas.analytics.stats import (
    annual_return,
    annual_volatility,
    calmar_ratio,
    cumulative_returns,
    downside_risk,
    drawdown_series,
    max_drawdown,
    sharpe_ratio,
    sortino_ratio,
)
from pas.analytics.tail import DEFAULT_CUTOFF, conditional_value_at_risk, value_at_risk

__all__ = [
    "ANNUALIZATION_FACTORS",
    "DAILY",
    "DEFAULT_CUTOFF",
    "MONTHLY",
    "QUARTERLY",
    "WEEKLY",
    "YEARLY",
    "alpha",
    "alpha_beta",
    "annual_return",
    "annual_volatility",
    "beta",
    "calmar_ratio",
    "conditional_value_at_risk",
    "cumulative_returns",
    "downside_risk",
    "drawdown_series",
    "information_ratio",
    "max_drawdown",
    "sharpe_ratio",
    "sortino_ratio",
    "tracking_error",
    "value_at_risk",
]
