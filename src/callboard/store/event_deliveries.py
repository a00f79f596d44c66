"""The SQL of the ``event_deliveries`` table: Event Streams' delivery queue, a
:class:`~callboard.store.queue.LeasedQueue` over ``next_attempt_at`` (a pending delivery
is due at ``next_attempt_at``; a claim moves it to the lease's end). What to claim,
retry or give up on, and when, is decided by :mod:`callboard.events.delivery_queue`."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Column, ColumnElement, Connection, Select, and_, delete, func, select, update

from callboard.store.event_tables import DELIVERY_WAITING, event_deliveries, events
from callboard.store.events import ROW_COLUMNS
from callboard.store.queue import LeasedQueue, QueueBacklog

__all__ = [
    "DELIVERIES",
    "any_due",
    "claim_due",
    "count_pending",
    "delete_deliveries",
    "delete_sink_deliveries",
    "delete_subscription_deliveries",
    "delivery_backlog",
    "earliest_retry",
    "fail_deliveries",
    "fail_expired",
    "failures_listing",
    "insert_deliveries",
    "lease",
    "make_due",
    "postpone_sink",
    "retry_deliveries",
]

_d = event_deliveries

# The shared leased queue (callboard.store.queue) over event_deliveries: a pending
# delivery is due at next_attempt_at; a claim moves next_attempt_at to the lease's end.
DELIVERIES = LeasedQueue(_d, "next_attempt_at", DELIVERY_WAITING)


def insert_deliveries(conn: Connection, rows: list[dict[str, Any]]) -> None:
    conn.execute(_d.insert(), rows)


def any_due(conn: Connection, now: datetime, exclude: Collection[str] | None) -> bool:
    """Whether a delivery is due at ``now`` (to a sink not in ``exclude``): one probe."""
    return DELIVERIES.any_due(conn, now, _not_to(exclude))


def claim_due(
    conn: Connection,
    now: datetime,
    exclude: Collection[str] | None,
    limit: int,
    *,
    skip_locked: bool,
) -> list[Any]:
    """The ``limit`` deliveries due first at ``now`` (to sinks not in ``exclude``),
    locked (``skip_locked``, PostgreSQL: those another worker is claiming are left to
    it): each with ``delivery_id``, ``sink_sid``, ``attempts``, ``event_sid``,
    ``delivery_created`` and its ``events`` row (:data:`~callboard.store.events.ROW_COLUMNS`).
    Their lease is :func:`lease`'s."""
    skip = _not_to(exclude)
    due = DELIVERIES.due(now) if skip is None else and_(DELIVERIES.due(now), skip)
    q = (
        select(
            _d.c.id.label("delivery_id"),
            _d.c.sink_sid,
            _d.c.attempts,
            _d.c.event_sid,
            _d.c.date_created.label("delivery_created"),
            *ROW_COLUMNS,
        )
        .join(events, events.c.id == _d.c.event_id)
        .where(due)
        .order_by(_d.c.next_attempt_at, _d.c.id)
        .limit(limit)
    )
    return DELIVERIES.claim(conn, q, skip_locked=skip_locked)


def _not_to(exclude: Collection[str] | None) -> ColumnElement[bool] | None:
    """Not to a sink in ``exclude`` (None: no condition)."""
    return _d.c.sink_sid.not_in(list(exclude)) if exclude else None


def lease(conn: Connection, ids: list[int], until: datetime) -> None:
    """Hold the claimed deliveries ``ids`` until ``until``."""
    DELIVERIES.lease(conn, ids, until)


def make_due(conn: Connection, ids: list[int], when: datetime) -> None:
    """Make deliveries ``ids`` due at ``when`` (released, or retried later)."""
    DELIVERIES.make_due(conn, ids, when)


def delete_deliveries(conn: Connection, ids: list[int]) -> None:
    """Delete deliveries ``ids`` (delivered)."""
    conn.execute(delete(_d).where(_d.c.id.in_(ids)))


