"""The SQL of the ``executions`` table (and the cascade that deletes an execution with
everything that hangs off it)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Column, Connection, Select, delete, func, select, update

from callboard.store import tables as t
from callboard.store.db import insert_rows
from callboard.store.driver import fetch_row

__all__ = [
    "RunRow",
    "StaleExecution",
    "active_execution_sid",
    "active_slot",
    "count_expired",
    "count_recent_rest",
    "count_stuck",
    "delete_executions",
    "delete_flow_executions",
    "execution_owner_flow",
    "execution_status",
    "executions_listing",
    "expired_sids",
    "find_execution",
    "find_execution_by_sid",
    "insert_execution",
    "load_active_for_run",
    "load_for_run",
    "lock_free_executions",
    "stuck_sids",
    "update_execution",
]

_e = t.executions


class RunRow(NamedTuple):
    """The columns the runner loads (:data:`_FOR_RUN`), as SQLite's driver gives them."""

    sid: str
    account_sid: str
    flow_sid: str
    flow_version: int
    contact_channel_address: str
    flow_address: str
    status: str
    test_user: bool
    state: str
    state_z: bytes | None
    active_contact: str | None
    initiated_by: str
    date_created: datetime
    version: int


_FOR_RUN = select(*(_e.c[name] for name in RunRow._fields))


class StaleExecution(Exception):
    """The execution's row changed since it was read: the run computed on the old row
    must be computed again (see :func:`update_execution`)."""


def load_for_run(conn: Connection, execution_sid: str, *, lock: bool) -> Any:
    """The columns the runner needs (``SELECT … FOR UPDATE`` when ``lock``), or None."""
    q = _FOR_RUN.where(_e.c.sid == execution_sid)
    if lock:
        q = q.with_for_update()
    return conn.execute(q).first()


def active_slot(flow_sid: str, contact: str, flow_addresses: Sequence[str | None]) -> list[Any]:
    """The WHERE conditions naming the active execution of ``flow_sid`` for a To/From
    combination: the contact's address and the flow's address (Studio's Execution page:
    one active execution per flow for the same To/From). ``flow_addresses`` lists what
    the flow's side may be called (an inbound message's ``To`` and its
    ``MessagingServiceSid``, when an execution was started by REST from the service);
    with no address at all, the contact alone decides (a request that does not say).
    The unique index ``ux_executions_active (flow_sid, active_contact, flow_address)``
    holds the rule in the database."""
    names = [a for a in flow_addresses if a]
    where = [_e.c.flow_sid == flow_sid, _e.c.active_contact == contact]
    if len(names) == 1:
        where.append(_e.c.flow_address == names[0])
    elif names:
        where.append(_e.c.flow_address.in_(names))
    return where


_ACTIVE = (
    "SELECT {} FROM executions WHERE flow_sid = ? AND active_contact = ? AND account_sid = ?"
).format(", ".join(RunRow._fields))


def load_active_for_run(
    conn: Connection,
    account_sid: str,
    flow_sid: str,
    contact: str,
    flow_addresses: Sequence[str | None] = (),
    *,
    lock: bool,
) -> Any:
    """The run columns of the execution holding the (flow, contact, flow address) slot
    (:func:`active_slot`), or None; one statement that also locks it when ``lock``
    (PostgreSQL re-checks the slot once the row is locked: if it ended meanwhile,
    nothing is returned). The statement goes straight to the driver
    (:mod:`callboard.store.driver`): it runs for every inbound message."""
    names = [a for a in flow_addresses if a]
    sql = _ACTIVE
    if names:
        sql += f" AND flow_address IN ({', '.join('?' for _ in names)})"
    if lock:
        sql += " FOR UPDATE"
    found = fetch_row(conn, sql, (flow_sid, contact, account_sid, *names))
    if found is None:
        return None
    row = RunRow(*found)
    created = row.date_created
    return row._replace(
        test_user=bool(row.test_user),
        date_created=created if isinstance(created, datetime) else datetime.fromisoformat(created),
    )


def active_execution_sid(
    conn: Connection,
    flow_sid: str,
    contact: str,
    account_sid: str | None = None,
    flow_addresses: Sequence[str | None] = (),
) -> str | None:
    """The execution holding the (flow, contact, flow address) slot, if any (with no
    address, the contact's first active execution of the flow)."""
    q = select(_e.c.sid).where(*active_slot(flow_sid, contact, flow_addresses))
    if account_sid is not None:
        q = q.where(_e.c.account_sid == account_sid)
    value = conn.execute(q.limit(1)).scalar_one_or_none()
    return None if value is None else str(value)


def count_recent_rest(conn: Connection, flow_sid: str, since: datetime) -> int:
    """How many executions of the flow the REST API created (``initiated_by`` ``RQ…``)
    after ``since`` (naive UTC)."""
    return int(
        conn.execute(
            select(func.count())
            .select_from(_e)
            .where(
                _e.c.flow_sid == flow_sid,
                _e.c.date_created > since,
                _e.c.initiated_by.like("RQ%"),
            )
        ).scalar_one()
    )


def find_execution(
    conn: Connection, account_sid: str, flow_sid: str | None, execution_sid: str
) -> Any:
    """The execution's row in the account (and flow, when given), or None."""
    q = select(_e).where(_e.c.sid == execution_sid, _e.c.account_sid == account_sid)
    if flow_sid is not None:
        q = q.where(_e.c.flow_sid == flow_sid)
    return conn.execute(q).first()


def execution_owner_flow(conn: Connection, account_sid: str, execution_sid: str) -> str | None:
    """The flow SID of the account's execution (None: no such execution)."""
    value = conn.execute(
        select(_e.c.flow_sid).where(_e.c.sid == execution_sid, _e.c.account_sid == account_sid)
    ).scalar_one_or_none()
    return None if value is None else str(value)


