"""The SQL of the ``flows`` and ``flow_revisions`` tables that the run path needs: the
flow row of an account, which revision a contact runs, a revision's definition text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import (
    Column,
    Connection,
    Select,
    and_,
    delete,
    literal_column,
    select,
    update,
)

from callboard.store import tables as t
from callboard.store.driver import fetch_row

__all__ = [
    "FlowToRun",
    "definition_text",
    "delete_flow_rows",
    "find_flow",
    "flow_revision_numbers",
    "flow_to_run",
    "flows_listing",
    "insert_flow",
    "insert_revision",
    "lock_flow",
    "revision_row",
    "revisions_listing",
    "update_flow_row",
    "update_revision",
]

_FLOW_TO_RUN = (
    "SELECT f.test_users, f.latest_revision, f.latest_published, latest.valid, published.valid"
    " FROM flows AS f JOIN flow_revisions AS latest"
    " ON latest.flow_sid = f.sid AND latest.revision = f.latest_revision"
    " LEFT OUTER JOIN flow_revisions AS published"
    " ON published.flow_sid = f.sid AND published.revision = f.latest_published"
    " WHERE f.sid = ? AND f.account_sid = ?"
)


class FlowToRun(NamedTuple):
    """What :func:`flow_to_run` reads."""

    test_users: str
    latest_revision: int | None  # never None (typed as the published one, its twin)
    latest_published: int | None
    latest_valid: bool | None  # never None
    published_valid: bool | None


def find_flow(conn: Connection, account_sid: str, flow_sid: str) -> Any:
    """The flow's row in the account, or None."""
    return conn.execute(
        select(t.flows).where(t.flows.c.sid == flow_sid, t.flows.c.account_sid == account_sid)
    ).first()


def flow_to_run(conn: Connection, account_sid: str, flow_sid: str) -> FlowToRun | None:
    """test_users, latest_revision, latest_published and the validity of both revisions,
    in one statement, straight to the driver (every execution start reads it; None: no
    such flow in the account)."""
    row = fetch_row(conn, _FLOW_TO_RUN, (flow_sid, account_sid))
    if row is None:
        return None
    users, latest, published, latest_valid, published_valid = row
    return FlowToRun(
        users,
        latest,
        published,
        bool(latest_valid),
        None if published_valid is None else bool(published_valid),
    )


def revision_row(conn: Connection, flow_sid: str, revision: int) -> Any:
    return conn.execute(
        select(t.flow_revisions).where(
            t.flow_revisions.c.flow_sid == flow_sid, t.flow_revisions.c.revision == revision
        )
    ).first()


def definition_text(conn: Connection, flow_sid: str, revision: int) -> str | None:
    value = conn.execute(
        select(t.flow_revisions.c.definition).where(
            t.flow_revisions.c.flow_sid == flow_sid,
            t.flow_revisions.c.revision == revision,
        )
    ).scalar_one_or_none()
    return None if value is None else str(value)


def flow_revision_numbers(
    conn: Connection, account_sid: str, flow_sids: list[str]
) -> Sequence[Any]:
    """sid, latest_revision, latest_published of the account's flows among ``flow_sids``."""
    return conn.execute(
        select(t.flows.c.sid, t.flows.c.latest_revision, t.flows.c.latest_published).where(
            t.flows.c.sid.in_(flow_sids), t.flows.c.account_sid == account_sid
        )
    ).all()


def insert_flow(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(t.flows.insert(), [row])


def insert_revision(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(t.flow_revisions.insert(), [row])


def update_flow_row(conn: Connection, flow_sid: str, values: dict[str, Any]) -> None:
    conn.execute(update(t.flows).where(t.flows.c.sid == flow_sid).values(values))


def update_revision(conn: Connection, flow_sid: str, revision: int, values: dict[str, Any]) -> None:
    r = t.flow_revisions
    conn.execute(update(r).where(r.c.flow_sid == flow_sid, r.c.revision == revision).values(values))


def delete_flow_rows(conn: Connection, flow_sid: str) -> None:
    """The flow and its revisions (its executions first:
    :func:`callboard.store.executions.delete_flow_executions`)."""
    conn.execute(delete(t.flow_revisions).where(t.flow_revisions.c.flow_sid == flow_sid))
    conn.execute(delete(t.flows).where(t.flows.c.sid == flow_sid))


def flows_listing(account_sid: str) -> tuple[Select[Any], list[Column[Any]]]:
    """The account's flows with their latest revision's status and author, and the
    columns they are paged by (date created, SID)."""
    f, r = t.flows, t.flow_revisions
    query = (
        select(f, r.c.status.label("rev_status"), r.c.author_sid.label("rev_author_sid"))
        .join(r, and_(r.c.flow_sid == f.c.sid, r.c.revision == f.c.latest_revision))
        .where(f.c.account_sid == account_sid)
    )
    return query, [f.c.date_created, f.c.sid]


def revisions_listing(flow_sid: str) -> tuple[Select[Any], list[Column[Any]]]:
    """The flow's revisions without their definitions, and the column they are paged by."""
    r = t.flow_revisions
    query = select(
        *[c for c in r.c if c.name != "definition"], literal_column("NULL").label("definition")
    ).where(r.c.flow_sid == flow_sid)
    return query, [r.c.revision]


def lock_flow(conn: Connection, flow_sid: str) -> None:
    """``SELECT … FOR UPDATE`` the flow's row (PostgreSQL: serialises work on the flow)."""
    conn.execute(select(t.flows.c.sid).where(t.flows.c.sid == flow_sid).with_for_update())
