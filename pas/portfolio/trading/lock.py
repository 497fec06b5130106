"""The ``trading`` lock: one trading run at a time, taken over from a dead process on this host."""

from __future__ import annotations

import os
import socket

from pas.errors import LockHeldError
from pas.store.base import Store

LOCK_NAME = "trading"
# The lock outlives the fill wait by this much; it is renewed before each order and at
# every poll. Between two renewals runs at most one broker call with all its retries
# (Alpaca: 5 attempts of 10 s, waits of up to 120 s each on a 429, then the look-up's own
# series), so the slack is more than twice that (tests/portfolio/test_trading_unknown.py).
LOCK_SLACK_SEC = 1200.0


def lock_owner_name(host_id: str | None = None) -> str:
    """This process as a lock owner: ``host:pid``.

    Args:
        host_id: this host's name among those sharing one store (``PAS_HOST_ID``); the
            host name when None. Two hosts that share a name (containers, cloned VMs) must
            be given different ones, or each could take the other's lock for its own dead
            process's.
    """
    return f"{host_id or socket.gethostname()}:{os.getpid()}"


def _dead_here(holder: str, here: str) -> bool:
    """Whether ``holder`` is a process of the host ``here`` that no longer runs."""
    host, _, pid = holder.rpartition(":")
    if host != here or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def acquire_trading_lock(store: Store, owner: str, ttl_sec: float) -> None:
    """Takes the ``trading`` lock, taking it over from a dead process on this host.

    The lock lives in the store with a time to live, so hosts sharing a MongoDB exclude
    each other. A holder of this host (the host part of ``owner``) whose pid is gone is
    dead; one of another host is waited for until its lease expires, since no host can
    see another's processes.

    Raises:
        LockHeldError: another live run holds it.
    """
    if store.acquire_lock(LOCK_NAME, owner, ttl_sec):
        return
    holder = store.lock_owner(LOCK_NAME)
    if holder and _dead_here(holder, owner.rpartition(":")[0]):
        store.release_lock(LOCK_NAME, holder)  # only if that dead process still holds it
        if store.acquire_lock(LOCK_NAME, owner, ttl_sec):
            return
    raise LockHeldError(
        f"another trading run ({holder or 'unknown'}) holds the trading lock; "
        "wait for it to finish and run again"
    )
