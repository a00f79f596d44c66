"""The SQL of the ``flows`` and ``flow_revisions`` tables that the run path needs: the
flow row of an account, which revision a contact runs, a revision's definition text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, bindparam, select

from callboard.store import tables as t

__all__ = [
    "definition_text",
    "find_flow",
    "flow_revision_numbers",
    "flow_to_run",
    "revision_row",
]

_published = t.flow_revisions.alias("published")
_latest = t.flow_revisions.alias("latest")
_FLOW_TO_RUN = (
    select(
        t.flows.c.test_users,
        t.flows.c.latest_revision,
        t.flows.c.latest_published,
        _latest.c.valid.label("latest_valid"),
        _published.c.valid.label("published_valid"),
    )
    .join(
        _latest,
        and_(_latest.c.flow_sid == t.flows.c.sid, _latest.c.revision == t.flows.c.latest_revision),
    )
    .join(
        _published,
        and_(
            _published.c.flow_sid == t.flows.c.sid,
            _published.c.revision == t.flows.c.latest_published,
        ),
        isouter=True,
    )
    .where(
        t.flows.c.sid == bindparam("flow_sid"), t.flows.c.account_sid == bindparam("account_sid")
    )
)


def find_flow(conn: Connection, account_sid: str, flow_sid: str) -> Any:
    """The flow's row in the account, or None."""
    return conn.execute(
        select(t.flows).where(t.flows.c.sid == flow_sid, t.flows.c.account_sid == account_sid)
    ).first()


def flow_to_run(conn: Connection, account_sid: str, flow_sid: str) -> Any:
    """test_users, latest_revision, latest_published and the validity of both revisions,
    in one statement (None: no such flow in the account)."""
    return conn.execute(_FLOW_TO_RUN, {"flow_sid": flow_sid, "account_sid": account_sid}).first()


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
