"""Counts the HTTP requests of one ``pas rebalance --all`` against the fake Alpaca.

10 portfolios x 30 symbols (drawn from a 60-symbol universe), every order filling at
once. Prints the requests by endpoint next to the minimum this design needs, the wall
time, and the planner-alone time for 100 portfolios x 500 symbols (rebalance_bench).

Run from the repository root: .venv/bin/python benchmarks/rebalance_http_bench.py
(the fake server lives in tests/fakes/alpaca.py, so the test extras must be installed).
"""

from __future__ import annotations

import math
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

from rebalance_bench import planner_timings  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from pas.cli import app  # noqa: E402
from pas.commands import _wiring  # noqa: E402
from pas.models import Portfolio, Schedule, WeightSet  # noqa: E402
from pas.portfolio.broker.alpaca import ACTIVITIES_PAGE_SIZE, SYMBOLS_PER_REQUEST  # noqa: E402
from pas.store.sqlite import SqliteStore  # noqa: E402
from tests.fakes.alpaca import _ENDPOINTS, KEY_ID, SECRET, FakeAlpaca, _endpoint  # noqa: E402

PORTFOLIOS = 10
SYMBOLS_EACH = 30
UNIVERSE = 60
CAPITAL = Decimal(100_000)
SEED = 11
DRIFTED = 6


def main() -> None:
    rng = random.Random(SEED)
    universe = [f"S{i:03d}" for i in range(UNIVERSE)]
    _wiring.pause = lambda seconds: None  # every order fills at once; never sleep
    with FakeAlpaca(clock=lambda: datetime.now(UTC)) as fake, tempfile.TemporaryDirectory() as home:
        fake.cash = Decimal(10_000_000)
        for s in universe:
            fake.set_price(s, Decimal(rng.randint(500, 50_000)) / 100)
        now = datetime.now(UTC)
        with SqliteStore(Path(home) / "pas.db") as store:
            for i in range(PORTFOLIOS):
                pid = f"p{i:02d}"
                store.add_portfolio(Portfolio(pid, "bench", Schedule.WEEKLY, now, capital=CAPITAL))
                picked = rng.sample(universe, SYMBOLS_EACH)
                raw = {s: rng.random() + 0.5 for s in picked}
                total = sum(raw.values())
                store.put_weights(WeightSet(pid, now, {s: 0.95 * w / total for s, w in raw.items()}))
        env = {
            "PAS_HOME": home,
            "ALPACA_API_KEY": KEY_ID,
            "ALPACA_API_SECRET": SECRET,
            "ALPACA_BASE_URL": fake.url,
            "ALPACA_DATA_URL": fake.url,
        }
        _rebalance(fake, env, "first run: everything to buy")
        for s in universe[:DRIFTED]:  # a few prices move out of the band
            fake.set_price(s, fake.prices[s] * Decimal("1.25"))
        _rebalance(fake, env, f"second run: {DRIFTED} of {UNIVERSE} prices moved 25%")
    planned, orders, netting, netted = planner_timings()
    print(
        f"planner alone: 100 portfolios x 500 symbols in {planned:.3f} s, {orders} orders; "
        f"netting into {netted} broker orders in {netting:.3f} s"
    )


def _rebalance(fake: FakeAlpaca, env: dict[str, str], title: str) -> None:
    fake.requests.clear()
    fills_before = len(fake.activities)
    start = time.perf_counter()
    result = CliRunner().invoke(app, ["rebalance", "--all", "--json"], env=env)
    wall = time.perf_counter() - start
    if result.exit_code != 0:
        raise SystemExit(f"rebalance failed ({result.exit_code}): {result.output}")
    counts = Counter(_endpoint(r.method, r.path) for r in fake.requests)
    symbols = len({s for plan in _targets(env["PAS_HOME"]) for s in plan})
    ordered = len({r.body["symbol"] for r in fake.requests if r.method == "POST"})
    fills = len(fake.activities) - fills_before
    minimum = {
        "account": 1,
        "clock": 1,
        "trades_latest": math.ceil(symbols / SYMBOLS_PER_REQUEST),
        "asset": ordered,  # one lookup per ordered symbol
        "submit": ordered,  # one order per netted symbol
        "orders": 1 if ordered > 1 else 0,  # one poll: every order's state in one list
        "order": 1 if ordered == 1 else 0,
        "activities": max(1, math.ceil((fills + 1) / ACTIVITIES_PAGE_SIZE)),
    }
    print(
        f"{title}: pas rebalance --all, {PORTFOLIOS} portfolios x {SYMBOLS_EACH} symbols "
        f"({symbols} distinct, {ordered} ordered), {fills} fills, {wall:.2f} s wall"
    )
    print(f"  {'endpoint':<20}{'requests':>9}{'minimum':>9}")
    for name in [name for _, _, name in _ENDPOINTS]:
        if counts.get(name) or minimum.get(name):
            print(f"  {name:<20}{counts.get(name, 0):>9}{minimum.get(name, 0):>9}")
    print(f"  {'total':<20}{sum(counts.values()):>9}{sum(minimum.values()):>9}")


def _targets(home: str) -> list[dict[str, float]]:
    with SqliteStore(Path(home) / "pas.db") as store:
        return [w.weights for p in store.list_portfolios() if (w := store.current_weights(p.id))]


if __name__ == "__main__":
    main()
