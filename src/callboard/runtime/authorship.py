"""Who made each revision of a flow (issue 14): ``author_sid`` is a user (US…), an API
key (SK…) or the Account SID (AC…) that called the API; users are shown by email."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from callboard.runtime.records import NotFound, Page
from callboard.runtime.rows import from_db_time, keyset_page
from callboard.store import tables as t
from callboard.store.db import Database
from callboard.store.team_tables import users

__all__ = ["RevisionAuthor", "list_revision_authors"]


@dataclass(frozen=True, slots=True)
class RevisionAuthor:
    revision: int
    status: str
    commit_message: str | None
    author_sid: str | None
    author: str | None  # the user's email, else the credential SID
    date_created: datetime


def _record(row: Any) -> RevisionAuthor:
    return RevisionAuthor(
        revision=row.revision,
        status=row.status,
        commit_message=row.commit_message,
        author_sid=row.author_sid,
        author=row.email or row.author_sid,
        date_created=from_db_time(row.date_created) or row.date_created,
    )


def list_revision_authors(
    db: Database,
    account_sid: str,
    flow_sid: str,
    *,
    page_size: int = 50,
    page_token: str | None = None,
) -> Page[RevisionAuthor]:
    """The flow's revisions, highest first, with their authors."""
    r = t.flow_revisions
    query = (
        select(
            r.c.revision,
            r.c.status,
            r.c.commit_message,
            r.c.author_sid,
            r.c.date_created,
            users.c.email,
        )
        .outerjoin(users, users.c.sid == r.c.author_sid)
        .where(r.c.flow_sid == flow_sid)
    )
    with db.read() as conn:
        owner = conn.execute(
            select(t.flows.c.sid).where(
                t.flows.c.sid == flow_sid, t.flows.c.account_sid == account_sid
            )
        ).first()
        if owner is None:
            raise NotFound("Flow", flow_sid)
        return keyset_page(
            conn,
            query,
            kind="revision-authors",
            cols=[r.c.revision],
            types=[int],
            descending=True,
            page_size=page_size,
            page_token=page_token,
            convert=_record,
        )
