"""The simulator channel's Conversations and Flex tasks (table ``sim_objects``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select

from callboard.store import tables as t

__all__ = ["insert_sim_object", "sim_object", "sim_objects_of"]

_o = t.sim_objects


def insert_sim_object(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(_o.insert().values(**row))


def sim_object(conn: Connection, account_sid: str, sid: str) -> Any:
    """The account's object ``sid``, or None."""
    return conn.execute(select(_o).where(_o.c.sid == sid, _o.c.account_sid == account_sid)).first()


def sim_objects_of(
    conn: Connection,
    account_sid: str,
    kind: str,
    *,
    flow_sid: str | None = None,
    conversation_sid: str | None = None,
    limit: int = 200,
) -> Sequence[Any]:
    """The account's objects of ``kind``, oldest first (the last ``limit``)."""
    q = select(_o).where(_o.c.account_sid == account_sid, _o.c.kind == kind)
    if flow_sid:
        q = q.where(_o.c.flow_sid == flow_sid)
    if conversation_sid:
        q = q.where(_o.c.conversation_sid == conversation_sid)
    rows = conn.execute(q.order_by(_o.c.date_created.desc(), _o.c.sid.desc()).limit(limit)).all()
    return list(reversed(rows))
