#!/usr/bin/env python3
"""Writes pas's bundled SYNTHETIC sample data (``pas/demo/data/``), deterministically.

Nothing here is market data. The tickers (``SYN01``...) are invented, and so is ``SPY``:
a synthetic market index standing in for the benchmark. Alternative data is generated as
raw rows shaped like QuiverQuant's API answers and passed through the real dataset
normalisers (``pas.scrapers.DATASETS[name].normalise``), so the files hold exactly the
records a scrape stores.

The alternative data is given an invented, documented link to later returns, so that the
demo's strategies have something to find (see ``EFFECTS`` and the README it writes):
each event adds a small drift to its company's daily return from the first trading day
after it became public, for a number of trading days.

Run it with the project's interpreter (it imports pas):

    .venv/bin/python scripts/make_demo_data.py              # the shipped files
    .venv/bin/python scripts/make_demo_data.py --out /tmp/x --tickers 4 --start 2025-10-01

The same arguments always give the same bytes (seeded generator, gzip without a time stamp).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from pas.records import Record
from pas.schedule import is_trading_day
from pas.scrapers import DATASETS
from pas.scrapers.scrape import numbered

SEED = 8
FIRST_DAY = date(2023, 1, 2)
LAST_DAY = date(2025, 12, 31)
TICKERS = 40
BENCHMARK = "SPY"
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "pas" / "demo" / "data"
# Alternative data starts this many days before the first price day, so that strategies
# with long look-backs (lobbying compares two three-month filing seasons) have history on
# the first day. Wikipedia views are daily and the bulkiest, so they start later.
EVENT_LEAD_DAYS = 245
WIKI_LEAD_DAYS = 62
# A third of the universe has a tracked Wikipedia page: daily views of every company would be
# most of the files' size.
WIKI_SHARE = 0.3

# The invented link between alternative data and returns: (added daily return per unit
# of the event's strength, trading days it lasts). Strengths are in [-1, 1] or [0, 1].
EFFECTS: Mapping[str, tuple[float, int]] = {
    "lobbying": (0.0006, 63),  # × growth of the company's season spend over the one before, in [-0.5, 1]
    "insiders": (0.0004, 63),  # × net dollars of the trade / 250k, in [-1, 1] (sales count half)
    "congress": (0.0002, 42),  # per disclosed purchase
    "wiki": (0.0008, 15),  # per attention spike (views several times their usual level)
    "contracts": (0.0004, 21),  # × award dollars / 100M, in [0, 1]
}
MAX_DRIFT = 0.002  # the summed drift of a day is clipped to ±this
MARKET_MEAN, MARKET_VOL = 0.00035, 0.010  # the synthetic SPY's daily return distribution


@dataclass
class Company:
    symbol: str
    beta: float
    vol: float
    price0: float
    lobby_spend: float  # dollars per season; 0 when it does not lobby
    wiki_views: float  # mean daily page views; 0 when it has no tracked page
    insider_rate: float  # open-market insider trades per month
    congress_weight: float  # relative popularity with members of Congress
    contract_rate: float  # awards per month; 0 when it is no contractor


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="directory to write (created)")
    parser.add_argument("--tickers", type=int, default=TICKERS, help="number of synthetic companies")
    parser.add_argument("--start", type=date.fromisoformat, default=FIRST_DAY, help="first price day")
    parser.add_argument("--end", type=date.fromisoformat, default=LAST_DAY, help="last price day")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    write(args.out, generate(args.tickers, args.start, args.end, args.seed))


@dataclass
class Sample:
    days: list[date]
    closes: dict[str, list[float]]
    records: dict[str, list[Record]]
    seed: int
    planted: dict[str, int]  # events per dataset that move returns


def generate(n_tickers: int, start: date, end: date, seed: int) -> Sample:
    rng = random.Random(seed)
    days = [start + timedelta(n) for n in range((end - start).days + 1)]
    days = [d for d in days if is_trading_day(d)]
    companies = [_company(rng, i + 1, n_tickers) for i in range(n_tickers)]
    event_start = start - timedelta(EVENT_LEAD_DAYS)
    wiki_start = start - timedelta(WIKI_LEAD_DAYS)
    public_until = datetime.combine(end + timedelta(1), time(), UTC)

    # Raw rows first (without prices), each with its effect on later returns.
    raws: dict[str, list[dict[str, Any]]] = {}
    effects: list[tuple[str, str, datetime, float]] = []  # (dataset, symbol, public_at, strength)
    raws["lobbying"] = _lobbying(rng, companies, event_start, end, effects)
    raws["insiders"] = _insiders(rng, companies, event_start, end, effects)
    raws["congress"] = _congress(rng, companies, event_start, end, effects)
    raws["wiki"] = _wiki(rng, companies, wiki_start, end, effects)
    raws["contracts"] = _contracts(rng, companies, event_start, end, effects)

    drift = _drift(days, [c.symbol for c in companies], effects, public_until)
    closes = _prices(rng, days, companies, drift)
    _price_insider_rows(raws["insiders"], days, closes)

    records: dict[str, list[Record]] = {}
    for name, rows in raws.items():
        # One answer per dataset, numbered as a scrape numbers an answer's repeated identities.
        normalised = numbered([DATASETS[name].normalise(row) for row in rows])
        kept = [r for r in normalised if r.public_at <= public_until]
        records[name] = sorted(kept, key=lambda r: (r.public_at, r.ticker, r.key))
    planted = {name: sum(1 for e in effects if e[0] == name and e[2] <= public_until) for name in EFFECTS}
    return Sample(days, closes, records, seed, planted)


def _company(rng: random.Random, number: int, n_tickers: int) -> Company:
    symbol = f"SYN{number:02d}"
    return Company(
        symbol=symbol,
        beta=round(rng.uniform(0.6, 1.4), 3),
        vol=round(rng.uniform(0.011, 0.026), 4),
        price0=round(math.exp(rng.uniform(math.log(15), math.log(400))), 2),
        lobby_spend=rng.choice([0.0, 1.0, 1.0, 1.0]) * math.exp(rng.uniform(math.log(6e4), math.log(3e6))),
        wiki_views=(
            math.exp(rng.uniform(math.log(300), math.log(20000))) if number <= n_tickers * WIKI_SHARE else 0.0
        ),
        insider_rate=rng.uniform(0.3, 1.6),
        congress_weight=rng.paretovariate(1.5),
        contract_rate=rng.choice([0.0, 0.0, 0.8, 2.0]),
    )


def _weekday_in(rng: random.Random, first: date, last: date) -> date:
    span = (last - first).days
    for _ in range(20):
        d = first + timedelta(rng.randint(0, span))
        if d.weekday() < 5:
            return d
    return first


def _lobbying(
    rng: random.Random, companies: list[Company], start: date, end: date, effects: list[Any]
) -> list[dict[str, Any]]:
    """LD-2 filings: each season's (quarter's) spend is filed in the first 20 days of Jan,
    Apr, Jul and Oct. Spend follows a random walk in log with occasional jumps."""
    rows = []
    issues = ["TAX", "TRD", "DEF", "HCR", "ENG", "TEC", "BUD"]
    filing_months = [
        date(y, m, 1)
        for y in range(start.year, end.year + 1)
        for m in (1, 4, 7, 10)
        if start <= date(y, m, 1)
    ]
    for c in companies:
        if not c.lobby_spend:
            continue
        level, previous = c.lobby_spend, None
        registrants = [f"Synthetic Advocacy {c.symbol[-2:]}{k}" for k in "AB"]
        for month in filing_months:
            jump = rng.random()
            level *= math.exp(rng.gauss(0, 0.12) + (0.5 if jump < 0.08 else -0.4 if jump < 0.14 else 0))
            total = 0.0
            deadline = month + timedelta(19)
            if deadline > end:
                break
            for registrant in registrants[: rng.randint(1, 2)]:
                amount = round(level * rng.uniform(0.3, 0.7) / 1000) * 1000
                total += amount
                rows.append(
                    {
                        "Date": _weekday_in(rng, month, deadline).isoformat(),
                        "Ticker": c.symbol,
                        "Client": f"SYNTHETIC COMPANY {c.symbol[-2:]}",
                        "Registrant": registrant,
                        "Issue": rng.choice(issues),
                        "Specific_Issue": "Synthetic demo filing (not real data)",
                        "Amount": f"{amount:.1f}",
                    }
                )
            if previous:
                growth = max(-0.5, min(1.0, total / previous - 1))
                # From the end of the filing month on, a season-on-season comparison sees it.
                season_end = date(month.year + month.month // 12, month.month % 12 + 1, 1)
                effects.append(("lobbying", c.symbol, _midnight(season_end), growth))
            previous = total
    return rows


def _insiders(
    rng: random.Random, companies: list[Company], start: date, end: date, effects: list[Any]
) -> list[dict[str, Any]]:
    """Form 4 trades; open-market purchases (P) and sales (S), plus grants and exercises.
    Each company's insiders go through buying and selling moods a few months long."""
    rows = []
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    for c in companies:
        mood = 0.0
        for m in range(months):
            first = date(start.year + (start.month - 1 + m) // 12, (start.month - 1 + m) % 12 + 1, 1)
            if m % 3 == 0:
                mood = rng.choice([-1.0, 0.0, 0.0, 1.0])
            for _ in range(_poisson(rng, c.insider_rate)):
                traded = _weekday_in(rng, first, min(first + timedelta(27), end))
                filed = traded + timedelta(days=rng.choice([1, 2, 2, 3]))
                kind = rng.random()
                buy_share = 0.35 + 0.3 * mood
                code = "P" if kind < buy_share else "S" if kind < 0.85 else rng.choice(["A", "M", "F"])
                dollars = math.exp(rng.uniform(math.log(2e4), math.log(8e5)))
                rows.append(
                    {
                        "Ticker": c.symbol,
                        "Date": traded.isoformat(),
                        "Name": f"Synthetic Insider {c.symbol[-2:]}-{rng.randint(1, 4)}",
                        "TransactionCode": code,
                        "AcquiredDisposedCode": "D" if code in ("S", "F") else "A",
                        "_dollars": dollars,  # becomes Shares once prices exist
                        "fileDate": f"{filed}T{rng.randint(12, 21):02d}:{rng.randint(0, 59):02d}:00",
                    }
                )
                if code in ("P", "S"):
                    strength = min(dollars / 250_000, 1.0) * (1 if code == "P" else -0.5)
                    effects.append(("insiders", c.symbol, _midnight(filed, 1), strength))
    return rows


def _price_insider_rows(rows: list[dict[str, Any]], days: list[date], closes: dict[str, list[float]]) -> None:
    """Shares and prices of the insider trades, from the synthetic closes of their day."""
    index = {d: i for i, d in enumerate(days)}
    first_close = {s: v[0] for s, v in closes.items()}
    for row in rows:
        d = date.fromisoformat(row["Date"])
        while d not in index and d <= days[-1] and d >= days[0]:
            d -= timedelta(1)
        price = closes[row["Ticker"]][index[d]] if d in index else first_close[row["Ticker"]]
        if row["TransactionCode"] in ("A", "M"):
            price_text = None if row["TransactionCode"] == "A" else f"{price * 0.6:.2f}"
        else:
            price_text = f"{price:.2f}"
        shares = max(1, round(row.pop("_dollars") / price))
        row["Shares"] = shares
        row["PricePerShare"] = price_text
        row["SharesOwnedFollowing"] = shares * 7


def _congress(
    rng: random.Random, companies: list[Company], start: date, end: date, effects: list[Any]
) -> list[dict[str, Any]]:
    """STOCK Act disclosures by twelve invented members, filed 5-45 days after the trade."""
    members = [
        (f"Synthetic Member {letter}", "House" if k % 3 else "Senate", "D" if k % 2 else "R")
        for k, letter in enumerate("ABCDEFGHIJKL")
    ]
    ranges = ["$1,001 - $15,000"] * 6 + ["$15,001 - $50,000"] * 3 + ["$50,001 - $100,000"]
    weights = [c.congress_weight for c in companies]
    rows = []
    for _ in range(int((end - start).days * 1.1)):
        c = rng.choices(companies, weights)[0]
        name, chamber, party = rng.choice(members)
        traded = _weekday_in(rng, start, end)
        filed = traded + timedelta(days=rng.randint(5, 45))
        uploaded = datetime.combine(filed + timedelta(1), time(rng.randint(13, 23), rng.randint(0, 59)), UTC)
        purchase = rng.random() < 0.55
        rows.append(
            {
                "Ticker": c.symbol,
                "TickerType": "ST",
                "Name": name,
                "Chamber": chamber,
                "Party": party,
                "Traded": traded.isoformat(),
                "Filed": filed.isoformat(),
                "Transaction": "Purchase" if purchase else rng.choice(["Sale (Full)", "Sale (Partial)"]),
                "Trade_Size_USD": rng.choice(ranges),
                "Description": "",
                "Quiver_Upload_Time": uploaded.strftime("%Y-%m-%dT%H:%M:%S"),
            }
        )
        if purchase:
            effects.append(("congress", c.symbol, uploaded, 1.0))
    return rows


def _wiki(
    rng: random.Random, companies: list[Company], start: date, end: date, effects: list[Any]
) -> list[dict[str, Any]]:
    """Daily page views: a slow random walk, a weekly cycle, and attention spikes of 4-9
    days at two to five times the usual level, about three a year."""
    rows = []
    for c in companies:
        if not c.wiki_views:
            continue
        level, spike_left, spike_size = 0.0, 0, 1.0
        d = start
        while d <= end:
            level = 0.97 * level + rng.gauss(0, 0.05)
            if spike_left == 0 and rng.random() < 3 / 365:
                spike_left, spike_size = rng.randint(4, 9), rng.uniform(2.0, 5.0)
                effects.append(("wiki", c.symbol, _midnight(d, 1), 1.0))
            boost = spike_size if spike_left > 0 else 1.0
            spike_left = max(0, spike_left - 1)
            weekly = 0.85 if d.weekday() >= 5 else 1.0
            views = round(c.wiki_views * math.exp(level) * weekly * boost * rng.uniform(0.9, 1.1))
            rows.append({"Date": d.isoformat(), "Ticker": c.symbol, "Views": views})
            d += timedelta(1)
    return rows


def _contracts(
    rng: random.Random, companies: list[Company], start: date, end: date, effects: list[Any]
) -> list[dict[str, Any]]:
    """Federal awards to the contractors among the companies, lognormal in size."""
    agencies = ["Department of Defense", "Department of Energy", "NASA", "Department of Health"]
    rows = []
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    for c in companies:
        for m in range(months if c.contract_rate else 0):
            first = date(start.year + (start.month - 1 + m) // 12, (start.month - 1 + m) % 12 + 1, 1)
            for _ in range(_poisson(rng, c.contract_rate)):
                announced = _weekday_in(rng, first, min(first + timedelta(27), end))
                amount = round(math.exp(rng.uniform(math.log(2e5), math.log(4e8))), -3)
                rows.append(
                    {
                        "Ticker": c.symbol,
                        "Date": announced.isoformat(),
                        "action_date": (announced - timedelta(days=rng.randint(0, 10))).isoformat(),
                        "Agency": rng.choice(agencies),
                        "Description": "Synthetic demo award (not real data)",
                        "Amount": amount,
                    }
                )
                effects.append(("contracts", c.symbol, _midnight(announced), min(amount / 1e8, 1.0)))
    return rows


def _drift(
    days: list[date], symbols: list[str], effects: Iterable[tuple[str, str, datetime, float]], until: datetime
) -> dict[str, list[float]]:
    """Each symbol's planted daily drift: every event adds its effect from the first trading
    day after the day it became public, for the effect's number of trading days."""
    drift = {s: [0.0] * len(days) for s in symbols}
    for dataset, symbol, public_at, strength in effects:
        if public_at > until:
            continue
        per_day, length = EFFECTS[dataset]
        first = _first_index_after(days, public_at.date())
        for i in range(first, min(first + length, len(days))):
            drift[symbol][i] += per_day * strength
    return {s: [max(-MAX_DRIFT, min(MAX_DRIFT, v)) for v in values] for s, values in drift.items()}


def _first_index_after(days: list[date], day: date) -> int:
    lo, hi = 0, len(days)
    while lo < hi:
        mid = (lo + hi) // 2
        if days[mid] <= day:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _prices(
    rng: random.Random, days: list[date], companies: list[Company], drift: dict[str, list[float]]
) -> dict[str, list[float]]:
    """Closes: a one-factor model (the synthetic SPY is the factor) plus the planted drift."""
    market = [rng.gauss(MARKET_MEAN, MARKET_VOL) for _ in days]
    closes = {BENCHMARK: _compound(380.0, market)}
    for c in companies:
        returns = [
            c.beta * (m - MARKET_MEAN) + MARKET_MEAN * 0.8 + drift[c.symbol][i] + rng.gauss(0, c.vol)
            for i, m in enumerate(market)
        ]
        closes[c.symbol] = _compound(c.price0, returns)
    return closes


def _compound(start: float, returns: list[float]) -> list[float]:
    out, value = [], start
    for r in returns:
        value = max(1.0, value * (1 + r))
        out.append(round(value, 2))
    return out


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _midnight(d: date, days_after: int = 0) -> datetime:
    return datetime.combine(d + timedelta(days_after), time(), UTC)


def record_json(r: Record) -> str:
    """One record as a JSON line (the inverse is ``pas.demo.sample``'s reader)."""
    return json.dumps(
        {
            "dataset": r.dataset,
            "key": r.key,
            "ticker": r.ticker,
            "event_date": r.event_date.isoformat(),
            "public_at": r.public_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "fields": r.fields,
        },
        sort_keys=True,
        separators=(",", ":"),
    )


def _gzip(path: Path, text: str) -> None:
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as f:
        f.write(text.encode())
    path.write_bytes(buffer.getvalue())


def write(out: Path, sample: Sample) -> None:
    out.mkdir(parents=True, exist_ok=True)
    lines = io.StringIO()
    writer = csv.writer(lines, lineterminator="\n")
    writer.writerow(["date", "symbol", "close"])
    symbols = sorted(sample.closes)
    for i, d in enumerate(sample.days):
        for s in symbols:
            writer.writerow([d.isoformat(), s, f"{sample.closes[s][i]:.2f}"])
    _gzip(out / "prices.csv.gz", lines.getvalue())
    counts = {}
    for name, records in sorted(sample.records.items()):
        _gzip(out / f"{name}.jsonl.gz", "".join(record_json(r) + "\n" for r in records))
        counts[name] = len(records)
    manifest = {
        "synthetic": True,
        "note": "SYNTHETIC demo data generated by scripts/make_demo_data.py; not market data",
        "seed": sample.seed,
        "first_day": sample.days[0].isoformat(),
        "last_day": sample.days[-1].isoformat(),
        "benchmark": BENCHMARK,
        "symbols": [s for s in symbols if s != BENCHMARK],
        "price_days": len(sample.days),
        "records": counts,
        "planted_events": sample.planted,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    (out / "README.md").write_text(_readme(manifest))


def _readme(manifest: Mapping[str, Any]) -> str:
    effects = "\n".join(
        f"| `{name}` | {per_day * 1e4:.0f} bp/day × strength | {length} | {_STRENGTH[name]} |"
        for name, (per_day, length) in EFFECTS.items()
    )
    counts = "\n".join(f"| `{name}` | {n:,} |" for name, n in manifest["records"].items())
    record_line = (
        "one record a line (`dataset`, `key`, `ticker`, `event_date`, `public_at`, `fields`),"
        " as `pas scrape` stores it"
    )
    days = (
        f"{manifest['price_days']} trading days {manifest['first_day']} .. {manifest['last_day']}"
        " (weekdays less NYSE holidays)"
    )
    return f"""# SYNTHETIC sample data: not market data

Everything in this directory is **invented**. It is written by
`scripts/make_demo_data.py` (seed {manifest["seed"]}) so that `pas demo` and the tests can run
without a QuiverQuant or Alpaca account. Do not trade on it, and do not mistake it for
history: the companies `SYN01`...`SYN{len(manifest["symbols"]):02d}` do not exist, and `SPY` here
is a synthetic market index standing in for the benchmark, not the real ETF.

| file | what |
| --- | --- |
| `prices.csv.gz` | daily closes (`date,symbol,close`, the format of `pas prices import`), {days} |
| `<dataset>.jsonl.gz` | {record_line} |
| `manifest.json` | the range, symbols, record counts and seed |

| dataset | records |
| --- | ---: |
{counts}

## How it was made

Raw rows shaped like QuiverQuant's API answers (bulk congress trades, LD-2 lobbying
filings, Form 4 insider trades, daily Wikipedia views, federal contract awards) are
generated, then passed through pas's own dataset normalisers, so the natural keys,
public times and fields are what a scrape of such rows would store. Alternative data
starts before the first price day (Wikipedia views two months before, the rest eight
months) so that strategies with look-backs have history from the first day; no record
becomes public after the day after the last price day. Only a third of the companies have a
tracked Wikipedia page, to keep the files small.

Prices follow a one-factor model: each company's daily return is its beta times the
synthetic market's return, plus noise, plus a **planted drift**.

## The planted signal (invented)

So that the demo's strategies have something to find, each event adds a small drift to
its company's daily return from the first trading day after it became public, for a
number of trading days (the day's total is clipped to ±{MAX_DRIFT * 1e4:.0f} bp):

| dataset | drift | trading days | strength |
| --- | --- | ---: | --- |
{effects}

This link between alternative data and returns is made up for the demo. It says nothing
about whether such strategies work on real markets.
"""


_STRENGTH = {
    "lobbying": "the company's season spend over the previous season's, minus 1, in [-0.5, 1]",
    "insiders": "net dollars / 250,000 capped at 1; purchases (P) +, sales (S) −½",
    "congress": "1 per disclosed purchase (from Quiver's upload time)",
    "wiki": "1 per attention spike (public the day after it starts)",
    "contracts": "award dollars / 100,000,000 capped at 1",
}


if __name__ == "__main__":
    main()
