"""The SQL of the ``messages`` table: the simulator channel's messages and the log of
messages sent through Twilio."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, or_, select, update

from callboard.store import tables as t
from callboard.store.db import insert_rows

__all__ = [
    "conversation",
    "insert_messages",
    "latest_messages",
    "message_of",
    "update_message",
]

_m = t.messages


def insert_messages(conn: Connection, rows: list[dict[str, Any]]) -> None:
    insert_rows(conn, _m, rows)


def update_message(conn: Connection, sid: str, values: dict[str, Any]) -> None:
    conn.execute(update(_m).where(_m.c.sid == sid).values(values))


def latest_messages(
    conn: Connection, account_sid: str, *, execution_sid: str | None, limit: int
) -> Sequence[Any]:
    """The account's (or execution's) last ``limit`` messages, newest first."""
    query = select(_m).where(_m.c.account_sid == account_sid)
    if execution_sid is not None:
        query = query.where(_m.c.execution_sid == execution_sid)
    return conn.execute(
        query.order_by(_m.c.date_created.desc(), _m.c.sid.desc()).limit(limit)
    ).all()


def message_of(conn: Connection, account_sid: str, sid: str) -> Any:
    """The account's message (execution_sid, token), or None."""
    return conn.execute(
        select(_m.c.execution_sid, _m.c.token).where(
            _m.c.sid == sid, _m.c.account_sid == account_sid
        )
    ).first()


def conversation(
    conn: Connection, account_sid: str, flow_sid: str, contact: str, limit: int
) -> Sequence[Any]:
    """The flow's last ``limit`` messages (with ``contact``, when given), newest first."""
    query = select(_m).where(_m.c.account_sid == account_sid, _m.c.flow_sid == flow_sid)
    if contact:
        query = query.where(or_(_m.c.from_address == contact, _m.c.to_address == contact))
    query = query.order_by(_m.c.date_created.desc(), _m.c.sid.desc()).limit(limit)
    return conn.execute(query).all()
