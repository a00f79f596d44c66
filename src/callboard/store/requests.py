"""The SQL of the ``processed_requests`` table: the answer stored for each webhook
request processed (its idempotency key), so a repeated request gets the same answer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, select

from callboard.store import tables as t
from callboard.store.db import driver_row, insert_rows

__all__ = ["prune_requests", "remember_request", "stored_answer"]

_p = t.processed_requests


def stored_answer(conn: Connection, key: str) -> str | None:
    """The JSON answer stored for ``key`` (None: not seen before)."""
    if conn.dialect.name == "sqlite":  # every webhook asks: straight to the driver
        found = driver_row(conn, "SELECT result FROM processed_requests WHERE key = ?", (key,))
        value = None if found is None else found[0]
    else:
        value = conn.execute(select(_p.c.result).where(_p.c.key == key)).scalar_one_or_none()
    return None if value is None else str(value)


def remember_request(
    conn: Connection,
    key: str,
    account_sid: str | None,
    answer: str,
    execution_sid: str | None,
    now: datetime,
) -> None:
    """Store the answer of ``key`` (a concurrent twin makes this raise IntegrityError)."""
    row = {
        "key": key,
        "account_sid": account_sid,
        "result": answer,
        "date_created": now,
        "execution_sid": execution_sid,
    }
    insert_rows(conn, _p, [row])


def prune_requests(conn: Connection, cutoff: datetime) -> None:
    """Delete the processed requests that belong to no execution, made at or before ``cutoff``."""
    conn.execute(delete(_p).where(_p.c.execution_sid.is_(None), _p.c.date_created <= cutoff))
