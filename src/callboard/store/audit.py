"""SQL for the audit log (issue 14)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from callboard.store.team_tables import audit_events

__all__ = ["audit_query", "insert_audit_event"]


def insert_audit_event(conn: Any, row: dict[str, Any]) -> None:
    conn.execute(audit_events.insert(), [row])


def audit_query(
    account_sid: str,
    *,
    actor: str | None = None,
    action: str | None = None,
    after: datetime | None = None,
    before: datetime | None = None,
) -> Select[Any]:
    """The account's audit events matching the filters (``actor`` matches the actor's
    email or SID; ``after`` inclusive, ``before`` exclusive), unordered."""
    a = audit_events
    query = select(a).where(a.c.account_sid == account_sid)
    if actor:
        query = query.where((a.c.actor == actor) | (a.c.actor_sid == actor))
    if action:
        query = query.where(a.c.action == action)
    if after is not None:
        query = query.where(a.c.date_created >= after)
    if before is not None:
        query = query.where(a.c.date_created < before)
    return query
