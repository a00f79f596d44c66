"""The SQL of the ``processed_requests`` table: the answer stored for each webhook
request processed (its idempotency key), so a repeated request gets the same answer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete

from callboard.store import tables as t
from callboard.store.driver import fetch_row, insert_sql, run

__all__ = ["prune_requests", "remember_request", "stored_answer"]

_p = t.processed_requests


_ANSWER = "SELECT result FROM processed_requests WHERE key = ?"
_REMEMBER = insert_sql(
    "processed_requests", ("key", "account_sid", "result", "date_created", "execution_sid")
)


def stored_answer(conn: Connection, key: str) -> str | None:
    """The JSON answer stored for ``key`` (None: not seen before)."""
    found = fetch_row(conn, _ANSWER, (key,))  # every webhook asks: straight to the driver
    return None if found is None or found[0] is None else str(found[0])


def remember_request(
    conn: Connection,
    key: str,
    account_sid: str | None,
    answer: str,
    execution_sid: str | None,
    now: datetime,
) -> None:
    """Store the answer of ``key`` (a concurrent twin makes this raise IntegrityError)."""
    run(conn, _REMEMBER, (key, account_sid, answer, now, execution_sid))


def prune_requests(conn: Connection, cutoff: datetime) -> None:
    """Delete the processed requests that belong to no execution, made at or before ``cutoff``."""
    conn.execute(delete(_p).where(_p.c.execution_sid.is_(None), _p.c.date_created <= cutoff))
