"""The ``event_deliveries`` queue behind :class:`callboard.events.delivery.EventDelivery`
(held by it): fan-out of recorded events to their sinks, claiming due deliveries
under a lease (the shared :class:`~callboard.store.queue.LeasedQueue`, with a
:class:`~callboard.store.queue.QueuePolicy` from the :class:`DeliveryConfig`), and
recording results (deleting what was delivered; retries with back-off;
giving up after ``max_retry_seconds``), and pruning. See that module for the whole cycle.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, delete, exists, func, select, update

from callboard.events.batches import ROW_COLUMNS, row_entries, row_events
from callboard.events.settings import DeliveryConfig
from callboard.events.tables import (
    DELIVERY_WAITING,
    UNDISPATCHED,
    event_deliveries,
    event_sinks,
    event_subscribed_types,
    event_subscriptions,
    events,
)
from callboard.store.db import Database
from callboard.store.queue import LeasedQueue, QueueBacklog, QueuePolicy
from callboard.store.values import to_db_time

__all__ = ["DELIVERIES", "Claimed", "Clock", "DeliveryQueue", "delivery_backlog"]

log = logging.getLogger("callboard.events")

Clock = Callable[[], datetime]

# The shared leased queue (callboard.store.queue) over event_deliveries: a pending
# delivery is due at next_attempt_at; a claim moves next_attempt_at to the lease's end.
DELIVERIES = LeasedQueue(event_deliveries, "next_attempt_at", DELIVERY_WAITING)


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
        self.queue = DELIVERIES
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
            return conn.execute(select(event_subscriptions.c.sid).limit(1)).first() is not None

    def fan_out(self) -> int:
        """Dispatch up to ``fanout_limit`` recorded events; returns how many."""
        e = events
        with self.db.read() as conn:
            # ordered by id: the partial index ix_events_undispatched, whatever the statistics
            probe = select(e.c.id).where(UNDISPATCHED).order_by(e.c.id).limit(1)
            waiting = conn.execute(probe).first()
        if waiting is None:
            return 0
        with self.db.write() as conn:
            q = select(*ROW_COLUMNS).where(UNDISPATCHED).order_by(e.c.id)
            q = q.limit(self.config.fanout_limit)
            if self.db.for_update():
                q = q.with_for_update(skip_locked=True)
            rows = conn.execute(q).all()
            if not rows:
                return 0
            accounts = {r.account_sid for r in rows}
            st, s = event_subscribed_types, event_subscriptions
            subs = conn.execute(
                select(st.c.account_sid, st.c.type, s.c.sid, s.c.sink_sid, s.c.date_created)
                .join(s, s.c.sid == st.c.subscription_sid)
                .where(st.c.account_sid.in_(accounts))
            ).all()
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
                conn.execute(event_deliveries.insert(), deliveries)
            conn.execute(update(e).where(e.c.id.in_([r.id for r in rows])).values(dispatched=True))
        return len(rows)

    # ------------------------------------------------------------------ claiming
    def claim(self, exclude: set[str] | None = None) -> dict[str, list[Claimed]]:
        """Claim due deliveries, grouped by sink (at most ``per_sink_limit`` each)."""
        d = event_deliveries
        now = self.now()
        skip = d.c.sink_sid.not_in(list(exclude)) if exclude else None
        with self.db.read() as conn:
            if not self.queue.any_due(conn, now, skip):
                return {}
        due = self.queue.due(now) if skip is None else and_(self.queue.due(now), skip)
        with self.db.write() as conn:
            q = (
                select(
                    d.c.id.label("delivery_id"),
                    d.c.sink_sid,
                    d.c.attempts,
                    d.c.event_sid,
                    d.c.date_created.label("delivery_created"),
                    *ROW_COLUMNS,
                )
                .join(events, events.c.id == d.c.event_id)
                .where(due)
                .order_by(d.c.next_attempt_at, d.c.id)
                .limit(self.config.claim_limit)
            )
            rows = self.queue.claim(conn, q, skip_locked=self.db.for_update())
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
            self.queue.lease(conn, ids, self.policy.lease_until(now))
        return groups

    def record_success(self, sink_sid: str, ids: list[int]) -> None:
        if not ids:
            return
        d = event_deliveries
        with self.db.write() as conn:
            conn.execute(delete(d).where(d.c.id.in_(ids)))
            conn.execute(
                update(event_sinks)
                .where(
                    event_sinks.c.sid == sink_sid,
                    event_sinks.c.status.in_(("initialized", "failed")),
                )
                .values(status="active", last_error=None, date_updated=self.now())
            )

    def record_failure(
        self,
        sink_sid: str,
        attempted: list[Claimed],
        untried: list[Claimed],
        error: str,
        status_code: int | None,
    ) -> None:
        d = event_deliveries
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
                conn.execute(
                    update(d)
                    .where(d.c.id.in_(live))
                    .values(
                        attempts=d.c.attempts + 1,
                        last_error=error,
                        last_status_code=status_code,
                        next_attempt_at=retry_at,
                        date_updated=now,
                    )
                )
            self.queue.make_due(conn, [c.id for c in untried], retry_at)
            # Circuit breaker: the sink's other due deliveries wait with these.
            conn.execute(
                update(d)
                .where(
                    d.c.sink_sid == sink_sid,
                    d.c.status == "pending",
                    d.c.next_attempt_at < retry_at,
                    d.c.date_created > cutoff,
                )
                .values(next_attempt_at=retry_at)
            )
            sink_values: dict[str, Any] = {"last_error": error, "date_updated": now}
            if expired:
                conn.execute(
                    update(d)
                    .where(d.c.id.in_(expired))
                    .values(
                        status="failed",
                        attempts=d.c.attempts + 1,
                        last_error=error,
                        last_status_code=status_code,
                        date_updated=now,
                    )
                )
                # The sink still fails: every other expired delivery of it fails too.
                conn.execute(
                    update(d)
                    .where(
                        d.c.sink_sid == sink_sid,
                        d.c.status == "pending",
                        d.c.date_created <= cutoff,
                    )
                    .values(status="failed", last_error=error, date_updated=now)
                )
                sink_values["status"] = "failed"
                log.warning("sink %s: gave up on %d event(s): %s", sink_sid, len(expired), error)
            conn.execute(
                update(event_sinks).where(event_sinks.c.sid == sink_sid).values(sink_values)
            )

    # ------------------------------------------------------------------ pruning
    def prune(self) -> int:
        """Delete dispatched events older than the retention that no delivery needs."""
        cutoff = self.now() - timedelta(
            seconds=max(self.config.retention_seconds, self.config.max_retry_seconds)
        )
        e, d = events, event_deliveries
        with self.db.write() as conn:
            gone = conn.execute(
                delete(e).where(
                    e.c.dispatched == True,  # noqa: E712
                    e.c.date_created < cutoff,
                    ~exists().where(d.c.event_id == e.c.id),
                )
            )
        return int(gone.rowcount or 0)

    def release(self, ids: list[int]) -> None:
        """Make claimed deliveries due again now (claimed, but not sent this pass)."""
        with self.db.write() as conn:
            self.queue.make_due(conn, ids, self.now())


def delivery_backlog(conn: Connection, now: datetime) -> QueueBacklog:
    """Deliveries pending, retrying, failed, and the oldest due one's
    ``next_attempt_at`` at ``now`` (naive UTC): one aggregate query."""
    d = event_deliveries.c
    row = conn.execute(
        select(
            func.count().filter(d.status == "pending"),
            func.count().filter(d.status == "pending", d.attempts > 0),
            func.count().filter(d.status == "failed"),
            func.min(d.next_attempt_at).filter(d.status == "pending", d.next_attempt_at <= now),
        )
    ).one()
    return QueueBacklog(int(row[0]), int(row[1]), int(row[2]), row[3])
