"""The one sign every output of pas gives value at risk: **losses are positive**.

:func:`pas.analytics.value_at_risk` and :func:`pas.analytics.conditional_value_at_risk`
return the tail *return* (negative is a loss), as empyrical-reloaded does, so that the
statistics can be checked against its published values. Everything pas shows or writes
(``pas risk var``, ``pas metrics show``, ``pas backtest``, ``pas report``, their ``--json``)
gives VaR and CVaR as the *loss*, the risk managers' convention (Jorion, *Value at Risk*;
the Basel market-risk standard): 0.021 is a 2.1% loss on the tail day, and a negative
figure means even the tail day was a gain. Each table's caption says so with
:data:`VAR_CAPTION`.
"""

from __future__ import annotations

LOSS_STATISTICS = frozenset({"value_at_risk", "conditional_value_at_risk"})
"""The :mod:`pas.analytics` statistics that outputs negate into losses."""

VAR_CAPTION = "VaR and CVaR are losses, shown positive (a negative figure: even the tail day gained)"
"""The sentence every table with VaR or CVaR carries in its caption."""


def as_loss(tail_return: float) -> float:
    """A VaR or CVaR tail return (negative is a loss) as the loss pas shows (positive).

    Args:
        tail_return: :func:`pas.analytics.value_at_risk` or
            :func:`pas.analytics.conditional_value_at_risk` of daily returns, a fraction.

    Returns:
        The loss as a fraction (0.02 is a 2% loss); NaN stays NaN.
    """
    return -tail_return


def shown(name: str, value: float) -> float:
    """A stored statistic as outputs show it: VaR and CVaR (:data:`LOSS_STATISTICS`) as
    losses, every other statistic unchanged.

    Args:
        name: the :mod:`pas.analytics` function name of the statistic.
        value: the statistic as that function returns it.
    """
    return as_loss(value) if name in LOSS_STATISTICS else value
