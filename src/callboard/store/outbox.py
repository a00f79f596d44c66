"""The SQL of the ``outbox`` table: the leased job queue the worker runs (network work
the runner wrote as rows), a :class:`~callboard.store.queue.LeasedQueue` over
``available_at``. A job is claimed with a lease (``status='running'``,
``available_at`` = the lease's end, ``attempts`` + 1); it is finished, retried or failed
only while that lease is still the claimer's (``attempts`` unchanged)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, delete, func, select, update

from callboard.store import tables as t
from callboard.store.db import insert_rows
from callboard.store.queue import LeasedQueue, QueueBacklog

__all__ = [
    "OUTBOX",
    "any_due",
    "claim_jobs",
    "insert_jobs",
    "outbox_backlog",
    "prune_finished_jobs",
    "settle_job",
]

_o, _e = t.outbox, t.executions
_DUE = t.OUTBOX_WAITING  # the partial index ix_outbox_due's predicate


def insert_jobs(conn: Connection, rows: list[dict[str, Any]]) -> None:
    insert_rows(conn, _o, rows)


OUTBOX = LeasedQueue(t.outbox, "available_at", _DUE)


def any_due(conn: Connection, now: datetime) -> bool:
    """Whether a job is due (pending, retry due, or running past its lease): one probe."""
    return OUTBOX.any_due(conn, now)


def claim_jobs(
    conn: Connection, now: datetime, lease_until: datetime, limit: int, *, skip_locked: bool
) -> list[dict[str, Any]]:
    """Claim up to ``limit`` due jobs (oldest first) until ``lease_until``; returns them
    with their execution's account and flow, and ``interrupted_at``: when the previous
    attempt began if it never finished (its lease ran out), else None. ``skip_locked``
    (PostgreSQL): jobs another worker is claiming are left to it."""
    # by due time: the partial index ix_outbox_due (never a walk of the finished jobs)
    query = (
        select(_o.c.id, _o.c.status, _o.c.date_updated)
        .where(OUTBOX.due(now))
        .order_by(_o.c.available_at, _o.c.id)
        .limit(limit)
    )
    claimed = OUTBOX.claim(conn, query, skip_locked=skip_locked)
    ids = [r.id for r in claimed]
    if not ids:
        return []
    # still "running" when claimed: the previous attempt's lease ran out (its process
    # died?) — when it began, for the reconciliation with the provider; else None
    interrupted = {r.id: r.date_updated for r in claimed if r.status == "running"}
    OUTBOX.lease(
        conn, ids, lease_until, status="running", attempts=_o.c.attempts + 1, date_updated=now
    )
    rows = conn.execute(
        select(_o, _e.c.account_sid, _e.c.flow_sid)
        .join(_e, _e.c.sid == _o.c.execution_sid, isouter=True)
        .where(_o.c.id.in_(ids))
        .order_by(_o.c.id)
    ).all()
    return [{**r._mapping, "interrupted_at": interrupted.get(r.id)} for r in rows]


def _ours(job: dict[str, Any]) -> ColumnElement[bool]:
    """The job row while the claimer's lease holds (nobody re-claimed it since)."""
    return and_(_o.c.id == job["id"], _o.c.status == "running", _o.c.attempts == job["attempts"])


def settle_job(conn: Connection, job: dict[str, Any], values: dict[str, Any]) -> bool:
    """Update the claimed job (done / pending again / failed) while the lease is still
    ours; False when another worker took it over."""
    return bool(conn.execute(update(_o).where(_ours(job)).values(values)).rowcount)


def prune_finished_jobs(conn: Connection, cutoff: datetime) -> None:
    """Delete the finished jobs (done or failed) that belong to no execution (a call's
    hang-up), made at or before ``cutoff``."""
    conn.execute(
        delete(_o).where(
            _o.c.execution_sid.is_(None),
            _o.c.status.in_(("done", "failed")),
            _o.c.date_created <= cutoff,
        )
    )


def outbox_backlog(conn: Connection, now: datetime) -> QueueBacklog:
    """Jobs waiting (pending or running), retrying, failed, and the oldest due pending
    job's ``available_at`` at ``now`` (naive UTC). Two aggregate queries, each over its
    partial index (``ix_outbox_due``, ``ix_outbox_failed``): the finished jobs the table
    keeps are never read, so a load balancer's readiness checks stay cheap."""
    waiting = conn.execute(
        select(
            func.count(),
            func.count().filter(_o.c.attempts > 0),
            func.min(_o.c.available_at).filter(_o.c.status == "pending", _o.c.available_at <= now),
        ).where(_DUE)
    ).one()
    failed = conn.execute(select(func.count()).where(t.OUTBOX_FAILED)).scalar_one()
    return QueueBacklog(int(waiting[0]), int(waiting[1]), int(failed), waiting[2])
