"""The SQL of the ``notifications`` table: warnings that belong to no step (an inbound
event ignored with 81002...)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select

from callboard.store import tables as t
from callboard.store.db import insert_rows

__all__ = ["add_notifications", "notifications_of", "prune_notifications"]

_n = t.notifications


def add_notifications(conn: Connection, rows: list[dict[str, Any]]) -> None:
    insert_rows(conn, _n, rows)


def notifications_of(
    conn: Connection,
    account_sid: str,
    *,
    execution_sid: str | None,
    flow_sid: str | None,
    limit: int,
) -> Sequence[Any]:
    """The account's notifications, newest first (at most ``limit``)."""
    query = select(_n).where(_n.c.account_sid == account_sid)
    if execution_sid is not None:
        query = query.where(_n.c.execution_sid == execution_sid)
    if flow_sid is not None:
        query = query.where(_n.c.flow_sid == flow_sid)
    return conn.execute(query.order_by(_n.c.id.desc()).limit(limit)).all()


def prune_notifications(conn: Connection, cutoff: datetime) -> None:
    """Delete the notifications that belong to no execution, made at or before ``cutoff``."""
    conn.execute(delete(_n).where(_n.c.execution_sid.is_(None), _n.c.date_created <= cutoff))
