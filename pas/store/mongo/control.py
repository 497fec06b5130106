"""Control: command runs, locks, the HTTP cache, rate slots and the circuit breaker."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pas.errors import StoreError
from pas.models import BreakerState, Run, RunStatus, format_ts, parse_ts
from pas.store.mongo.store import MongoCore
from pas.store.rules import LockGrant, breaker_from_doc, breaker_to_doc, lock_expiry, lock_grant

# MongoDB refuses documents over 16 MiB (BSON's limit); a response body above this, with
# room left for the key and expiry, is not cached.
MAX_CACHED_BODY_BYTES = 15 * 1024 * 1024


def _details_doc(details: Mapping[str, Any]) -> str:
    """Run details as JSON text, as SQLite keeps them: nested values stay objects, and
    user-influenced keys ("a.b", "$where") never become field paths."""
    return json.dumps(dict(details), default=str)


def _details(stored: Any) -> dict[str, Any]:
    """Run details as :func:`_details_doc` wrote them; older runs kept [key, value] pairs."""
    if isinstance(stored, str):
        return dict(json.loads(stored))
    return dict(stored or {})


def _lease(doc: Mapping[str, Any]) -> tuple[str, datetime]:
    """A lock document's holder and the end of its lease."""
    return str(doc["owner"]), parse_ts(str(doc["expires_at"]))


class MongoControl(MongoCore):
    """Control: command runs, locks, the HTTP cache, rate slots and the circuit breaker."""

    def start_run(self, run: Run) -> bool:
        from pymongo.errors import DuplicateKeyError

        with self._errors():
            try:
                self._collection("runs").insert_one(
                    {
                        "run_id": run.run_id,
                        "command": run.command,
                        "started_at": format_ts(run.started_at),
                        "seq": self._next("runs"),
                        "ended_at": None,
                        "status": run.status.value,
                        "error": "",
                        "details": _details_doc(run.details),
                    }
                )
            except DuplicateKeyError:
                return False
            return True

    def finish_run(
        self,
        run_id: str,
        status: RunStatus,
        error: str = "",
        details: Mapping[str, Any] | None = None,
    ) -> None:
        update: dict[str, Any] = {
            "ended_at": format_ts(self.clock()),
            "status": status.value,
            "error": error,
        }
        if details is not None:
            update["details"] = _details_doc(details)
        with self._errors():
            self._collection("runs").update_one({"run_id": run_id}, {"$set": update})

    def recent_runs(self, limit: int = 20) -> list[Run]:
        with self._errors():
            cursor = self._collection("runs").find().sort([("started_at", -1), ("seq", -1)]).limit(limit)
            return [
                Run(
                    run_id=d["run_id"],
                    command=d["command"],
                    started_at=parse_ts(d["started_at"]),
                    ended_at=None if d.get("ended_at") is None else parse_ts(d["ended_at"]),
                    status=RunStatus(d["status"]),
                    error=d.get("error", ""),
                    details=_details(d.get("details")),
                )
                for d in cursor
            ]

    def acquire_lock(self, name: str, owner: str, ttl_sec: float) -> LockGrant:
        from pymongo.errors import DuplicateKeyError

        now = self.clock()
        # lock_grant as one atomic query: it matches a free, stale or own lock, and the
        # document before the update names the holder taken over; when none matches, the
        # upsert collides with the live lock on _id and fails, which is the "held by
        # someone else" answer.
        query = {"_id": name, "$or": [{"expires_at": {"$lte": format_ts(now)}}, {"owner": owner}]}
        update = {"$set": {"owner": owner, "expires_at": format_ts(lock_expiry(now, ttl_sec))}}
        try:
            with self._errors():
                before = self._collection("locks").find_one_and_update(query, update, upsert=True)
        except StoreError as exc:
            if isinstance(exc.__cause__, DuplicateKeyError):
                return self._refusal(name, owner, now)
            raise
        return LockGrant(True) if before is None else lock_grant(*_lease(before), owner, now)

    def _refusal(self, name: str, owner: str, now: datetime) -> LockGrant:
        """A refused lock request's answer: its live holder, read after the refusal (a
        holder that released it meanwhile leaves the holder unknown, the request refused)."""
        with self._errors():
            doc = self._collection("locks").find_one({"_id": name})
        if doc is None:
            return LockGrant(False)
        grant = lock_grant(*_lease(doc), owner, now)
        return LockGrant(False, grant.holder, grant.expires_at)

    def lock_owner(self, name: str) -> str | None:
        with self._errors():
            doc = self._collection("locks").find_one({"_id": name})
        return None if doc is None else str(doc["owner"])

    def release_lock(self, name: str, owner: str) -> bool:
        with self._errors():
            return self._collection("locks").delete_one({"_id": name, "owner": owner}).deleted_count > 0

    def cache_get(self, key: str, now: datetime) -> str | None:
        with self._errors():
            doc = self._collection("http_cache").find_one({"_id": key, "expires_at": {"$gt": format_ts(now)}})
        return None if doc is None else str(doc["body"])

    def cache_put(self, key: str, body: str, expires_at: datetime) -> None:
        with self._errors():
            self._collection("http_cache").delete_many({"expires_at": {"$lte": format_ts(self.clock())}})
            if len(body.encode("utf-8", "surrogatepass")) > MAX_CACHED_BODY_BYTES:
                # Not cached at all: one document cannot hold it, and asking for a bulk page
                # again costs less than a cache split over many documents.
                self._collection("http_cache").delete_one({"_id": key})
                return
            self._collection("http_cache").update_one(
                {"_id": key}, {"$set": {"body": body, "expires_at": format_ts(expires_at)}}, upsert=True
            )

    def coverage_get(self, dataset: str) -> str | None:
        with self._errors():
            doc = self._collection("scrape_coverage").find_one({"_id": dataset})
        return None if doc is None else str(doc["coverage"])

    def coverage_put(self, dataset: str, coverage: str) -> None:
        with self._errors():
            self._collection("scrape_coverage").update_one(
                {"_id": dataset}, {"$set": {"coverage": coverage}}, upsert=True
            )

    def reserve_slot(self, name: str, interval_sec: float, now: datetime) -> datetime:
        from pymongo.errors import DuplicateKeyError

        # Compare-and-set on the last slot: a process that lost the race reads again.
        with self._errors():
            while True:
                doc = self._collection("rate_slots").find_one({"_id": name})
                if doc is None:
                    try:
                        self._collection("rate_slots").insert_one({"_id": name, "last_slot": format_ts(now)})
                    except DuplicateKeyError:
                        continue
                    return now
                last = str(doc["last_slot"])
                slot = max(now, parse_ts(last) + timedelta(seconds=interval_sec))
                result = self._collection("rate_slots").update_one(
                    {"_id": name, "last_slot": last}, {"$set": {"last_slot": format_ts(slot)}}
                )
                if result.matched_count == 1:
                    return slot

    def breaker_state(self) -> BreakerState:
        with self._errors():
            doc = self._collection("breaker").find_one({"_id": "account"})
        return BreakerState() if doc is None else breaker_from_doc(doc["state"], int(doc["version"]))

    def save_breaker_state(self, state: BreakerState) -> bool:
        from pymongo.errors import DuplicateKeyError

        doc = {"version": state.version + 1, "state": breaker_to_doc(state)}
        with self._errors():
            if state.version == 0:
                try:
                    self._collection("breaker").insert_one({"_id": "account", **doc})
                except DuplicateKeyError:
                    return False
                return True
            found = self._collection("breaker").find_one_and_update(
                {"_id": "account", "version": state.version}, {"$set": doc}
            )
            return found is not None
