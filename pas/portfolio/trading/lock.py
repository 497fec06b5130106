"""The ``trading`` lock: one trading run at a time, taken over from a dead process on this host."""

from __future__ import annotations

import os
import socket

from pas.errors import LockHeldError, LockLostError
from pas.store.base import Store
from pas.store.rules import LockGrant

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


def acquire_trading_lock(store: Store, owner: str, ttl_sec: float) -> LockGrant:
    """Takes the ``trading`` lock, taking it over from a dead process on this host.

    The lock lives in the store with a time to live, so hosts sharing a MongoDB exclude
    each other. A holder of this host (the host part of ``owner``) whose pid is gone is
    dead; one of another host is waited for until its lease expires, since no host can
    see another's processes.

    Returns:
        The grant; its ``holder`` names the run it was taken over from (see
        :func:`takeover_note`), None when the lock was free.

    Raises:
        LockHeldError: another live run holds it; the message names its host and pid and
            when its lease ends.
    """
    grant = store.acquire_lock(LOCK_NAME, owner, ttl_sec)
    if grant:
        return grant
    if grant.holder and _dead_here(grant.holder, owner.rpartition(":")[0]):
        store.release_lock(LOCK_NAME, grant.holder)  # only if that dead process still holds it
        if store.acquire_lock(LOCK_NAME, owner, ttl_sec):
            return LockGrant(True, grant.holder)  # no lease ran out: its process is gone
    raise LockHeldError(
        f"another trading run ({grant.holder or 'unknown'}) holds the trading lock{held_until(grant)}; "
        "wait for it to finish and run again"
    )


def renew_trading_lock(store: Store, owner: str, ttl_sec: float) -> None:
    """Extends ``owner``'s lease of the ``trading`` lock before its run sends or waits more.

    Raises:
        LockLostError: another run took the lock over (this run's lease had expired, as
            when its host was suspended or cut off from the store); nothing more may be sent.
    """
    grant = store.acquire_lock(LOCK_NAME, owner, ttl_sec)
    if not grant:
        raise LockLostError(
            f"this trading run ({owner}) lost the trading lock to {grant.holder or 'another run'}, "
            "which took it over after this run's lease expired; it stopped and sends nothing more: "
            "run `pas sync` once that run has finished"
        )


IN_FLIGHT_SETTLED = "what that run left in flight is settled before anything new is planned"
"""What a trading run does after taking the trading lock over."""


def takeover_note(grant: LockGrant, lock: str = LOCK_NAME, then: str = IN_FLIGHT_SETTLED) -> str:
    """What a run says when it took ``lock`` over ("" if it did not): from a run whose
    lease expired (its host is gone or cut off: presumed dead), or, with no expiry in the
    grant, from a process of this host that no longer runs; ``then`` says what it does
    about it (nothing is said when empty)."""
    if not grant.holder:
        return ""
    how = (
        "a process of this host that no longer runs"
        if grant.expires_at is None
        else f"whose lease expired at {grant.expires_at:%Y-%m-%d %H:%M:%S} UTC and is presumed dead"
    )
    return f"took over the {lock} lock from {grant.holder}, {how}" + (f"; {then}" if then else "")


def held_until(grant: LockGrant) -> str:
    """`` until TIME UTC``, the end of a refusing holder's lease ("" when unknown)."""
    return "" if grant.expires_at is None else f" until {grant.expires_at:%Y-%m-%d %H:%M:%S} UTC"
