"""The SQL of the ``event_sinks`` table: Event Streams' Sinks (DG…), what
:class:`callboard.events.service.EventStreams` manages and the delivery worker sends
to."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Connection, Select, delete, exists, select, update

from callboard.store import tables as t
from callboard.store.event_tables import event_sinks, event_subscriptions

__all__ = [
    "account_has_sink",
    "account_sinks",
    "delete_sink",
    "existing_sinks",
    "find_sink",
    "insert_sink",
    "reactivate_sink",
    "sink_accounts",
    "sink_sender",
    "sinks_listing",
    "update_sink",
]

_s = event_sinks


def insert_sink(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(_s.insert(), [row])


def find_sink(conn: Connection, account_sid: str, sid: str) -> Any:
    """The account's sink's row, or None."""
    return conn.execute(select(_s).where(_s.c.sid == sid, _s.c.account_sid == account_sid)).first()


def account_has_sink(conn: Connection, account_sid: str, sid: str) -> bool:
    found = conn.execute(
        select(_s.c.sid).where(_s.c.sid == sid, _s.c.account_sid == account_sid)
    ).first()
    return found is not None


def sinks_listing(
    account_sid: str, *, status: str | None, in_use: bool | None
) -> tuple[Select[Any], list[Column[Any]]]:
    """The account's sinks (with ``status``; ``in_use``: only those with, or without, a
    subscription), and the columns they are paged by (date created, SID)."""
    query = select(_s).where(_s.c.account_sid == account_sid)
    if status is not None:
        query = query.where(_s.c.status == status)
    if in_use is not None:
        used = exists().where(event_subscriptions.c.sink_sid == _s.c.sid)
        query = query.where(used if in_use else ~used)
    return query, [_s.c.date_created, _s.c.sid]


def update_sink(conn: Connection, sid: str, values: dict[str, Any]) -> None:
    conn.execute(update(_s).where(_s.c.sid == sid).values(values))


def reactivate_sink(conn: Connection, sid: str, now: datetime) -> None:
    """A delivery went through: the sink becomes ``active`` if it was ``initialized``
    or ``failed``."""
    conn.execute(
        update(_s)
        .where(_s.c.sid == sid, _s.c.status.in_(("initialized", "failed")))
        .values(status="active", last_error=None, date_updated=now)
    )


def delete_sink(conn: Connection, sid: str) -> None:
    """Delete the sink's row (its subscriptions and deliveries first: see
    :func:`callboard.store.event_subscriptions.delete_sink_subscriptions` and
    :func:`callboard.store.event_deliveries.delete_sink_deliveries`)."""
    conn.execute(delete(_s).where(_s.c.sid == sid))


def sink_sender(conn: Connection, sid: str) -> Any:
    """What sending to the sink takes (``sid``, ``sink_type``, ``configuration``, and
    its account's ``auth_token``), or None: no such sink."""
    return conn.execute(
        select(_s.c.sid, _s.c.sink_type, _s.c.configuration, t.accounts.c.auth_token)
        .join(t.accounts, t.accounts.c.sid == _s.c.account_sid)
        .where(_s.c.sid == sid)
    ).first()


def existing_sinks(conn: Connection, sids: Sequence[str]) -> set[str]:
    """Those of ``sids`` that are still sinks."""
    return set(conn.execute(select(_s.c.sid).where(_s.c.sid.in_(sids))).scalars())


def sink_accounts(conn: Connection, sids: Sequence[str]) -> dict[str, str]:
    """The account of each of ``sids`` (sinks that do not exist are left out)."""
    rows = conn.execute(select(_s.c.sid, _s.c.account_sid).where(_s.c.sid.in_(sids))).all()
    return {r.sid: r.account_sid for r in rows}


def account_sinks(conn: Connection, account_sids: Sequence[str]) -> list[str]:
    """The sinks of the accounts ``account_sids``."""
    return list(conn.execute(select(_s.c.sid).where(_s.c.account_sid.in_(account_sids))).scalars())
