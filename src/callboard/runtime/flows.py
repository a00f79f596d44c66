"""Flows, revisions, validation and test users (a part of :class:`Callboard`).

Revision rules (Callboard's reading of Studio's REST docs):

* every create is revision 1; an update makes a new revision when the definition, the
  status or the friendly name changes (the Flow Revision page: revisions are created
  whenever a flow is created or updated; a status or name change alone copies the
  previous definition, so publishing a draft is a new, published revision); an update
  that changes none of them (only ``CommitMessage``) amends the latest revision;
* an invalid definition is stored as a draft with ``valid: false`` and its ``errors``
  (as Studio keeps invalid drafts), but a create or update with ``Status=published`` and
  an invalid definition is refused with 81022 and nothing is stored;
* the flow's ``status``, ``definition``, ``valid``... are its latest revision's;
  ``LatestPublished`` / ``LatestRevision`` name the newest published / newest revision.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection

from callboard.engine.core import Env
from callboard.runtime.definitions import DefinitionCache, validate_definition
from callboard.runtime.reading import flow_record, keyset_page, revision_record
from callboard.runtime.records import (
    Flow,
    FlowRevision,
    InvalidDefinition,
    InvalidParameter,
    NotFound,
    Page,
    TestUsers,
)
from callboard.store.db import Database
from callboard.store.executions import delete_flow_executions
from callboard.store.flows import (
    delete_flow_rows,
    find_flow,
    flows_listing,
    insert_flow,
    insert_revision,
    revision_row,
    revisions_listing,
    update_flow_row,
    update_revision,
)
from callboard.store.values import dumps, loads, to_db_time

__all__ = ["FLOW_STATUSES", "FlowService", "require_flow"]

FLOW_STATUSES = ("draft", "published")


class FlowService:
    """Flows, revisions, validation and test users."""

    def __init__(self, db: Database, env: Env, definitions: DefinitionCache) -> None:
        self.db = db
        self.env = env
        self.definitions = definitions

    def _now(self) -> datetime:
        return to_db_time(self.env.now())

    def _flow_row(self, conn: Connection, account_sid: str, flow_sid: str) -> Any:
        return require_flow(conn, account_sid, flow_sid)

    def _revision_row(self, conn: Connection, flow_sid: str, revision: int) -> Any:
        return revision_row(conn, flow_sid, revision)

    def _flow(self, conn: Connection, account_sid: str, flow_sid: str) -> Flow:
        flow = self._flow_row(conn, account_sid, flow_sid)
        return flow_record(flow, self._revision_row(conn, flow_sid, flow.latest_revision))

    def _checked(self, definition: Any, status: str) -> tuple[str, bool, list[Any], list[Any]]:
        """(JSON text, valid, errors, warnings); publishing an invalid one raises."""
        if status not in FLOW_STATUSES:
            raise InvalidParameter("Status", f"Status must be draft or published, got {status!r}")
        errors, warnings = validate_definition(definition)
        if errors and status == "published":
            raise InvalidDefinition(errors, warnings)
        return dumps(definition), not errors, errors, warnings

    def create_flow(
        self,
        account_sid: str,
        *,
        friendly_name: str,
        status: str,
        definition: Any,
        commit_message: str | None = None,
        author_sid: str | None = None,
    ) -> Flow:
        """A new flow at revision 1. ``definition`` is the decoded JSON value.

        An invalid definition is stored with ``valid=False`` and its ``errors`` when
        ``status`` is ``draft``; with ``published`` it raises :class:`InvalidDefinition`
        and nothing is stored. ``status`` must be ``draft`` or ``published``
        (:class:`InvalidParameter` ``Status``)."""
        name = _friendly_name(friendly_name)
        text, valid, errors, warnings = self._checked(definition, status)
        sid = self.env.sid("FW")
        now = self._now()
        with self.db.write() as conn:
            insert_flow(
                conn,
                {
                    "sid": sid,
                    "account_sid": account_sid,
                    "friendly_name": name,
                    "latest_revision": 1,
                    "latest_published": 1 if status == "published" else None,
                    "test_users": "[]",
                    "date_created": now,
                    "date_updated": None,
                },
            )
            insert_revision(
                conn,
                _revision_values(
                    sid,
                    1,
                    account_sid,
                    name,
                    author_sid,
                    text,
                    status,
                    valid,
                    errors,
                    warnings,
                    commit_message,
                    now,
                ),
            )
            return self._flow(conn, account_sid, sid)

    def update_flow(
        self,
        account_sid: str,
        flow_sid: str,
        *,
        status: str,
        friendly_name: str | None = None,
        definition: Any = None,
        commit_message: str | None = None,
        author_sid: str | None = None,
    ) -> Flow:
        """Update a flow. A new revision is made when the definition, the status or
        the friendly name changes (the new revision copies the previous definition when
        none is given); an update that changes none of them (a commit message alone)
        updates the latest revision in place. Publishing an invalid definition raises
        :class:`InvalidDefinition`."""
        if status not in FLOW_STATUSES:
            raise InvalidParameter("Status", f"Status must be draft or published, got {status!r}")
        name = _friendly_name(friendly_name) if friendly_name is not None else None
        now = self._now()
        with self.db.write() as conn:
            flow = self._flow_row(conn, account_sid, flow_sid)
            latest = self._revision_row(conn, flow_sid, flow.latest_revision)
            new_def = definition if definition is not None else loads(latest.definition)
            changed = definition is not None and new_def != loads(latest.definition)
            renamed = name is not None and name != latest.friendly_name
            if changed or renamed or status != latest.status:
                text, valid, errors, warnings = self._checked(new_def, status)
                number = flow.latest_revision + 1
                insert_revision(
                    conn,
                    _revision_values(
                        flow_sid,
                        number,
                        account_sid,
                        name or flow.friendly_name,
                        author_sid if author_sid is not None else latest.author_sid,
                        text,
                        status,
                        valid,
                        errors,
                        warnings,
                        commit_message,
                        now,
                    ),
                )
                values: dict[str, Any] = {"latest_revision": number, "date_updated": now}
                if status == "published":
                    values["latest_published"] = number
            else:
                values = {"date_updated": now}
                if commit_message is not None:
                    update_revision(
                        conn,
                        flow_sid,
                        flow.latest_revision,
                        {"commit_message": commit_message, "date_updated": now},
                    )
            if name is not None:
                values["friendly_name"] = name
            update_flow_row(conn, flow_sid, values)
            return self._flow(conn, account_sid, flow_sid)

    def fetch_flow(self, account_sid: str, flow_sid: str) -> Flow:
        with self.db.read() as conn:
            return self._flow(conn, account_sid, flow_sid)

    def list_flows(
        self, account_sid: str, *, page_size: int = 50, page_token: str | None = None
    ) -> Page[Flow]:
        """Newest first; items have ``definition`` (and valid/errors...) None."""
        query, cols = flows_listing(account_sid)

        def convert(row: Any) -> Flow:
            rev = SimpleNamespace(status=row.rev_status, author_sid=row.rev_author_sid)
            return flow_record(row, rev, listed=True)

        with self.db.read() as conn:
            return keyset_page(
                conn,
                query,
                kind="flows",
                cols=cols,
                types=[datetime, str],
                descending=True,
                page_size=page_size,
                page_token=page_token,
                convert=convert,
            )

    def delete_flow(self, account_sid: str, flow_sid: str) -> None:
        """Delete the flow with its revisions, test users, executions and steps."""
        with self.db.write() as conn:
            self._flow_row(conn, account_sid, flow_sid)
            delete_flow_executions(conn, flow_sid)
            delete_flow_rows(conn, flow_sid)
        self.definitions.forget(flow_sid)

    def list_revisions(
        self,
        account_sid: str,
        flow_sid: str,
        *,
        page_size: int = 50,
        page_token: str | None = None,
    ) -> Page[FlowRevision]:
        """Highest revision first; items have ``definition`` None."""
        query, cols = revisions_listing(flow_sid)
        with self.db.read() as conn:
            self._flow_row(conn, account_sid, flow_sid)
            return keyset_page(
                conn,
                query,
                kind="revisions",
                cols=cols,
                types=[int],
                descending=True,
                page_size=page_size,
                page_token=page_token,
                convert=lambda row: revision_record(row, listed=True),
            )

    def fetch_revision(self, account_sid: str, flow_sid: str, revision: str) -> FlowRevision:
        """``revision`` is a number, ``LatestPublished`` or ``LatestRevision``
        (:class:`NotFound` for anything else or a revision that does not exist)."""
        with self.db.read() as conn:
            flow = self._flow_row(conn, account_sid, flow_sid)
            number: int | None
            if revision == "LatestPublished":
                number = flow.latest_published
            elif revision == "LatestRevision":
                number = flow.latest_revision
            elif revision.isascii() and revision.isdigit() and len(revision) < 10:
                number = int(revision)
            else:
                number = None
            row = self._revision_row(conn, flow_sid, number) if number is not None else None
        if row is None:
            raise NotFound("Flow revision", f"{flow_sid}/Revisions/{revision}")
        return revision_record(row)

    def validate_definition(
        self, definition: Any, *, friendly_name: str = "", status: str = "draft"
    ) -> None:
        """Returns when the definition is valid; raises :class:`InvalidDefinition`."""
        if status not in FLOW_STATUSES:
            raise InvalidParameter("Status", f"Status must be draft or published, got {status!r}")
        errors, warnings = validate_definition(definition)
        if errors:
            raise InvalidDefinition(errors, warnings)

    def fetch_test_users(self, account_sid: str, flow_sid: str) -> TestUsers:
        with self.db.read() as conn:
            flow = self._flow_row(conn, account_sid, flow_sid)
        return TestUsers(flow_sid, account_sid, list(loads(flow.test_users) or []))

    def update_test_users(
        self, account_sid: str, flow_sid: str, test_users: Sequence[str]
    ) -> TestUsers:
        """Replace the flow's test users (identities: contact addresses)."""
        users: list[str] = []
        for user in test_users:
            text = str(user).strip()
            if text and text not in users:
                users.append(text)
        with self.db.write() as conn:
            self._flow_row(conn, account_sid, flow_sid)
            update_flow_row(
                conn, flow_sid, {"test_users": dumps(users), "date_updated": self._now()}
            )
        return TestUsers(flow_sid, account_sid, users)


