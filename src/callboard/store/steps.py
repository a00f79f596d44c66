"""The SQL of the ``steps`` table: an execution's steps with their contexts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Connection, Select, bindparam, select

from callboard.store import tables as t
from callboard.store.db import insert_rows
from callboard.store.step_contexts import SAME, apply_patch, pack_steps, unpack
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
    """Step rows' contexts, whole, on an open connection (rows referred to read once)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._seen: dict[tuple[str, int], dict[str, Any]] = {}

    def context(self, row: Any) -> dict[str, Any]:
        packed = row.context_z
        if packed is None:  # written before 0950
            value = loads(row.context)
            return value if isinstance(value, dict) else {}
        if row.context_base is None:
            value = unpack(packed)
            return value if isinstance(value, dict) else {}
        if bytes(packed) == SAME:  # the very context of an earlier step
            return self._context_of(row.execution_sid, row.context_base, whole=False)
        base = self._context_of(row.execution_sid, row.context_base, whole=True)
        return apply_patch(base, unpack(packed))

    def _context_of(self, execution_sid: str, seq: int, *, whole: bool) -> dict[str, Any]:
        """The context of step ``seq`` (``whole``: only if stored whole, else {})."""
        key = (execution_sid, seq)
        found = self._seen.get(key)
        if found is None:
            row = self.conn.execute(_ROW, {"execution_sid": execution_sid, "seq": seq}).first()
            found = {}
            if row is not None and (
                row.context_base is None or (not whole and row.context_base < seq)
            ):  # a reference only ever points back: no loop on a damaged row
                found = self.context(row)
            self._seen[key] = found
        return found


_ROW = select(_s.c.execution_sid, _s.c.context, _s.c.context_base, _s.c.context_z).where(
    _s.c.execution_sid == bindparam("execution_sid"), _s.c.seq == bindparam("seq")
)


def steps_listing(execution_sid: str) -> tuple[Select[Any], list[Column[Any]]]:
    """The execution's steps, and the column they are paged by (their order)."""
    return select(_s).where(_s.c.execution_sid == execution_sid), [_s.c.seq]


def find_step(conn: Connection, execution_sid: str, step_sid: str) -> Any:
    return conn.execute(
        select(_s).where(_s.c.sid == step_sid, _s.c.execution_sid == execution_sid)
    ).first()
