"""A fake QuiverQuant API on 127.0.0.1, answering like the real one, faults included.

Datasets are lists of rows per endpoint path (newest first, as Quiver serves them).
Paged endpoints (the schema's ``page``/``page_size`` parameters, see
tests/fixtures/quiver/PROVENANCE) slice by page: the last page is short, or empty when
the rows fill whole pages, or (``past_end``) a 404. Faults are scripted per path: each
queued :class:`Fault` answers one request before normal service (a status, a raw body, a
body cut short of its Content-Length, a body or a head trickled byte by byte). Modes: per-endpoint
rate limits counted on an injected clock (429 with Retry-After), a feed that ignores
``page``, and a hook run before each answer (tests use it to shift pages between
requests or revise values). Every request is logged with its arrival time, path, query
and Authorization header.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

API_KEY = "test-quiver-key-123"
# QUIVER_RATE_LIMITS for CLI tests on the real clock: Quiver's documented limits would
# make a first contracts backfill (one request per day) wait for real rate-limit slots.
UNLIMITED_RATES = "bulk/=1000000/second,live/=1000000/second,historical/=1000000/second"
PAGED = frozenset(
    {"bulk/congresstrading", "live/lobbying", "live/insiders", "live/govcontractsall", "historical/lobbying"}
)
UPGRADE_BODY = "Upgrade your subscription plan to access this dataset."
# Quiver's errors page: a 401 says "Authentication credentials were not provided." when the
# Authorization header is missing or starts with neither word, "Invalid token." for a wrong
# key; a 404 is an HTML "Not Found" page, not JSON (tests/fixtures/quiver/PROVENANCE).
AUTH_SCHEMES = frozenset({"Token", "Bearer"})
NOT_FOUND_HTML = (
    "<!doctype html>\n<html><head><title>Not Found</title></head><body><h1>Not Found</h1></body></html>\n"
)


@dataclass
class Fault:
    """One scripted answer: status, body, headers, and a delay before answering."""

    status: int = 500
    body: Any = "Internal Server Error"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    raw: bool = False  # body sent as-is instead of JSON-encoded
    truncate: int | None = None  # send only this many bytes of the body, then close
    trickle: float = 0.0  # seconds between the body's bytes
    trickle_head: float = 0.0  # seconds between the bytes of the status line and headers


def not_found() -> Fault:
    """Quiver's 404: an HTML page, whatever was asked."""
    return Fault(404, NOT_FOUND_HTML, {"Content-Type": "text/html; charset=utf-8"}, raw=True)


@dataclass
class Logged:
    at: float
    path: str
    query: dict[str, str]
    auth: str


