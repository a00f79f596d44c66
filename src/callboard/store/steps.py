"""The SQL of the ``steps`` table: an execution's steps with their contexts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Connection, Select, select

from callboard.store import tables as t
from callboard.store.db import insert_rows

__all__ = ["find_step", "insert_steps", "steps_listing"]

_s = t.steps


def insert_steps(conn: Connection, rows: list[dict[str, Any]]) -> None:
    insert_rows(conn, _s, rows)


def steps_listing(execution_sid: str) -> tuple[Select[Any], list[Column[Any]]]:
    """The execution's steps, and the column they are paged by (their order)."""
    return select(_s).where(_s.c.execution_sid == execution_sid), [_s.c.seq]


def find_step(conn: Connection, execution_sid: str, step_sid: str) -> Any:
    return conn.execute(
        select(_s).where(_s.c.sid == step_sid, _s.c.execution_sid == execution_sid)
    ).first()