def retry_deliveries(
    conn: Connection,
    ids: list[int],
    *,
    error: str,
    status_code: int | None,
    retry_at: datetime,
    now: datetime,
) -> None:
    """After a failed attempt at deliveries ``ids``: ``attempts`` + 1, the error, due
    again at ``retry_at``."""
    conn.execute(
        update(_d)
        .where(_d.c.id.in_(ids))
        .values(
            attempts=_d.c.attempts + 1,
            last_error=error,
            last_status_code=status_code,
            next_attempt_at=retry_at,
            date_updated=now,
        )
    )


def postpone_sink(conn: Connection, sink_sid: str, retry_at: datetime, cutoff: datetime) -> None:
    """The sink's pending deliveries made after ``cutoff`` and due before ``retry_at``
    wait until ``retry_at`` (the circuit breaker)."""
    conn.execute(
        update(_d)
        .where(
            _d.c.sink_sid == sink_sid,
            _d.c.status == "pending",
            _d.c.next_attempt_at < retry_at,
            _d.c.date_created > cutoff,
        )
        .values(next_attempt_at=retry_at)
    )


def fail_deliveries(
    conn: Connection, ids: list[int], *, error: str, status_code: int | None, now: datetime
) -> None:
    """Give up on deliveries ``ids`` after a failed attempt (``status = failed``,
    ``attempts`` + 1, the error)."""
    conn.execute(
        update(_d)
        .where(_d.c.id.in_(ids))
        .values(
            status="failed",
            attempts=_d.c.attempts + 1,
            last_error=error,
            last_status_code=status_code,
            date_updated=now,
        )
    )


def fail_expired(
    conn: Connection, sink_sid: str, cutoff: datetime, error: str, now: datetime
) -> None:
    """Give up on the sink's pending deliveries made at or before ``cutoff``."""
    conn.execute(
        update(_d)
        .where(
            _d.c.sink_sid == sink_sid,
            _d.c.status == "pending",
            _d.c.date_created <= cutoff,
        )
        .values(status="failed", last_error=error, date_updated=now)
    )


def earliest_retry(conn: Connection, sink_sid: str) -> datetime | None:
    """When the sink's first pending delivery that failed before is due again."""
    until: datetime | None = conn.execute(
        select(func.min(_d.c.next_attempt_at)).where(
            _d.c.sink_sid == sink_sid, _d.c.status == "pending", _d.c.attempts > 0
        )
    ).scalar_one_or_none()
    return until


def count_pending(conn: Connection, sink_sid: str) -> int:
    return int(
        conn.execute(
            select(func.count()).where(_d.c.sink_sid == sink_sid, _d.c.status == "pending")
        ).scalar_one()
    )


def failures_listing(sink_sid: str) -> tuple[Select[Any], list[Column[Any]]]:
    """The sink's deliveries given up on, and the column they are paged by (id)."""
    query = select(_d).where(_d.c.sink_sid == sink_sid, _d.c.status == "failed")
    return query, [_d.c.id]


def delete_sink_deliveries(conn: Connection, sink_sid: str) -> None:
    conn.execute(delete(_d).where(_d.c.sink_sid == sink_sid))


def delete_subscription_deliveries(conn: Connection, subscription_sid: str) -> None:
    conn.execute(delete(_d).where(_d.c.subscription_sid == subscription_sid))


def delivery_backlog(conn: Connection, now: datetime) -> QueueBacklog:
    """Deliveries pending, retrying, failed, and the oldest due one's
    ``next_attempt_at`` at ``now`` (naive UTC): one aggregate query."""
    d = _d.c
    row = conn.execute(
        select(
            func.count().filter(d.status == "pending"),
            func.count().filter(d.status == "pending", d.attempts > 0),
            func.count().filter(d.status == "failed"),
            func.min(d.next_attempt_at).filter(d.status == "pending", d.next_attempt_at <= now),
        )
    ).one()
    return QueueBacklog(int(row[0]), int(row[1]), int(row[2]), row[3])
