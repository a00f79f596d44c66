"""The SQL of the ``messages`` table: the simulator channel's messages and the log of
messages sent through Twilio."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select, update

from callboard.store import tables as t
from callboard.store.db import insert_rows

__all__ = ["insert_messages", "latest_messages", "update_message"]

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