def _friendly_name(name: str | None) -> str:
    text = (name or "").strip()
    if not text:
        raise InvalidParameter("FriendlyName", "Missing required parameter FriendlyName")
    if len(text) > 255:
        raise InvalidParameter("FriendlyName", "FriendlyName must be at most 255 characters")
    return text


def _revision_values(
    flow_sid: str,
    revision: int,
    account_sid: str,
    friendly_name: str,
    author_sid: str | None,
    text: str,
    status: str,
    valid: bool,
    errors: list[Any],
    warnings: list[Any],
    commit_message: str | None,
    now: datetime,
) -> dict[str, Any]:
    return {
        "flow_sid": flow_sid,
        "revision": revision,
        "account_sid": account_sid,
        "friendly_name": friendly_name,
        "author_sid": author_sid,
        "definition": text,
        "status": status,
        "valid": valid,
        "errors": dumps(errors),
        "warnings": dumps(warnings),
        "commit_message": commit_message,
        "date_created": now,
        "date_updated": None,
    }


def require_flow(conn: Connection, account_sid: str, flow_sid: str) -> Any:
    """The account's flow row; :class:`NotFound` when there is none."""
    row = find_flow(conn, account_sid, flow_sid)
    if row is None:
        raise NotFound("Flow", flow_sid)
    return row