class FakeQuiver:
    """The fake server's state; ``url`` is the base URL to give the client."""

    def __init__(self) -> None:
        self.rows: dict[str, list[Any]] = {}
        self.faults: dict[str, deque[Fault]] = defaultdict(deque)
        self.gone: set[str] = set()
        self.not_entitled: set[str] = set()
        self.log: list[Logged] = []
        # Per-endpoint limits (path prefix -> (requests, period seconds)) on ``clock``.
        self.limits: dict[str, tuple[int, float]] = {}
        self.clock: Callable[[], float] = time.monotonic
        self.served: dict[str, list[float]] = defaultdict(list)
        self.past_end: dict[str, int] = {}  # status of a page past the last (200 = [])
        self.ignores_page: set[str] = set()
        self.before_answer: Callable[[str, dict[str, str]], None] | None = None
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/beta"

    def fault(self, path: str, *faults: Fault) -> None:
        self.faults[path].extend(faults)

    def paths(self) -> list[str]:
        return [entry.path for entry in self.log]

    def _limited(self, path: str) -> Fault | None:
        """A 429 when the endpoint's limit is used up on the fake's clock."""
        for prefix, (count, period) in self.limits.items():
            if path.startswith(prefix):
                now = self.clock()
                recent = [t for t in self.served[prefix] if t > now - period]
                if len(recent) >= count:
                    wait = recent[0] + period - now
                    return Fault(429, {"detail": "Request was throttled."}, {"Retry-After": f"{wait:.0f}"})
                self.served[prefix] = [*recent, now]
                return None
        return None

    def _answer(self, path: str, query: dict[str, str]) -> Fault:
        if self.before_answer is not None:
            self.before_answer(path, query)
        with self._lock:
            limited = self._limited(path)
            if limited is not None:
                return limited
            if self.faults[path]:
                return self.faults[path].popleft()
        if path in self.gone:
            return not_found()
        if path in self.not_entitled:
            return Fault(403, UPGRADE_BODY)
        base, _, symbol = path.rpartition("/")
        if base in HISTORICAL:
            rows = [r for r in self.rows.get(HISTORICAL[base], []) if _ticker(r) == symbol]
            if base == "historical/congresstrading":
                rows = [congress_v1(r) for r in rows]
            return self._page(base, rows, query)
        if path not in self.rows:
            return not_found()
        rows = self.rows[path]
        if path == "live/congresstrading":
            rows = [congress_v1(r) for r in _newest_per_chamber(rows)]
        if "ticker" in query:
            rows = [r for r in rows if _ticker(r) == query["ticker"]]
        if "date_from" in query:
            lo, hi = query["date_from"], query.get("date_to", "99999999")
            rows = [r for r in rows if _in_dates(r, lo, hi)]
        if "date" in query:
            rows = [r for r in rows if _in_dates(r, query["date"], query["date"])]
        return self._page(path, rows, query)

    def _page(self, path: str, rows: list[Any], query: dict[str, str]) -> Fault:
        if path not in PAGED or "page" not in query:
            return Fault(200, rows)
        page, size = int(query["page"]), int(query.get("page_size", "100"))
        if path in self.ignores_page:
            page = 1
        sliced = rows[(page - 1) * size : page * size]
        if not sliced and page > 1 and self.past_end.get(path, 200) != 200:
            return (
                not_found()
                if self.past_end[path] == 404
                else Fault(self.past_end[path], {"detail": "Not found."})
            )
        return Fault(200, sliced)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                path = parts.path.removeprefix("/beta/").strip("/")
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                auth = self.headers.get("Authorization", "")
                with fake._lock:
                    fake.log.append(Logged(time.monotonic(), path, query, auth))
                scheme, _, key = auth.partition(" ")
                if scheme not in AUTH_SCHEMES:
                    self._send(401, {"detail": "Authentication credentials were not provided."}, {}, False)
                    return
                if key != API_KEY:
                    self._send(401, {"detail": "Invalid token."}, {}, False)
                    return
                f = fake._answer(path, query)
                if f.delay:
                    time.sleep(f.delay)
                self._send(f.status, f.body, f.headers, f.raw, f)

            def _send(
                self, status: int, body: Any, headers: dict[str, str], raw: bool, f: Fault | None = None
            ) -> None:
                data = (body if isinstance(body, str) else json.dumps(body)) if raw else json.dumps(body)
                payload = data.encode("utf-8", "surrogatepass")
                try:
                    if f is not None and f.trickle_head:
                        self._trickle_head(
                            status, {**headers, "Content-Length": str(len(payload))}, f.trickle_head
                        )
                        self.wfile.write(payload)
                        return
                    self.send_response(status)
                    self.send_header("Content-Type", headers.get("Content-Type", "application/json"))
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in headers.items():
                        if name != "Content-Type":
                            self.send_header(name, value)
                    self.end_headers()
                    if f is not None and f.truncate is not None:
                        self.wfile.write(payload[: f.truncate])
                        self.wfile.flush()
                        self.close_connection = True
                        return
                    if f is not None and f.trickle:
                        for i in range(len(payload)):
                            self.wfile.write(payload[i : i + 1])
                            self.wfile.flush()
                            time.sleep(f.trickle)
                        return
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _trickle_head(self, status: int, headers: dict[str, str], pause: float) -> None:
                lines = [
                    f"HTTP/1.0 {status} {self.responses.get(status, ('',))[0]}",
                    "Content-Type: application/json",
                ]
                head = "\r\n".join([*lines, *(f"{k}: {v}" for k, v in headers.items()), "", ""]).encode()
                for i in range(len(head)):
                    self.wfile.write(head[i : i + 1])
                    self.wfile.flush()
                    time.sleep(pause)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


