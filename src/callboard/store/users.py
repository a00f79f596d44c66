"""SQL for users, invitations and API key creators (issue 14). Every function takes an
open :class:`~sqlalchemy.Connection`; the caller owns the transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Connection, Select, delete, func, select, update

from callboard.store import tables as t
from callboard.store.team_tables import api_key_creators, invitations, users

__all__ = [
    "count_owners",
    "count_users",
    "delete_invitations",
    "delete_user",
    "insert_invitation",
    "insert_key_creator",
    "insert_user",
    "key_creator",
    "key_creators",
    "list_users",
    "revision_authors_listing",
    "take_invitation",
    "update_user",
    "user_by_email",
    "user_by_sid",
    "users_by_sid",
]


def insert_user(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(users.insert(), [row])


def user_by_email(conn: Connection, email: str) -> Any:
    return conn.execute(select(users).where(users.c.email == email)).first()


def user_by_sid(conn: Connection, account_sid: str, user_sid: str) -> Any:
    return conn.execute(
        select(users).where(users.c.sid == user_sid, users.c.account_sid == account_sid)
    ).first()


def users_by_sid(conn: Connection, sids: list[str]) -> dict[str, Any]:
    if not sids:
        return {}
    rows = conn.execute(select(users).where(users.c.sid.in_(sids))).all()
    return {row.sid: row for row in rows}


def list_users(conn: Connection, account_sid: str) -> list[Any]:
    return list(
        conn.execute(
            select(users)
            .where(users.c.account_sid == account_sid)
            .order_by(users.c.date_created, users.c.sid)
        ).all()
    )


def count_users(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(users)).scalar_one())


def count_owners(conn: Connection, account_sid: str) -> int:
    query = select(func.count()).where(users.c.account_sid == account_sid, users.c.role == "owner")
    return int(conn.execute(query).scalar_one())


def update_user(conn: Connection, user_sid: str, values: dict[str, Any]) -> None:
    conn.execute(update(users).where(users.c.sid == user_sid).values(values))


def delete_user(conn: Connection, user_sid: str) -> None:
    conn.execute(delete(invitations).where(invitations.c.user_sid == user_sid))
    conn.execute(delete(users).where(users.c.sid == user_sid))


def insert_invitation(
    conn: Connection, token_hash: str, user_sid: str, now: datetime, expires: datetime
) -> None:
    conn.execute(
        invitations.insert(),
        [
            {
                "token_hash": token_hash,
                "user_sid": user_sid,
                "date_created": now,
                "expires_at": expires,
            }
        ],
    )


def take_invitation(conn: Connection, token_hash: str, now: datetime, *, consume: bool) -> Any:
    """The user an unexpired invitation is for (None when unknown or expired); with
    ``consume`` the invitation is used up."""
    row = conn.execute(
        select(users)
        .join(invitations, invitations.c.user_sid == users.c.sid)
        .where(invitations.c.token_hash == token_hash, invitations.c.expires_at > now)
    ).first()
    if row is not None and consume:
        delete_invitations(conn, row.sid)
    return row


def delete_invitations(conn: Connection, user_sid: str) -> None:
    conn.execute(delete(invitations).where(invitations.c.user_sid == user_sid))


def insert_key_creator(conn: Connection, key_sid: str, created_by: str, role: str) -> None:
    conn.execute(
        api_key_creators.insert(), [{"key_sid": key_sid, "created_by": created_by, "role": role}]
    )


def key_creator(conn: Connection, key_sid: str) -> Any:
    """``(created_by, role, creator_role)`` of an API key; ``creator_role`` is None when
    the creator is an Account SID or a user who no longer exists. None for keys made
    before issue 14 (or by ``callboard keys create``)."""
    return conn.execute(
        select(
            api_key_creators.c.created_by,
            api_key_creators.c.role,
            users.c.role.label("creator_role"),
        )
        .outerjoin(users, users.c.sid == api_key_creators.c.created_by)
        .where(api_key_creators.c.key_sid == key_sid)
    ).first()


def key_creators(conn: Connection, key_sids: list[str]) -> list[Any]:
    """``(key_sid, created_by, role, email)`` of the keys that have a creator row."""
    if not key_sids:
        return []
    return list(
        conn.execute(
            select(
                api_key_creators.c.key_sid,
                api_key_creators.c.created_by,
                api_key_creators.c.role,
                users.c.email,
            )
            .outerjoin(users, users.c.sid == api_key_creators.c.created_by)
            .where(api_key_creators.c.key_sid.in_(key_sids))
        ).all()
    )


def revision_authors_listing(flow_sid: str) -> tuple[Select[Any], list[Column[Any]]]:
    """The flow's revisions with their authors' emails (None when not a user), and the
    column they are paged by."""
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
    return query, [r.c.revision]
