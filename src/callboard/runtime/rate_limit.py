"""The REST rate limit on execution creation (issue 13), a per-account setting.

Twilio allows 20 REST-created executions per second per flow and answers 429 past that.
Callboard offers the same limit per account, **off by default** (a self-hosted server
has no shared platform to protect, and load tests would trip it): the account's
``rest_executions_per_second`` column, set with ``callboard accounts set-limit``.

When it is set, ``POST /v2/Flows/{FW}/Executions`` counts the executions the REST API
created for that flow in the last second (by ``date_created``, ``initiated_by`` ``RQ…``)
inside the creating transaction; at the limit it answers 429 with Twilio's body (code
20429, "Too Many Requests"). Executions started by messages and calls are not counted
(Studio's inbound limit is another one). On PostgreSQL the flow's row is locked first,
so concurrent creates count exactly; SQLite has one writer anyway.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection

from callboard.runtime.records import ServiceError
from callboard.store.accounts import rest_limit, update_account
from callboard.store.db import Database
from callboard.store.executions import count_recent_rest
from callboard.store.flows import lock_flow
from callboard.store.values import to_db_time

__all__ = [
    "TWILIO_REST_LIMIT",
    "RateLimited",
    "check_rest_rate",
    "rest_rate_limit",
    "set_rest_rate_limit",
]

TWILIO_REST_LIMIT = 20
"""Twilio's limit: REST-created executions per second per flow."""

WINDOW = timedelta(seconds=1)


class RateLimited(ServiceError):
    """429 / 20429: too many REST-created executions for this flow in the last second."""

    status = 429
    code = 20429


def check_rest_rate(
    conn: Connection, account_sid: str, flow_sid: str, now: datetime, db: Database
) -> None:
    """Raise :class:`RateLimited` when the account has a limit and this flow reached it
    in the last second (on the creating transaction's connection)."""
    limit = rest_limit(conn, account_sid)
    if not limit:
        return
    if db.for_update():  # PostgreSQL: concurrent creates for this flow count one after another
        lock_flow(conn, flow_sid)
    recent = count_recent_rest(conn, flow_sid, to_db_time(now - WINDOW))
    if recent >= limit:
        raise RateLimited(
            "Too Many Requests: this flow reached its limit of "
            f"{limit} REST-created executions per second"
        )


def set_rest_rate_limit(
    db: Database, account_sid: str, per_second: int | None, now: datetime
) -> bool:
    """Set (None: remove) the account's limit. False when there is no such account."""
    if per_second is not None and per_second < 1:
        raise ValueError("the limit must be at least 1 execution per second")
    with db.write() as conn:
        return update_account(
            conn,
            account_sid,
            {"rest_executions_per_second": per_second, "date_updated": to_db_time(now)},
        )


def rest_rate_limit(db: Database, account_sid: str) -> int | None:
    """The account's limit (None: no limit)."""
    with db.read() as conn:
        return rest_limit(conn, account_sid)
