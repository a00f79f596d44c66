"""The audit log (issue 14): who published, deleted, restored, changed users, roles,
API keys, sinks and subscriptions — with the resource, the date and the client address.

:class:`Actor` is whoever acts: a user (``name`` = email), an API key or Account SID
(``name`` = that SID), or the command line (``cli``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from callboard.engine.core import Env
from callboard.engine.env import SystemEnv
from callboard.runtime.reading import keyset_page
from callboard.runtime.records import Page
from callboard.store.audit import audit_query, insert_audit_event
from callboard.store.db import Database
from callboard.store.team_tables import audit_events
from callboard.store.values import from_db_time, to_db_time

__all__ = ["CLI", "Actor", "AuditEvent", "AuditLog", "audit_row"]


@dataclass(frozen=True, slots=True)
class Actor:
    name: str  # email, SK…, AC… or "cli"
    sid: str | None  # US…, SK…, AC… (None for the command line)
    role: str
    address: str | None = None  # the client's IP address


CLI = Actor("cli", None, "owner")


@dataclass(frozen=True, slots=True)
class AuditEvent:
    sid: str
    account_sid: str
    actor: str
    actor_sid: str | None
    action: str
    resource_sid: str | None
    client_address: str | None
    details: dict[str, Any] | None
    date_created: datetime


def audit_row(
    env: Env,
    account_sid: str,
    actor: Actor,
    action: str,
    resource_sid: str | None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "sid": env.sid("AE"),
        "account_sid": account_sid,
        "actor": actor.name,
        "actor_sid": actor.sid,
        "action": action,
        "resource_sid": resource_sid,
        "client_address": actor.address,
        "details": json.dumps(details) if details else None,
        "date_created": to_db_time(env.now()),
    }


def _record(row: Any) -> AuditEvent:
    return AuditEvent(
        sid=row.sid,
        account_sid=row.account_sid,
        actor=row.actor,
        actor_sid=row.actor_sid,
        action=row.action,
        resource_sid=row.resource_sid,
        client_address=row.client_address,
        details=json.loads(row.details) if row.details else None,
        date_created=from_db_time(row.date_created) or row.date_created,
    )


class AuditLog:
    def __init__(self, db: Database, env: Env | None = None) -> None:
        self.db = db
        self.env: Env = env if env is not None else SystemEnv()

    def record(
        self,
        account_sid: str,
        actor: Actor,
        action: str,
        resource_sid: str | None,
        details: dict[str, Any] | None = None,
    ) -> None:
        with self.db.write() as conn:
            insert_audit_event(
                conn, audit_row(self.env, account_sid, actor, action, resource_sid, details)
            )

    def list(
        self,
        account_sid: str,
        *,
        actor: str | None = None,
        action: str | None = None,
        after: datetime | None = None,
        before: datetime | None = None,
        page_size: int = 50,
        page_token: str | None = None,
    ) -> Page[AuditEvent]:
        """Newest first."""
        query = audit_query(
            account_sid,
            actor=actor,
            action=action,
            after=to_db_time(after) if after else None,
            before=to_db_time(before) if before else None,
        )
        with self.db.read() as conn:
            return keyset_page(
                conn,
                query,
                kind="audit",
                cols=[audit_events.c.date_created, audit_events.c.sid],
                types=[datetime, str],
                descending=True,
                page_size=page_size,
                page_token=page_token,
                convert=_record,
            )
