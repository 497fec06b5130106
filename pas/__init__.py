"""pas: a Portfolio Allocation System for alternative-data strategies on one Alpaca account."""

__version__ = "0.1.0"
