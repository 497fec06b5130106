"""Value objects shared by the layers: what the broker reports and the store persists.

:mod:`pas.models` holds the portfolio, ledger, run and performance values; this package
holds the broker's (orders, fills, account, clock, assets, positions, bars), so the store
can persist them without importing :mod:`pas.portfolio`.
"""
