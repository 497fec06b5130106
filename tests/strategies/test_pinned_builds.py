"""Every built-in strategy's build on a seeded synthetic store, pinned to what pas built
before builds read records as columns (issue 18): how the records are loaded may change,
the weights may not.

The pins are in ``tests/fixtures/strategies/pinned_builds.json``; they were written by
the record-by-record loader (commit before the columnar one) and are never regenerated
to make a change pass. They run on SQLite (mongomock takes minutes to take 13,000
records); the record columns are the same on every backend by the store's contract suite
(``tests/store/test_records.py``).
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pas.models import Portfolio, Schedule
from pas.records import Record, natural_key
from pas.store.base import Store
from pas.store.sqlite import SqliteStore
from pas.strategies import BUILTIN
from pas.strategies.build import build_weights

PINS = Path(__file__).parents[1] / "fixtures" / "strategies" / "pinned_builds.json"
TICKERS = [f"T{i:02d}" for i in range(30)]
START = date(2024, 6, 1)
DAYS = 600
AS_OF = (
    datetime(2025, 8, 15, 14, 30, tzinfo=UTC),
    datetime(2025, 11, 3, 13, 45, tzinfo=UTC),
    datetime(2026, 1, 20, 14, 45, tzinfo=UTC),
)
WIKI_FIRST = AS_OF[0].date() - timedelta(days=70)  # a page a day: only what the builds read


def _at(day: date, days_after: int = 0, hour: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC) + timedelta(days=days_after)


def _fields(dataset: str, rng: random.Random) -> dict[str, Any]:
    if dataset == "lobbying":
        return {"amount": str(rng.randrange(10, 500) * 1000), "client": f"client {rng.randrange(9)}"}
    if dataset == "congress":
        low = rng.choice(["1001", "15001", "50001", "1000001"])
        high = None if low == "1000001" else str(int(low) * 3 - 3)
        kind = rng.choice(["Purchase", "Sale (Full)", "Sale (Partial)", "Exchange"])
        return {"name": f"Member {rng.randrange(12)}", "transaction": kind, "low": low, "high": high}
    if dataset == "insiders":
        price = rng.choice(["25.5", "101.25", None])
        return {"code": rng.choice("PSSAMF"), "shares": str(rng.randrange(1, 10_000)), "price": price}
    return {"amount": str(rng.randrange(-10, 1000) * 10_000), "agency": "DoD"}


def synthetic_records() -> dict[str, list[Record]]:
    """Seeded records of the five datasets: some public late, some with missing fields."""
    rng = random.Random(18)
    data: dict[str, list[Record]] = {}
    lags = {"lobbying": (1, 2), "congress": (1, 45), "insiders": (0, 3), "contracts": (0, 1)}
    for dataset, (low, high) in lags.items():
        rows = []
        for n in range(1_500):
            day = START + timedelta(days=rng.randrange(DAYS))
            public = _at(day, rng.randrange(low, high), rng.choice((0, 13, 21)))
            fields = _fields(dataset, rng)
            key = natural_key(dataset, {"n": n})
            rows.append(Record(dataset, key, rng.choice(TICKERS), day, public, fields))
        data[dataset] = rows
    wiki = []
    for t, ticker in enumerate(TICKERS):
        base = rng.randrange(20, 5_000)
        for d in range((AS_OF[-1].date() - WIKI_FIRST).days):
            if rng.random() < 0.05:
                continue  # a missing day is left out of the averages
            day = WIKI_FIRST + timedelta(days=d)
            views = str(int(base * (0.5 + rng.random() * (1 + t / 10))))
            key = natural_key("wiki", {"t": ticker, "d": d})
            wiki.append(Record("wiki", key, ticker, day, _at(day, 1), {"views": views}))
    data["wiki"] = wiki
    return data


def built(store: Store) -> dict[str, dict[str, dict[str, float]]]:
    """Each strategy's weights at each as-of time, keyed by strategy and as-of time."""
    for dataset, rows in synthetic_records().items():
        store.upsert_records(dataset, rows)
    out: dict[str, dict[str, dict[str, float]]] = {}
    for name in BUILTIN:
        portfolio = Portfolio("pin", name, Schedule.DAILY, AS_OF[0])
        out[name] = {
            as_of.isoformat(): build_weights(store, portfolio, as_of, max_stale_days=120).weights
            for as_of in AS_OF
        }
    return out


def test_every_strategy_builds_the_pinned_weights(tmp_path: Path) -> None:
    pinned = json.loads(PINS.read_text())
    with SqliteStore(tmp_path / "pas.db") as store:
        got = built(store)
    assert got.keys() == pinned.keys()
    for name, by_time in pinned.items():
        for as_of, weights in by_time.items():
            assert got[name][as_of].keys() == weights.keys(), (name, as_of)
            for ticker, weight in weights.items():
                assert got[name][as_of][ticker] == pytest.approx(weight, rel=1e-12, abs=0), (name, as_of)
    # The pins are not trivial: each strategy holds something at each time.
    assert all(weights for by_time in pinned.values() for weights in by_time.values())