HISTORICAL = {
    "historical/lobbying": "live/lobbying",
    "historical/govcontractsall": "live/govcontractsall",
    "historical/wikipedia": "live/wikipedia",
    "historical/congresstrading": "bulk/congresstrading",
}


# Quiver's quickstart: live/congresstrading returns "up to 500 from the House and 500 from
# the Senate", newest first.
LIVE_CONGRESS_PER_CHAMBER = 500


# The STOCK Act's reporting bands, as V1 rows write them in ``Range``.
_BANDS = ((1001, 15000), (15001, 50000), (50001, 100000), (100001, 250000), (250001, 500000))


def congress_v1(row: Any) -> Any:
    """A V2 congress row (bulk/) as the live and per-ticker feeds send it: the schema's V1
    ``CongressionalTrade`` (Representative, TransactionDate, ReportDate, Range, House
    "Representatives or Senate", Amount the lower bound; no Filed, Chamber or upload time).
    Rows already in V1, or not rows at all, are sent as they are."""
    if not isinstance(row, dict) or "Name" not in row:
        return row
    low = str(row.get("Trade_Size_USD", ""))
    band = next((f"${lo:,} - ${hi:,}" for lo, hi in _BANDS if low in (str(lo), f"{lo}.0")), low)
    v1 = {
        "Representative": row["Name"],
        "BioGuideID": row.get("BioGuideID"),
        "ReportDate": f"{row.get('Filed')}T00:00:00" if row.get("Filed") else None,
        "TransactionDate": f"{row.get('Traded')}T00:00:00" if row.get("Traded") else None,
        "Ticker": row.get("Ticker"),
        "Transaction": row.get("Transaction"),
        "Range": band,
        "House": "Senate" if row.get("Chamber") == "Senate" else "Representatives",
        "Amount": low,
        "Party": row.get("Party"),
        "last_modified": row.get("last_modified"),
        "TickerType": row.get("TickerType"),
        "Description": row.get("Description"),
    }
    return {k: v for k, v in v1.items() if v is not None}


def _newest_per_chamber(rows: list[Any]) -> list[Any]:
    """The live feed's answer: at most the first (newest) 500 rows of each chamber."""
    seen: dict[str, int] = defaultdict(int)
    kept = []
    for row in rows:
        chamber = str(row.get("Chamber", row.get("House"))) if isinstance(row, dict) else ""
        seen[chamber] += 1
        if seen[chamber] <= LIVE_CONGRESS_PER_CHAMBER:
            kept.append(row)
    return kept


def _in_dates(row: Any, lo: str, hi: str) -> bool:
    # Malformed rows and dates pass the filter, so tests see how the client copes with them.
    value = row.get("Date") if isinstance(row, dict) else None
    return not isinstance(value, str) or lo <= value.replace("-", "")[:8] <= hi


def _ticker(row: Any) -> str:
    return str(row.get("Ticker", "")) if isinstance(row, dict) else ""


