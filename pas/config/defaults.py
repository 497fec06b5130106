"""Defaults and allowed values of the settings (see the README's settings tables)."""

from __future__ import annotations

from decimal import Decimal

# The brokers a trading command can talk to: the portfolios' list; the default moves real
# (paper) orders.
from pas.models import BROKERS as BROKERS
from pas.models import DEFAULT_BROKER as DEFAULT_BROKER

PAPER_BASE_URL = "https://paper-api.alpaca.markets"
DEFAULT_DATA_URL = "https://data.alpaca.markets"
DEFAULT_FEED = "iex"
# Alpaca's stock data feeds: iex is free; sip needs a subscription for recent data.
ALPACA_FEEDS = ("iex", "sip", "delayed_sip", "boats", "overnight", "otc")
DEFAULT_BENCHMARK = "SPY"
DEFAULT_DB_NAME = "quant_fund"
DEFAULT_QUIVER_RATE_SEC = 1.1
QUIVER_BASE_URL = "https://api.quiverquant.com/beta"
DEFAULT_QUIVER_AUTH_SCHEME = "Token"
# Quiver refreshes its datasets a few times a day; a response younger than this is reused.
DEFAULT_QUIVER_CACHE_TTL_SEC = 6 * 3600.0
# Bulk endpoints take tens of seconds to answer; anything slower is treated as a timeout.
DEFAULT_QUIVER_TIMEOUT_SEC = 60.0
# The longest a request waits for its endpoint's rate-limit slot before the dataset stops
# as `partial` (a bulk endpoint's 5 an hour is one request every 12 minutes).
DEFAULT_QUIVER_MAX_WAIT_SEC = 900.0
# Where the wiki dataset comes from: Quiver's wiki endpoints are gone from its schema, so
# Wikimedia's own Pageviews API is the default (see pas/scrapers/wikimedia.py).
WIKI_SOURCES = ("wikimedia", "quiver")
DEFAULT_WIKI_SOURCE = "wikimedia"
WIKIMEDIA_BASE_URL = "https://wikimedia.org/api/rest_v1"
# Seconds pas waits for each Alpaca answer (connect and read); see broker/alpaca.py.
DEFAULT_ALPACA_TIMEOUT_SEC = 10.0
DEFAULT_MIN_ALLOCATION = Decimal(0)  # fractions of the book
DEFAULT_MAX_ALLOCATION = Decimal(1)
# Allocation (see pas/allocation.py): the method `pas allocate` uses, and the days of
# returns a portfolio needs before its statistics count (about a quarter).
ALLOCATION_METHODS = ("score", "inverse_vol", "risk_parity", "equal")
DEFAULT_ALLOCATION_METHOD = "score"
DEFAULT_ALLOCATION_MIN_HISTORY = 63
# A volatility target above this (500% a year) is a typo, not a risk budget.
MAX_TARGET_VOL = Decimal(5)
# A Mongo server that does not answer within this many seconds is reported as unreachable;
# pymongo's own default is 30 s, far too long for a cron job to hang.
DEFAULT_MONGO_TIMEOUT_SEC = 3.0
# A query MongoDB has not answered within this many seconds is reported as slow (the
# server was reached); pymongo's own default waits forever.
DEFAULT_MONGO_SOCKET_TIMEOUT_SEC = 30.0
# Trading defaults (see the README's settings table). The cash buffer is a fraction of a
# portfolio's equity kept uninvested so slippage and commissions never overdraw it.
DEFAULT_CASH_BUFFER = Decimal("0.01")
DEFAULT_MIN_ORDER_NOTIONAL = Decimal(1)  # dollars: Alpaca's minimum for fractional orders
DEFAULT_REBALANCE_BAND = Decimal("0.005")  # weight: 0.5 percentage points
DEFAULT_MAX_ORDER_NOTIONAL = Decimal(100_000)  # dollars per broker order
DEFAULT_MAX_POSITION_WEIGHT = Decimal("0.5")  # of a portfolio's equity
DEFAULT_FILL_TIMEOUT_SEC = 60.0
DEFAULT_FILL_POLL_SEC = 1.0  # between polls of order states and fills while waiting
DEFAULT_SIM_SLIPPAGE_BPS = Decimal(0)
DEFAULT_SIM_COMMISSION = Decimal(0)  # dollars per order
DEFAULT_SIM_COMMISSION_PER_SHARE = Decimal(0)  # dollars per share
DEFAULT_SIM_SPREAD_BPS = Decimal(0)  # bid-ask spread; half of it is paid on each fill
DEFAULT_SIM_CASH = Decimal(100_000)  # dollars
SIM_MARKETS = ("weekdays", "always", "closed")
DEFAULT_SIM_MARKET = "weekdays"
# `pas build` refuses when the newest record of a dataset it needs is older than this many
# days before the as-of time: every Quiver dataset gains rows every weekday, so ten days
# without one means the scrape is failing, and a build would run on old news.
DEFAULT_BUILD_MAX_STALE_DAYS = 10
# Calendar days a close may be older than the last completed session before the commands
# that value or trade on it (`metrics update`, `rebalance --broker sim`, `risk`) refuse or
# warn: a long weekend with a holiday is 4 days, so 5 means `pas prices fetch` is failing.
DEFAULT_PRICE_MAX_STALE_DAYS = 5
# Circuit breaker limits (fractions of account equity; 0 or "off" disables a rule), see
# pas/risk/breaker.py: a drawdown from the high-water mark, and a loss in one market day.
DEFAULT_BREAKER_MAX_DRAWDOWN = Decimal("0.2")
DEFAULT_BREAKER_MAX_DAILY_LOSS = Decimal("0.05")
DEFAULT_PRICE_COLLAR = Decimal("0.1")  # of the reference price; see pas/portfolio/trading/collar.py
ORDER_TYPES = ("limit", "market")
DEFAULT_ORDER_TYPE = "limit"  # marketable limits: never filled beyond the collar
DEFAULT_BARS_FEED = "sip"  # consolidated closes; free for data older than 15 minutes
# The run log (PAS_HOME/pas.log) rotates past this many bytes, keeping 5 old files.
DEFAULT_LOG_MAX_BYTES = 1_000_000
LOG_FORMATS = ("text", "json")
"""How the run log's lines are written: for people and grep, or one JSON object a line."""
DEFAULT_LOG_FORMAT = "text"
