"""The SQL of the ``events`` table: Event Streams' log of recorded events (one row per
run, :mod:`callboard.events.batches`), written in the run's transaction
(:mod:`callboard.events.recording`), fanned out by the delivery worker
(:mod:`callboard.events.delivery_queue`) and read back by the live streams."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, delete, exists, func, or_, select, update

from callboard.store.db import insert_rows
from callboard.store.event_tables import UNDISPATCHED, event_deliveries, events

__all__ = [
    "ROW_COLUMNS",
    "UNDISPATCHED_PROBE",
    "any_undispatched",
    "insert_event",
    "insert_events",
    "last_event_id",
    "mark_dispatched",
    "of_flow",
    "prune_events",
    "read_rows",
    "undispatched_rows",
]

_ev = events

# What callboard.events.batches' row_entries / row_events read of a row (select these).
ROW_COLUMNS = (
    _ev.c.id,
    _ev.c.sid,
    _ev.c.type,
    _ev.c.account_sid,
    _ev.c.flow_sid,
    _ev.c.execution_sid,
    _ev.c.payload,
    _ev.c.payload_z,
    _ev.c.date_created,
)

# The fan-out's probe: ordered by id, the partial index ix_events_undispatched,
# whatever the statistics.
UNDISPATCHED_PROBE = select(_ev.c.id).where(UNDISPATCHED).order_by(_ev.c.id).limit(1)


def insert_events(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (all with the same keys) in the current transaction: the
    driver's executemany (:func:`callboard.store.db.insert_rows`), on the runner's
    hot path."""
    insert_rows(conn, _ev, rows)


def insert_event(conn: Connection, row: dict[str, Any]) -> int:
    """Insert one row; returns its ``id``."""
    key = conn.execute(_ev.insert().values(row)).inserted_primary_key
    assert key is not None
    return int(key[0])


def any_undispatched(conn: Connection) -> bool:
    """Whether a row waits for the fan-out: one probe (:data:`UNDISPATCHED_PROBE`)."""
    return conn.execute(UNDISPATCHED_PROBE).first() is not None


def undispatched_rows(conn: Connection, limit: int, *, skip_locked: bool) -> Sequence[Any]:
    """The oldest ``limit`` rows not yet fanned out (:data:`ROW_COLUMNS`), by id.
    ``skip_locked`` (PostgreSQL): locked, and the rows another worker has locked left to
    it."""
    q = select(*ROW_COLUMNS).where(UNDISPATCHED).order_by(_ev.c.id)
    q = q.limit(limit)
    if skip_locked:
        q = q.with_for_update(skip_locked=True)
    return conn.execute(q).all()


def mark_dispatched(conn: Connection, ids: list[int]) -> None:
    conn.execute(update(_ev).where(_ev.c.id.in_(ids)).values(dispatched=True))


def of_flow(account_sid: str, flow_sid: str) -> tuple[ColumnElement[bool], ...]:
    """The WHERE conditions (for :func:`read_rows`) naming the account's flow's rows."""
    return (_ev.c.flow_sid == flow_sid, _ev.c.account_sid == account_sid)


def read_rows(
    conn: Connection,
    *where: ColumnElement[bool],
    floor: int,
    after: int,
    limit: int | None,
) -> Sequence[Any]:
    """The rows (:data:`ROW_COLUMNS`) matching ``where`` from id ``floor`` on, oldest
    first: a run's rows (empty ``type``), and the single-event rows whose id is after
    ``after``; at most ``limit`` rows (None: all)."""
    query = (
        select(*ROW_COLUMNS)
        .where(*where, _ev.c.id >= floor, or_(_ev.c.type == "", _ev.c.id > after))
        .order_by(_ev.c.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return conn.execute(query).all()


def last_event_id(conn: Connection) -> int | None:
    """The newest row's id (None: no rows)."""
    last = conn.execute(select(func.max(_ev.c.id))).scalar_one_or_none()
    return None if last is None else int(last)


def prune_events(conn: Connection, cutoff: datetime) -> int:
    """Delete the dispatched rows made before ``cutoff`` that no delivery needs; returns
    how many."""
    d = event_deliveries
    gone = conn.execute(
        delete(_ev).where(
            _ev.c.dispatched == True,  # noqa: E712
            _ev.c.date_created < cutoff,
            ~exists().where(d.c.event_id == _ev.c.id),
        )
    )
    return int(gone.rowcount or 0)
