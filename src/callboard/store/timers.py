"""The SQL of the ``timers`` table: a durable timer per (execution, wait token)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, select

from callboard.store import tables as t
from callboard.store.db import insert_rows

__all__ = [
    "cancel_timers",
    "delete_timer",
    "due_timers",
    "earliest_due",
    "insert_timers",
    "timer_backlog",
]

_tm = t.timers


def cancel_timers(
    conn: Connection, execution_sid: str, tokens: Sequence[str] | None = None
) -> None:
    """Delete the execution's timers (only those of ``tokens`` when given)."""
    q = delete(_tm).where(_tm.c.execution_sid == execution_sid)
    if tokens is not None:
        q = q.where(_tm.c.token.in_(list(tokens)))
    conn.execute(q)


def insert_timers(conn: Connection, rows: list[dict[str, Any]]) -> None:
    insert_rows(conn, _tm, rows)


def earliest_due(conn: Connection) -> datetime | None:
    """The earliest pending timer's due time (naive UTC), one index probe."""
    value = conn.execute(select(func.min(_tm.c.due_at))).scalar_one_or_none()
    return value if isinstance(value, datetime) or value is None else None


def due_timers(conn: Connection, when: datetime, limit: int) -> Sequence[Any]:
    """Timers due at ``when`` (naive UTC), earliest first: id, execution_sid, token, due_at."""
    return conn.execute(
        select(_tm.c.id, _tm.c.execution_sid, _tm.c.token, _tm.c.due_at)
        .where(_tm.c.due_at <= when)
        .order_by(_tm.c.due_at)
        .limit(limit)
    ).all()


def delete_timer(conn: Connection, timer_id: int) -> int:
    """Delete one timer row; returns how many rows went (0: another worker had it)."""
    return int(conn.execute(delete(_tm).where(_tm.c.id == timer_id)).rowcount)


def timer_backlog(conn: Connection, now: datetime) -> tuple[int, int, datetime | None]:
    """(timers waiting, timers due at ``now`` — naive UTC — and the oldest due one's
    ``due_at``, None when none is due): one aggregate query."""
    row = conn.execute(
        select(func.count(), func.count().filter(_tm.c.due_at <= now), func.min(_tm.c.due_at))
    ).one()
    return int(row[0]), int(row[1]), row[2] if row[1] else None