def insert_execution(conn: Connection, row: dict[str, Any]) -> None:
    insert_rows(conn, _e, [row])


def update_execution(
    conn: Connection, execution_sid: str, values: dict[str, Any], *, version: int
) -> None:
    """Update the execution's row if it still has ``version`` (the one its run read),
    bumping it; :class:`StaleExecution` when another run changed it meanwhile."""
    done = conn.execute(
        update(_e)
        .where(_e.c.sid == execution_sid, _e.c.version == version)
        .values({**values, "version": version + 1})
    )
    if done.rowcount != 1:
        raise StaleExecution(execution_sid)


def delete_executions(conn: Connection, sids: list[str]) -> None:
    """Delete executions with their steps, timers, outbox jobs, notifications and
    processed webhook requests (messages and the simulator's conversations and Flex
    tasks stay, detached: they are the channel's log)."""
    conn.execute(delete(t.steps).where(t.steps.c.execution_sid.in_(sids)))
    conn.execute(delete(t.notifications).where(t.notifications.c.execution_sid.in_(sids)))
    conn.execute(delete(t.processed_requests).where(t.processed_requests.c.execution_sid.in_(sids)))
    conn.execute(delete(t.timers).where(t.timers.c.execution_sid.in_(sids)))
    conn.execute(delete(t.outbox).where(t.outbox.c.execution_sid.in_(sids)))
    for log in (t.messages, t.sim_objects):
        conn.execute(update(log).where(log.c.execution_sid.in_(sids)).values(execution_sid=None))
    conn.execute(delete(_e).where(_e.c.sid.in_(sids)))


def lock_free_executions(conn: Connection, sids: list[str]) -> set[str]:
    """PostgreSQL: lock those of ``sids`` no other transaction holds (in SID order, so
    schedulers cannot deadlock); returns the ones locked."""
    return set(
        conn.execute(
            select(_e.c.sid)
            .where(_e.c.sid.in_(sids))
            .order_by(_e.c.sid)
            .with_for_update(skip_locked=True)
        ).scalars()
    )


def execution_status(conn: Connection, execution_sid: str) -> str | None:
    """``active``/``ended`` (None: no such execution)."""
    value = conn.execute(select(_e.c.status).where(_e.c.sid == execution_sid)).scalar_one_or_none()
    return None if value is None else str(value)


def delete_flow_executions(conn: Connection, flow_sid: str) -> None:
    """Delete a flow's executions with their steps, timers and outbox jobs (messages
    stay, detached)."""
    ex = select(_e.c.sid).where(_e.c.flow_sid == flow_sid)
    conn.execute(delete(t.steps).where(t.steps.c.execution_sid.in_(ex)))
    conn.execute(delete(t.timers).where(t.timers.c.execution_sid.in_(ex)))
    conn.execute(delete(t.outbox).where(t.outbox.c.execution_sid.in_(ex)))
    for log in (t.messages, t.sim_objects):
        conn.execute(update(log).where(log.c.execution_sid.in_(ex)).values(execution_sid=None))
    conn.execute(delete(_e).where(_e.c.flow_sid == flow_sid))


def executions_listing(
    account_sid: str,
    flow_sid: str,
    *,
    status: str | None,
    created_from: datetime | None,
    created_to: datetime | None,
) -> tuple[Select[Any], list[Column[Any]]]:
    """The flow's executions (``status``; created in [from, to), naive UTC), and the
    columns they are paged by (date created, SID)."""
    query = select(_e).where(_e.c.flow_sid == flow_sid, _e.c.account_sid == account_sid)
    if status is not None:
        query = query.where(_e.c.status == status)
    if created_from is not None:
        query = query.where(_e.c.date_created >= created_from)
    if created_to is not None:
        query = query.where(_e.c.date_created < created_to)
    return query, [_e.c.date_created, _e.c.sid]


def count_expired(conn: Connection, ended_before: datetime) -> int:
    """Ended executions that ended at or before ``ended_before`` (naive UTC)."""
    query = select(func.count()).select_from(_e)
    query = query.where(t.EXECUTION_ENDED, _e.c.ended_at <= ended_before)
    return int(conn.execute(query).scalar_one())


def count_stuck(conn: Connection, created_before: datetime) -> int:
    """Active executions created at or before ``created_before`` (naive UTC)."""
    query = select(func.count()).select_from(_e)
    query = query.where(t.EXECUTION_ACTIVE, _e.c.date_created <= created_before)
    return int(conn.execute(query).scalar_one())


def expired_sids(
    conn: Connection, ended_before: datetime, limit: int, *, skip_locked: bool
) -> list[str]:
    """Up to ``limit`` of those :func:`count_expired` counts, earliest ended first."""
    query = (
        select(_e.c.sid)
        .where(t.EXECUTION_ENDED, _e.c.ended_at <= ended_before)
        .order_by(_e.c.ended_at)
        .limit(limit)
    )
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    return [str(sid) for sid in conn.execute(query).scalars()]


def stuck_sids(
    conn: Connection, created_before: datetime, limit: int, *, skip_locked: bool
) -> list[str]:
    """Up to ``limit`` of those :func:`count_stuck` counts, oldest first."""
    query = (
        select(_e.c.sid)
        .where(t.EXECUTION_ACTIVE, _e.c.date_created <= created_before)
        .order_by(_e.c.date_created)
        .limit(limit)
    )
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    return [str(sid) for sid in conn.execute(query).scalars()]


def find_execution_by_sid(conn: Connection, execution_sid: str) -> Any:
    """The execution's row, or None."""
    return conn.execute(select(_e).where(_e.c.sid == execution_sid)).first()
