"""A small synthetic history for backtests: closes, contract awards, two portfolios."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from pas.models import Portfolio, Price, Schedule
from pas.records import Record, natural_key
from pas.schedule import is_trading_day
from pas.store.sqlite import SqliteStore

START = date(2025, 1, 2)
DAYS = [d for d in (START + timedelta(days=n) for n in range(200)) if is_trading_day(d)]
SYMBOLS = ("SPY", "AAA", "BBB", "CCC")


def closes() -> list[Price]:
    prices = []
    for n, day in enumerate(DAYS):
        for k, symbol in enumerate(SYMBOLS):
            level = 100 * (1 + 0.0004 * (k + 1)) ** n * (1 + 0.02 * math.sin(n / (3 + k)))
            prices.append(Price(symbol, day, Decimal(f"{level:.2f}")))
    return prices


def award(ticker: str, day: date, amount: str) -> Record:
    public = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=20)
    identity = {"t": ticker, "d": day.isoformat(), "a": amount}
    return Record("contracts", natural_key("contracts", identity), ticker, day, public, {"amount": amount})


def awards() -> list[Record]:
    out = []
    for n, day in enumerate(DAYS[:-5]):
        ticker = ("AAA", "BBB", "CCC")[n % 3]
        out.append(award(ticker, day, str(1_000_000 * (1 + n % 5))))
    return out


PORTFOLIOS = [
    Portfolio(
        "gov", "gov_contracts", Schedule.MONTHLY, datetime(2025, 1, 1, tzinfo=UTC), params={"max_weight": 0.4}
    ),
    Portfolio(
        "gov2",
        "gov_contracts",
        Schedule.WEEKLY,
        datetime(2025, 1, 1, tzinfo=UTC),
        params={"top_n": 2, "max_weight": 0.4},
    ),
]


@pytest.fixture
def source(tmp_path):  # type: ignore[no-untyped-def]
    store = SqliteStore(tmp_path / "source.db")
    store.upsert_prices(closes())
    store.upsert_records("contracts", awards())
    yield store
    store.close()
