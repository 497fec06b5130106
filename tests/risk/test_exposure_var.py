"""Exposures and VaR: hand-computed figures, agreement with pas.analytics, √N scaling."""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest

from pas.analytics import conditional_value_at_risk, value_at_risk
from pas.errors import InputError
from pas.models import Price
from pas.risk.exposure import exposure
from pas.risk.var import close_matrix, holdings_pnl, price_changes, returns_var


def test_exposure_by_hand() -> None:
    values = {"A": Decimal(300), "B": Decimal(200), "C": Decimal(-100), "D": Decimal(0)}
    e = exposure(values, Decimal(1000), cash=Decimal(600), largest=2)
    assert (e.gross, e.net, e.long, e.short) == (0.6, 0.4, 0.5, -0.1)
    assert e.cash_fraction == 0.6
    assert e.top5 == 0.6
    # HHI over |value| / gross value 600: (1/2)² + (1/3)² + (1/6)² = 14/36.
    assert e.herfindahl == pytest.approx(14 / 36)
    assert [(h.symbol, h.weight) for h in e.largest] == [("A", 0.3), ("B", 0.2)]
    assert e.positions == 3


def test_top5_of_seven_and_equal_weights_hhi() -> None:
    values = {s: Decimal(100) for s in "ABCDEFG"}
    e = exposure(values, Decimal(1000))
    assert e.top5 == 0.5
    assert e.herfindahl == pytest.approx(1 / 7)  # N equal positions: 1/N
    assert e.cash_fraction is None
    empty = exposure({}, Decimal(1000), Decimal(1000))
    assert math.isnan(empty.herfindahl) and empty.gross == 0 and empty.cash_fraction == 1


def test_exposure_refuses_non_positive_equity() -> None:
    with pytest.raises(InputError, match=r"equity must be more than zero to compute exposures, got -5\.00"):
        exposure({"A": Decimal(1)}, Decimal(-5))


RETURNS = [0.01, -0.02, 0.005, -0.04, 0.03, -0.01, 0.0, 0.02, -0.03, 0.015, -0.005]


def test_var_matches_analytics_and_a_hand_percentile() -> None:
    est = returns_var(RETURNS, 0.95, equity=Decimal(10_000))
    assert est.var == -value_at_risk(RETURNS, 0.05)
    assert est.cvar == -conditional_value_at_risk(RETURNS, 0.05)
    # 11 returns: position (11 - 1) × 0.05 = 0.5 between the worst (-0.04) and the
    # second worst (-0.03): -0.035, a loss of 3.5%; CVaR is the mean of the 1 worst.
    assert est.var == pytest.approx(0.035)
    assert est.cvar == pytest.approx(0.04)
    assert est.var_dollars == pytest.approx(350)
    assert est.observations == 11
    assert est.var == pytest.approx(-np.percentile(RETURNS, 5))


def test_n_day_scaling_is_the_square_root_of_time() -> None:
    one = returns_var(RETURNS, 0.99, days=1, equity=Decimal(1000))
    ten = returns_var(RETURNS, 0.99, days=10, equity=Decimal(1000))
    assert ten.var == pytest.approx(one.var * math.sqrt(10))
    assert ten.cvar_dollars == pytest.approx(one.cvar_dollars * math.sqrt(10))


def test_var_without_history_is_nan_and_bad_confidence_is_refused() -> None:
    assert math.isnan(returns_var([], 0.95).var)
    with pytest.raises(InputError, match="confidence must be between 0 and 1"):
        returns_var(RETURNS, 1.5)


def test_holdings_pnl_includes_a_position_with_only_prices() -> None:
    start = date(2026, 1, 5)
    history = {
        "OLD": [Price("OLD", start + timedelta(d), Decimal(100 + d)) for d in range(5)],
        # NEW has closes only for the last three days (and one missing day, carried forward).
        "NEW": [
            Price("NEW", start + timedelta(2), Decimal(50)),
            Price("NEW", start + timedelta(4), Decimal(45)),
        ],
    }
    symbols = ["NEW", "OLD"]
    _, closes = close_matrix(history, symbols)
    changes = price_changes(closes)
    # Books: [only NEW ×10], [OLD ×2 and NEW ×10].
    quantities = np.array([[10.0, 10.0], [0.0, 2.0]])
    new_only, both = holdings_pnl(changes, quantities)
    # NEW: no change before its first close, then 0 (carried), then -5 × 10.
    assert new_only.tolist() == [0.0, -50.0]
    assert both.tolist() == [2.0, 2.0, 2.0, -48.0]
