"""SQL for browser sessions (issue 14). Only the SHA-256 of a session token is stored."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select

from callboard.store.team_tables import user_sessions, users

__all__ = ["delete_session", "delete_user_sessions", "insert_session", "session_user"]


def insert_session(
    conn: Connection, token_hash: str, user_sid: str, csrf: str, now: datetime, expires: datetime
) -> None:
    conn.execute(
        user_sessions.insert(),
        [
            {
                "token_hash": token_hash,
                "user_sid": user_sid,
                "csrf_token": csrf,
                "date_created": now,
                "expires_at": expires,
            }
        ],
    )


def session_user(conn: Connection, token_hash: str, now: datetime) -> Any:
    """The user row (with ``csrf_token``) of an unexpired session, else None."""
    return conn.execute(
        select(users, user_sessions.c.csrf_token)
        .join(user_sessions, user_sessions.c.user_sid == users.c.sid)
        .where(user_sessions.c.token_hash == token_hash, user_sessions.c.expires_at > now)
    ).first()


def delete_session(conn: Connection, token_hash: str) -> None:
    conn.execute(delete(user_sessions).where(user_sessions.c.token_hash == token_hash))


def delete_user_sessions(conn: Connection, user_sid: str, now: datetime | None = None) -> None:
    """Every session of the user (and, with ``now``, every expired session)."""
    cond = user_sessions.c.user_sid == user_sid
    if now is not None:
        cond = cond | (user_sessions.c.expires_at <= now)
    conn.execute(delete(user_sessions).where(cond))
