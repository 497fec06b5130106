"""Portfolios: the ledger and positions, later the rebalance planner and brokers."""
