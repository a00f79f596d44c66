"""The ``event_deliveries`` queue behind :class:`callboard.events.delivery.EventDelivery`
(held by it): fan-out of recorded events to their sinks, claiming due deliveries
under a lease (the shared :class:`~callboard.store.queue.LeasedQueue`, with a
:class:`~callboard.store.queue.QueuePolicy` from the :class:`DeliveryConfig`), and
recording results (deleting what was delivered; retries with back-off;
giving up after ``max_retry_seconds``), and pruning. See that module for the whole cycle.
The statements are the store's: :mod:`callboard.store.event_deliveries` (the queue's
SQL), :mod:`callboard.store.events`, :mod:`callboard.store.event_subscriptions` and
:mod:`callboard.store.event_sinks`.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from callboard.events.batches import row_entries, row_events
from callboard.events.settings import DeliveryConfig
from callboard.store import event_deliveries as store_deliveries
from callboard.store import event_sinks as store_sinks
from callboard.store import events as store_events
from callboard.store.db import Database
from callboard.store.event_subscriptions import any_subscription, subscribers
from callboard.store.queue import QueuePolicy
from callboard.store.values import to_db_time

__all__ = ["Claimed", "Clock", "DeliveryQueue"]

log = logging.getLogger("callboard.events")

Clock = Callable[[], datetime]


@dataclass(slots=True)
class Claimed:
    id: int
    attempts: int
    date_created: datetime
    payload: str


class DeliveryQueue:
    """Database side of event delivery, over ``db`` with ``config``, ``clock`` and
    ``rng`` (the back-off jitter)."""

    def __init__(
        self, db: Database, config: DeliveryConfig, clock: Clock, rng: random.Random
    ) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.rng = rng
        self.policy = QueuePolicy(
            lease_seconds=config.lease_seconds,
            backoff_base=config.base_backoff,
            backoff_cap=config.max_backoff,
            max_age_seconds=config.max_retry_seconds,
        )

    def now(self) -> datetime:
        return to_db_time(self.clock())

    # ------------------------------------------------------------------ fan-out
    def has_subscriptions(self) -> bool:
        """Whether any subscription exists (in any account). One indexed read."""
        with self.db.read() as conn:
            return any_subscription(conn)

    def fan_out(self) -> int:
        """Dispatch up to ``fanout_limit`` recorded events; returns how many."""
        with self.db.read() as conn:
            if not store_events.any_undispatched(conn):
                return 0
        with self.db.write() as conn:
            rows = store_events.undispatched_rows(
                conn, self.config.fanout_limit, skip_locked=self.db.for_update()
            )
            if not rows:
                return 0
            accounts = {r.account_sid for r in rows}
            subs = subscribers(conn, accounts)
            by_key: dict[tuple[str, str], list[tuple[str, str, datetime]]] = {}
            for sub in subs:
                by_key.setdefault((sub.account_sid, sub.type), []).append(
                    (sub.sid, sub.sink_sid, sub.date_created)
                )
            subscribed = {account for account, _ in by_key}
            now = self.now()
            deliveries: list[dict[str, Any]] = []
            for r in rows:
                if r.account_sid not in subscribed:
                    continue  # nothing to deliver: the run's row is not even unpacked
                for event in row_entries(r):
                    seen: set[str] = set()
                    for sub_sid, sink_sid, since in by_key.get((r.account_sid, event.type), ()):
                        if sink_sid in seen or since > r.date_created:
                            continue  # one delivery per sink; none before the subscription
                        seen.add(sink_sid)
                        deliveries.append(
                            {
                                "account_sid": r.account_sid,
                                "sink_sid": sink_sid,
                                "subscription_sid": sub_sid,
                                "event_id": r.id,
                                "event_sid": event.sid,
                                "type": event.type,
                                "status": "pending",
                                "attempts": 0,
                                "next_attempt_at": now,
                                "date_created": now,
                            }
                        )
            if deliveries:
                store_deliveries.insert_deliveries(conn, deliveries)
            store_events.mark_dispatched(conn, [r.id for r in rows])
        return len(rows)

    # ------------------------------------------------------------------ claiming
    def claim(self, exclude: set[str] | None = None) -> dict[str, list[Claimed]]:
        """Claim due deliveries, grouped by sink (at most ``per_sink_limit`` each)."""
        now = self.now()
        with self.db.read() as conn:
            if not store_deliveries.any_due(conn, now, exclude):
                return {}
        with self.db.write() as conn:
            rows = store_deliveries.claim_due(
                conn, now, exclude, self.config.claim_limit, skip_locked=self.db.for_update()
            )
            groups: dict[str, list[Claimed]] = {}
            unpacked: dict[int, dict[str, str]] = {}  # events row → its events' JSON
            for r in rows:
                group = groups.setdefault(r.sink_sid, [])
                if len(group) < self.config.per_sink_limit:
                    if r.id not in unpacked:
                        unpacked[r.id] = {ev.sid: ev.payload for ev in row_events(r)}
                    payload = unpacked[r.id].get(r.event_sid, "")
                    group.append(Claimed(r.delivery_id, r.attempts, r.delivery_created, payload))
            ids = [c.id for g in groups.values() for c in g]
            store_deliveries.lease(conn, ids, self.policy.lease_until(now))
        return groups

    def record_success(self, sink_sid: str, ids: list[int]) -> None:
        if not ids:
            return
        with self.db.write() as conn:
            store_deliveries.delete_deliveries(conn, ids)
            store_sinks.reactivate_sink(conn, sink_sid, self.now())

    def record_failure(
        self,
        sink_sid: str,
        attempted: list[Claimed],
        untried: list[Claimed],
        error: str,
        status_code: int | None,
    ) -> None:
        now = self.now()
        cutoff = self.policy.age_cutoff(now)
        assert cutoff is not None  # deliveries are given up on by age
        attempts = max(c.attempts for c in attempted) + 1
        retry_at = self.policy.retry_at(now, attempts, self.rng)
        error = error[:2000]
        with self.db.write() as conn:
            expired = [c.id for c in attempted if c.date_created <= cutoff]
            live = [c.id for c in attempted if c.date_created > cutoff]
            if live:
                store_deliveries.retry_deliveries(
                    conn, live, error=error, status_code=status_code, retry_at=retry_at, now=now
                )
            store_deliveries.make_due(conn, [c.id for c in untried], retry_at)
            # Circuit breaker: the sink's other due deliveries wait with these.
            store_deliveries.postpone_sink(conn, sink_sid, retry_at, cutoff)
            sink_values: dict[str, Any] = {"last_error": error, "date_updated": now}
            if expired:
                store_deliveries.fail_deliveries(
                    conn, expired, error=error, status_code=status_code, now=now
                )
                # The sink still fails: every other expired delivery of it fails too.
                store_deliveries.fail_expired(conn, sink_sid, cutoff, error, now)
                sink_values["status"] = "failed"
                log.warning("sink %s: gave up on %d event(s): %s", sink_sid, len(expired), error)
            store_sinks.update_sink(conn, sink_sid, sink_values)

    # ------------------------------------------------------------------ pruning
    def prune(self) -> int:
        """Delete dispatched events older than the retention that no delivery needs."""
        cutoff = self.now() - timedelta(
            seconds=max(self.config.retention_seconds, self.config.max_retry_seconds)
        )
        with self.db.write() as conn:
            return store_events.prune_events(conn, cutoff)

    def release(self, ids: list[int]) -> None:
        """Make claimed deliveries due again now (claimed, but not sent this pass)."""
        with self.db.write() as conn:
            store_deliveries.make_due(conn, ids, self.now())
