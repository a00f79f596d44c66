"""The SQL of the ``steps`` table: an execution's steps with their contexts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Connection, Select, select

from callboard.store import tables as t
from callboard.store.db import insert_rows
from callboard.store.step_contexts import apply_patch, pack_steps, unpack
from callboard.store.values import loads

__all__ = [
    "ContextReader",
    "find_step",
    "insert_packed_steps",
    "insert_steps",
    "pack_steps",
    "steps_listing",
]

_s = t.steps


def insert_steps(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """One run's steps, in order; each row's ``"context"`` is the context object
    (stored as :mod:`callboard.store.step_contexts` says)."""
    insert_packed_steps(conn, pack_steps(rows))


def insert_packed_steps(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Rows :func:`~callboard.store.step_contexts.pack_steps` made (the packing is
    pure: a caller may do it before it takes a writer's lock)."""
    insert_rows(conn, _s, rows)


class ContextReader:
    """Step rows' contexts, whole, on an open connection (bases read once each)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._bases: dict[tuple[str, int], dict[str, Any]] = {}

    def context(self, row: Any) -> dict[str, Any]:
        packed = row.context_z
        if packed is None:  # written before 0950
            value = loads(row.context)
            return value if isinstance(value, dict) else {}
        value = unpack(packed)
        if row.context_base is None:
            return value if isinstance(value, dict) else {}
        return apply_patch(self._base(row.execution_sid, row.context_base), value)

    def _base(self, execution_sid: str, seq: int) -> dict[str, Any]:
        key = (execution_sid, seq)
        found = self._bases.get(key)
        if found is None:
            row = self.conn.execute(
                select(_s.c.execution_sid, _s.c.context, _s.c.context_base, _s.c.context_z).where(
                    _s.c.execution_sid == execution_sid, _s.c.seq == seq
                )
            ).first()
            found = self.context(row) if row is not None and row.context_base is None else {}
            self._bases[key] = found
        return found


def steps_listing(execution_sid: str) -> tuple[Select[Any], list[Column[Any]]]:
    """The execution's steps, and the column they are paged by (their order)."""
    return select(_s).where(_s.c.execution_sid == execution_sid), [_s.c.seq]


def find_step(conn: Connection, execution_sid: str, step_sid: str) -> Any:
    return conn.execute(
        select(_s).where(_s.c.sid == step_sid, _s.c.execution_sid == execution_sid)
    ).first()
