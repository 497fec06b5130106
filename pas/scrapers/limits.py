"""QuiverQuant's request limits per endpoint, and how a user overrides them.

Quiver's rate-limit page (api.quiverquant.com/docs/rate-limits) gives every endpoint one of
100 requests a minute, 10 a minute, 200 an hour or 5 an hour, per account, the same on
every plan; endpoints with the same limit draw from one allowance, and each group is
separate. Bulk endpoints (bulk congress trading) allow 5 an hour and ask for large pages
rather than many small ones. The page names no other endpoint's group, so pas assumes
the documented bulk limit for ``bulk/`` paths, 200 an hour for the per-ticker
``historical/`` paths and 100 a minute for the ``live/`` feeds. ``QUIVER_RATE_LIMITS``
overrides any of them (``bulk/congresstrading=5/hour``).

A limit of N per period is kept as one request every period / N seconds (a smooth
schedule, never a burst), shared by every pas process on one store and by every endpoint
with that limit (their slots are the limit's, not the endpoint's).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from pas.errors import ConfigError

PERIODS_SEC: Mapping[str, float] = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}


@dataclass(frozen=True)
class RateLimit:
    """At most ``requests`` requests per ``period_sec`` seconds."""

    requests: int
    period_sec: float

    @property
    def interval_sec(self) -> float:
        """Seconds between two requests on the smooth schedule."""
        return self.period_sec / self.requests

    def __str__(self) -> str:
        names = {v: k for k, v in PERIODS_SEC.items()}
        return f"{self.requests}/{names.get(self.period_sec, f'{self.period_sec:g}s')}"


PER_MINUTE_100 = RateLimit(100, 60.0)
PER_HOUR_200 = RateLimit(200, 3600.0)
BULK = RateLimit(5, 3600.0)

# The limit of every path pas asks for; the first matching prefix wins (see the module's
# docstring for which are documented and which are pas's conservative reading).
ENDPOINT_LIMITS: Mapping[str, RateLimit] = {
    "bulk/": BULK,
    "historical/": PER_HOUR_200,
    "live/": PER_MINUTE_100,
}
DEFAULT_LIMIT = PER_MINUTE_100

_ENTRY = re.compile(r"^\s*([a-z0-9_/{}-]+)\s*=\s*(\d+)\s*/\s*([a-z]+)\s*$")


def limit_for(path: str, limits: Mapping[str, RateLimit]) -> tuple[str, RateLimit]:
    """The name of the limit ``path`` counts against and the limit itself.

    An exact path wins over a prefix; the longest prefix wins over a shorter one.
    """
    if path in limits:
        return path, limits[path]
    prefixes = sorted((p for p in limits if p.endswith("/") and path.startswith(p)), key=len, reverse=True)
    if prefixes:
        return prefixes[0], limits[prefixes[0]]
    return "default", DEFAULT_LIMIT


def parse_limits(text: str) -> dict[str, RateLimit]:
    """``QUIVER_RATE_LIMITS``: comma-separated ``path=N/period`` entries over the defaults.

    ``path`` is an endpoint (``bulk/congresstrading``) or a prefix ending in ``/``
    (``live/``); ``period`` is second, minute, hour or day.

    Raises:
        ConfigError: an entry of another form.
    """
    limits = dict(ENDPOINT_LIMITS)
    for entry in filter(None, (e.strip() for e in text.split(","))):
        match = _ENTRY.match(entry.lower())
        if match is None or match.group(3) not in PERIODS_SEC or int(match.group(2)) < 1:
            raise ConfigError(
                f"QUIVER_RATE_LIMITS entry {entry!r} is not path=N/period; "
                "use e.g. bulk/congresstrading=5/hour,live/=100/minute"
            )
        limits[match.group(1)] = RateLimit(int(match.group(2)), PERIODS_SEC[match.group(3)])
    return limits
