"""HTML reports of portfolios: one self-contained file with plots and statistics.

:mod:`pas.report.data` gathers what a report shows (from the store, or given by a
backtest); :mod:`pas.report.html` renders it. Rendering imports matplotlib (Agg backend),
NumPy and pandas, so only ``pas report`` imports these modules.
"""
