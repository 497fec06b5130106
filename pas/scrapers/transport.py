"""One HTTP GET of a data source within a deadline for the whole answer.

``requests``' timeouts bound each socket read, not the request: a server that sends its
status line, its headers or its body a byte at a time, each within the read timeout, holds
a request for as long as it trickles. :func:`get_within` sends the request from a worker
thread and waits on the injected timer; at the deadline it gives up with a
:class:`~pas.http.Transient` (retried like any dropped connection), and the abandoned
worker drops whatever arrives after that. The Quiver and the Wikimedia clients share it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pas.http import Transient

if TYPE_CHECKING:
    import requests

# Bodies are read in pieces of at most this many bytes, the deadline checked between them.
READ_CHUNK = 65536
# How often the waiting caller looks at its timer while the worker is still reading.
POLL_SEC = 0.05

Timer = Callable[[], float]


@dataclass(frozen=True)
class Reply:
    """A whole answer: its status, headers and body (UTF-8, undecodable bytes replaced)."""

    status: int
    headers: Mapping[str, str]
    text: str


def get_within(
    session: requests.Session,
    url: str,
    *,
    params: Mapping[str, str] | None,
    headers: Mapping[str, str],
    connect_timeout_sec: float,
    deadline_sec: float,
    timer: Timer,
) -> Reply:
    """The whole answer of ``GET url`` within ``deadline_sec`` seconds of ``timer``:
    connecting, the status line and headers, and the last byte of the body.

    Raises:
        Transient: no whole answer by the deadline, a timeout, a dropped connection or a
            body cut short of its Content-Length.
    """
    started = timer()
    abandoned = threading.Event()
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["reply"] = _read(
                session, url, params, headers, (connect_timeout_sec, deadline_sec), abandoned, timer, started
            )
        except BaseException as exc:  # handed to the caller's thread, raised there
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="pas-http-get", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(POLL_SEC)
        if worker.is_alive() and timer() - started > deadline_sec:
            abandoned.set()
            raise Transient(f"no whole answer within {deadline_sec:g} s")
    if "error" in outcome:
        raise outcome["error"]
    reply: Reply = outcome["reply"]
    return reply


def _read(
    session: requests.Session,
    url: str,
    params: Mapping[str, str] | None,
    headers: Mapping[str, str],
    timeout: tuple[float, float],
    abandoned: threading.Event,
    timer: Timer,
    started: float,
) -> Reply | None:
    """One GET read to its last byte (None once the caller gave up on it)."""
    import requests
    import urllib3

    deadline_sec = timeout[1]
    try:
        with session.get(url, params=params, headers=dict(headers), timeout=timeout, stream=True) as response:
            parts: list[bytes] = []
            while not abandoned.is_set() and (chunk := response.raw.read1(READ_CHUNK)):
                parts.append(chunk)
                if timer() - started > deadline_sec:
                    raise Transient(f"no whole answer within {deadline_sec:g} s")
            if abandoned.is_set():
                return None
            return Reply(response.status_code, response.headers, b"".join(parts).decode("utf-8", "replace"))
    except requests.Timeout:
        raise Transient(f"no answer within {deadline_sec:g} s") from None
    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
        raise Transient(f"connection failed: {type(exc).__name__}") from None
    except (urllib3.exceptions.ProtocolError, urllib3.exceptions.ReadTimeoutError) as exc:
        # Read straight from urllib3, a body cut short of its Content-Length (or a read
        # that timed out) surfaces as urllib3's error, not as requests' wrapper.
        raise Transient(f"answer cut short: {type(exc).__name__}") from None
