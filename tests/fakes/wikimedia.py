"""A fake Wikimedia REST API (Pageviews, per-article daily) on 127.0.0.1.

It answers like the real API (shapes in tests/fixtures/wikimedia/, see its PROVENANCE):
``{"items": [...]}`` for the days of the window that have views (days with zero views are
left out, as the real API does), the ``HyperSwitch/errors/not_found`` 404 when an article
has no views in the window or is unknown, 429 / 5xx when scripted. Like Wikimedia, it
refuses a request without a descriptive User-Agent (here: 403 unless it names a client
and a contact in parentheses). Every request is logged.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

FIXTURES = Path(__file__).parent.parent / "fixtures" / "wikimedia"
_PATH_RE = re.compile(
    r"^/api/rest_v1/metrics/pageviews/per-article/(?P<project>[^/]+)/(?P<access>[^/]+)/"
    r"(?P<agent>[^/]+)/(?P<article>[^/]+)/daily/(?P<start>\d{8}(?:\d{2})?)/(?P<end>\d{8}(?:\d{2})?)$"
)
# "<client>/<version> (<contact>)": the form Wikimedia's User-Agent policy asks for.
_DESCRIPTIVE_UA = re.compile(r"^\S+/\S+ \(.*\S.*\)")


def not_found_body(path: str) -> dict[str, Any]:
    """The 404 body, as in the fixture, naming the request."""
    body: dict[str, Any] = json.loads((FIXTURES / "not_found.json").read_text())
    body["uri"] = path
    return body


@dataclass
class Fault:
    """One scripted answer (status, body, headers) before normal service."""

    status: int = 503
    body: Any = "Service Unavailable"
    headers: dict[str, str] = field(default_factory=dict)
    truncated: bool = False  # send half the body, promising all of it, then close
    trickle: float = 0.0  # seconds between the body's bytes


@dataclass
class Logged:
    article: str
    start: str
    end: str
    project: str
    access: str
    agent: str
    user_agent: str


class FakeWikimedia:
    """The fake's state: ``views[article][day]``; ``url`` is the base URL to give the client."""

    def __init__(self) -> None:
        self.views: dict[str, dict[date, int]] = defaultdict(dict)
        self.faults: dict[str, deque[Fault]] = defaultdict(deque)
        self.log: list[Logged] = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/rest_v1"

    def add(self, article: str, first: date, counts: list[int]) -> None:
        """Views of ``article`` on consecutive days from ``first`` (0: the day is left out)."""
        for offset, count in enumerate(counts):
            if count:
                self.views[article][first + timedelta(days=offset)] = count

    def fault(self, article: str, *faults: Fault) -> None:
        self.faults[article].extend(faults)

    def _answer(self, path: str, m: re.Match[str]) -> tuple[int, Any, dict[str, str], bool, float]:
        article = unquote(m["article"])
        with self._lock:
            if self.faults[article]:
                f = self.faults[article].popleft()
                return f.status, f.body, f.headers, f.truncated, f.trickle
        start = datetime.strptime(m["start"][:8], "%Y%m%d").date()
        end = datetime.strptime(m["end"][:8], "%Y%m%d").date()
        days = sorted(d for d in self.views.get(article, {}) if start <= d <= end)
        if not days:
            return 404, not_found_body(path), {}, False, 0.0
        items = [
            {
                "project": m["project"],
                "article": article,
                "granularity": "daily",
                "timestamp": f"{d:%Y%m%d}00",
                "access": m["access"],
                "agent": m["agent"],
                "views": self.views[article][d],
            }
            for d in days
        ]
        return 200, {"items": items}, {}, False, 0.0

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                agent = self.headers.get("User-Agent", "")
                m = _PATH_RE.match(path)
                if m is None:
                    self._send(404, not_found_body(path), {})
                    return
                with fake._lock:
                    fake.log.append(
                        Logged(
                            unquote(m["article"]),
                            m["start"],
                            m["end"],
                            m["project"],
                            m["access"],
                            m["agent"],
                            agent,
                        )
                    )
                if not _DESCRIPTIVE_UA.match(agent):
                    self._send(403, {"title": "Forbidden", "detail": "Please set a user-agent"}, {})
                    return
                self._send(*fake._answer(path, m))

            def _send(
                self,
                status: int,
                body: Any,
                headers: dict[str, str],
                truncated: bool = False,
                trickle: float = 0.0,
            ) -> None:
                payload = (body if isinstance(body, str) else json.dumps(body)).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    for i in range(len(payload) if trickle else 0):
                        self.wfile.write(payload[i : i + 1])
                        self.wfile.flush()
                        time.sleep(trickle)
                    if not trickle:
                        self.wfile.write(payload[: len(payload) // 2] if truncated else payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@contextmanager
def serve() -> Iterator[FakeWikimedia]:
    """Runs a fake server in a thread for the body of the ``with``."""
    fake = FakeWikimedia()
    thread = threading.Thread(target=fake.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()