@contextmanager
def serve(fake: FakeQuiver | None = None) -> Iterator[FakeQuiver]:
    """Runs a fake server in a thread for the body of the ``with``."""
    fake = fake or FakeQuiver()
    thread = threading.Thread(target=fake.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()


# -- realistic payloads (shapes as Quiver documents them), newest first -----------------
TICKERS = ("AAPL", "MSFT", "NVDA", "LMT", "GOOGL", "BRK.B", "XOM", "JPM")


def congress_rows(n: int, newest: date, start: int = 0) -> list[dict[str, Any]]:
    rows = []
    for i in range(start, start + n):
        filed = newest - timedelta(days=i // 4)
        traded = filed - timedelta(days=20 + i % 15)
        rows.append(
            {
                "Ticker": TICKERS[i % len(TICKERS)],
                "TickerType": "ST",
                "Company": "Some Company Inc.",
                "Name": f"Member {i % 37}",
                "Traded": traded.isoformat(),
                "Filed": filed.isoformat(),
                "Transaction": "Purchase" if i % 3 else "Sale",
                "Trade_Size_USD": ["1001.0", "15001.0", "$50,001 - $100,000", "Over $50,000,000"][i % 4],
                "Chamber": "Representatives" if i % 2 else "Senate",
                "Party": "D" if i % 2 else "R",
                "Quiver_Upload_Time": f"{filed.isoformat()} 18:{i % 60:02d}:00",
                "last_modified": filed.isoformat(),
                "excess_return": "1.5",  # V2's name (V1 rows have ExcessReturn, PriceChange, SPYChange)
                "Description": None,
            }
        )
    return rows


def lobbying_rows(n: int, newest: date, start: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "Date": (newest - timedelta(days=i // 5)).isoformat(),
            "Amount": f"{10000 + (i % 9) * 5000}.0",
            "Client": f"CLIENT {i % 11}",
            "Issue": "Taxation/Internal Revenue Code, Trade (Domestic & Foreign)",
            "Specific_Issue": f"Issues related to section {i}",
            "Registrant": f"REGISTRANT {i % 7} LLC",
            "Ticker": TICKERS[i % len(TICKERS)],
        }
        for i in range(start, start + n)
    ]


def contract_rows(n: int, newest: date, start: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "Ticker": TICKERS[i % len(TICKERS)],
            "Date": (newest - timedelta(days=i // 3)).isoformat(),
            "action_date": (newest - timedelta(days=i // 3 + 2)).isoformat(),
            "Description": f"PURCHASE ORDER {i}",
            "Agency": "Department of Defense",
            "Amount": 125000.5 + i,
        }
        for i in range(start, start + n)
    ]


def insider_rows(n: int, newest: date, start: int = 0) -> list[dict[str, Any]]:
    rows = []
    for i in range(start, start + n):
        filed = newest - timedelta(days=i // 6)
        rows.append(
            {
                "Ticker": TICKERS[i % len(TICKERS)],
                "Date": (filed - timedelta(days=2)).isoformat(),
                "Name": f"Insider {i % 13}",
                "TransactionCode": "PSAM"[i % 4],
                "AcquiredDisposedCode": "A" if i % 4 in (0, 2, 3) else "D",
                "Shares": 100 + i,
                "PricePerShare": 50.25,
                "SharesOwnedFollowing": 10000 + i,
                "fileDate": f"{filed.isoformat()}T21:30:00",
                "uploaded": f"{filed.isoformat()}T22:00:00",
            }
        )
    return rows


def wiki_rows(newest: date) -> list[dict[str, Any]]:
    return [
        {
            "Date": newest.isoformat(),
            "Ticker": t,
            "Views": 1000 + k,
            "pct_change_week": 1.25,
            "pct_change_month": -3.5,
        }
        for k, t in enumerate(TICKERS)
    ]


def load_all(fake: FakeQuiver, newest: date, scale: int = 1) -> None:
    """Fills every dataset with realistic rows up to ``newest``."""
    fake.rows["bulk/congresstrading"] = congress_rows(1200 * scale, newest)
    fake.rows["live/congresstrading"] = congress_rows(100, newest)
    fake.rows["live/lobbying"] = lobbying_rows(1000 * scale, newest)
    fake.rows["live/govcontractsall"] = contract_rows(300 * scale, newest)
    fake.rows["live/insiders"] = insider_rows(1000 * scale, newest)
    fake.rows["live/wikipedia"] = wiki_rows(newest)
