"""Who made each revision of a flow (issue 14): ``author_sid`` is a user (US…), an API
key (SK…) or the Account SID (AC…) that called the API; users are shown by email."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from callboard.runtime.reading import keyset_page
from callboard.runtime.records import NotFound, Page
from callboard.store.db import Database
from callboard.store.flows import find_flow
from callboard.store.users import revision_authors_listing
from callboard.store.values import from_db_time

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
    query, cols = revision_authors_listing(flow_sid)
    with db.read() as conn:
        if find_flow(conn, account_sid, flow_sid) is None:
            raise NotFound("Flow", flow_sid)
        return keyset_page(
            conn,
            query,
            kind="revision-authors",
            cols=cols,
            types=[int],
            descending=True,
            page_size=page_size,
            page_token=page_token,
            convert=_record,
        )
