"""Annualisation factors: how many return periods make one year.

The values are empyrical-reloaded's, so that statistics computed here match it: a trading
year of 252 days, 52 weeks, 12 months, 4 quarters.
"""

from collections.abc import Mapping

DAILY = 252
WEEKLY = 52
MONTHLY = 12
QUARTERLY = 4
YEARLY = 1

ANNUALIZATION_FACTORS: Mapping[str, int] = {
    "daily": DAILY,
    "weekly": WEEKLY,
    "monthly": MONTHLY,
    "quarterly": QUARTERLY,
    "yearly": YEARLY,
}
