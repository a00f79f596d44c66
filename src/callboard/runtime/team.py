"""People in an account (issue 14): users and roles, browser sessions, invitations and
API key creators. Every change to a user is recorded in the audit log in the same
transaction.

Who may change whom: the command line and owners change anyone; admins change viewers
and editors only (and cannot make anyone admin or owner). An account always keeps at
least one owner. Changing a user's role or password, or removing them, ends their
sessions at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from callboard.engine.core import Env
from callboard.engine.env import SystemEnv
from callboard.runtime.audit import CLI, Actor, audit_row
from callboard.runtime.passwords import (
    check_password_rules,
    hash_password,
    new_password,
    new_token,
    token_hash,
    verify_password,
)
from callboard.runtime.records import Conflict, InvalidParameter, NotFound, ServiceError
from callboard.runtime.roles import ROLES, is_role, lowest
from callboard.store import sessions as ss
from callboard.store import users as us
from callboard.store.audit import insert_audit_event
from callboard.store.db import Database
from callboard.store.values import from_db_time, to_db_time

__all__ = ["CreatedUser", "Forbidden", "LoggedIn", "Team", "User"]

SESSION_DAYS = 7
INVITATION_DAYS = 7
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")


class Forbidden(ServiceError):
    """403 / 20403: the caller's role does not allow this."""

    status = 403
    code = 20403


@dataclass(frozen=True, slots=True)
class User:
    sid: str
    account_sid: str
    email: str
    role: str
    has_password: bool
    date_created: datetime
    date_updated: datetime


@dataclass(frozen=True, slots=True)
class CreatedUser:
    user: User
    password: str | None  # generated: shown once
    invitation_token: str | None  # for the one-time link: shown once


@dataclass(frozen=True, slots=True)
class LoggedIn:
    user: User
    session_token: str  # the cookie's value
    csrf_token: str


def _user(row: Any) -> User:
    return User(
        sid=row.sid,
        account_sid=row.account_sid,
        email=row.email,
        role=row.role,
        has_password=row.password_hash is not None,
        date_created=from_db_time(row.date_created) or row.date_created,
        date_updated=from_db_time(row.date_updated) or row.date_updated,
    )


def _email(value: str) -> str:
    email = (value or "").strip().lower()
    if not _EMAIL.match(email):
        raise InvalidParameter(
            "Email", f"Invalid parameter Email: {value[:100]!r} is not an email address"
        )
    return email


def _role(value: str) -> str:
    if not is_role(value):
        raise InvalidParameter(
            "Role", f"Role must be one of {', '.join(ROLES)}, got {value[:40]!r}"
        )
    return value


def _password(value: str) -> str:
    problem = check_password_rules(value)
    if problem:
        raise InvalidParameter("Password", problem)
    return value


def _may_manage(actor: Actor, *roles: str) -> None:
    if actor.role == "owner":
        return
    if actor.role == "admin" and all(r in ("viewer", "editor") for r in roles):
        return
    raise Forbidden(
        f"Your role ({actor.role}) cannot manage {' or '.join(sorted(set(roles)))} users"
    )


class Team:
    def __init__(self, db: Database, env: Env | None = None) -> None:
        self.db = db
        self.env: Env = env if env is not None else SystemEnv()

    def _now(self) -> datetime:
        return to_db_time(self.env.now())

    def _audit(
        self,
        conn: Connection,
        account_sid: str,
        actor: Actor,
        action: str,
        sid: str,
        **details: Any,
    ) -> None:
        insert_audit_event(
            conn, audit_row(self.env, account_sid, actor, action, sid, details or None)
        )

    def _find(self, conn: Connection, account_sid: str, who: str) -> Any:
        """A user of the account by email or SID (:class:`NotFound` otherwise)."""
        row = (
            us.user_by_sid(conn, account_sid, who)
            if who.startswith("US")
            else us.user_by_email(conn, who.strip().lower())
        )
        if row is None or row.account_sid != account_sid:
            raise NotFound("User", who)
        return row

    # ------------------------------------------------------------------ users

    def count_users(self) -> int:
        with self.db.read() as conn:
            return us.count_users(conn)

    def add_user(
        self,
        account_sid: str,
        email: str,
        role: str,
        password: str | None = None,
        *,
        actor: Actor = CLI,
        invite: bool = False,
    ) -> CreatedUser:
        """A new user. Without ``password``: a generated one (returned once) — or, with
        ``invite``, no password and a one-time invitation token."""
        email, role = _email(email), _role(role)
        _may_manage(actor, role)
        generated = None
        if password is not None:
            _password(password)
        elif not invite:
            password = generated = new_password()
        sid = self.env.sid("US")
        now = self._now()
        row = {
            "sid": sid,
            "account_sid": account_sid,
            "email": email,
            "role": role,
            "password_hash": hash_password(password) if password is not None else None,
            "date_created": now,
            "date_updated": now,
        }
        token = new_token() if invite else None
        with self.db.write() as conn:
            if us.user_by_email(conn, email) is not None:
                raise Conflict(f"A user with email {email} already exists")
            us.insert_user(conn, row)
            if token is not None:
                us.insert_invitation(
                    conn, token_hash(token), sid, now, now + timedelta(days=INVITATION_DAYS)
                )
            self._audit(
                conn,
                account_sid,
                actor,
                "user.invite" if invite else "user.create",
                sid,
                email=email,
                role=role,
            )
        return CreatedUser(_user(_Values(row)), generated, token)

    def list_users(self, account_sid: str) -> list[User]:
        with self.db.read() as conn:
            return [_user(r) for r in us.list_users(conn, account_sid)]

    def emails(self, sids: list[str]) -> dict[str, str]:
        """User SID → email, for the SIDs that are users."""
        with self.db.read() as conn:
            return {sid: row.email for sid, row in us.users_by_sid(conn, sids).items()}

    def set_role(self, account_sid: str, who: str, role: str, *, actor: Actor = CLI) -> User:
        role = _role(role)
        with self.db.write() as conn:
            row = self._find(conn, account_sid, who)
            _may_manage(actor, row.role, role)
            if row.role == "owner" and role != "owner" and us.count_owners(conn, account_sid) <= 1:
                raise Conflict("An account keeps at least one owner: make another user owner first")
            us.update_user(conn, row.sid, {"role": role, "date_updated": self._now()})
            ss.delete_user_sessions(conn, row.sid)
            self._audit(
                conn,
                account_sid,
                actor,
                "user.role",
                row.sid,
                email=row.email,
                role=role,
                previous=row.role,
            )
            return _user(self._find(conn, account_sid, row.sid))

    def remove_user(self, account_sid: str, who: str, *, actor: Actor = CLI) -> None:
        with self.db.write() as conn:
            row = self._find(conn, account_sid, who)
            _may_manage(actor, row.role)
            if row.role == "owner" and us.count_owners(conn, account_sid) <= 1:
                raise Conflict("An account keeps at least one owner: this is the last one")
            ss.delete_user_sessions(conn, row.sid)
            us.delete_user(conn, row.sid)
            self._audit(conn, account_sid, actor, "user.remove", row.sid, email=row.email)

    def reset_password(self, account_sid: str, who: str, *, actor: Actor = CLI) -> str:
        """A new generated password (returned once); the user's sessions end."""
        password = new_password()
        hashed = hash_password(password)
        with self.db.write() as conn:
            row = self._find(conn, account_sid, who)
            _may_manage(actor, row.role)
            us.update_user(conn, row.sid, {"password_hash": hashed, "date_updated": self._now()})
            us.delete_invitations(conn, row.sid)
            ss.delete_user_sessions(conn, row.sid)
            self._audit(conn, account_sid, actor, "user.password", row.sid, email=row.email)
        return password

    def reset_link(self, account_sid: str, who: str, *, actor: Actor = CLI) -> str:
        """Clears the user's password, ends their sessions and returns a new one-time
        invitation token for them to choose another (shown once)."""
        token = new_token()
        now = self._now()
        with self.db.write() as conn:
            row = self._find(conn, account_sid, who)
            _may_manage(actor, row.role)
            us.update_user(conn, row.sid, {"password_hash": None, "date_updated": now})
            us.delete_invitations(conn, row.sid)
            us.insert_invitation(
                conn, token_hash(token), row.sid, now, now + timedelta(days=INVITATION_DAYS)
            )
            ss.delete_user_sessions(conn, row.sid)
            self._audit(conn, account_sid, actor, "user.password", row.sid, email=row.email)
        return token

    # ------------------------------------------------------------------ sessions

    def _open_session(self, conn: Connection, row: Any) -> LoggedIn:
        token, csrf = new_token(), new_token()
        now = self._now()
        ss.delete_user_sessions(conn, "", now)  # sweep expired sessions
        ss.insert_session(
            conn, token_hash(token), row.sid, csrf, now, now + timedelta(days=SESSION_DAYS)
        )
        return LoggedIn(_user(row), token, csrf)

    def login(self, email: str, password: str) -> LoggedIn | None:
        """A new session for the right email and password; None otherwise (the same
        work either way)."""
        address = (email or "").strip().lower()[:320]
        with self.db.read() as conn:
            row = us.user_by_email(conn, address)
        if not verify_password(password[:1024], row.password_hash if row is not None else None):
            return None
        with self.db.write() as conn:
            fresh = us.user_by_email(conn, address)
            if fresh is None or fresh.password_hash != row.password_hash:
                return None
            return self._open_session(conn, fresh)

    def session(self, token: str) -> tuple[User, str] | None:
        """The user and CSRF token of a live session."""
        if not token or len(token) > 128:
            return None
        with self.db.read() as conn:
            row = ss.session_user(conn, token_hash(token), self._now())
        return (_user(row), row.csrf_token) if row is not None else None

    def logout(self, token: str) -> None:
        with self.db.write() as conn:
            ss.delete_session(conn, token_hash(token))

    # ------------------------------------------------------------------ invitations

    def invitation(self, token: str) -> User | None:
        with self.db.read() as conn:
            row = us.take_invitation(conn, token_hash(token), self._now(), consume=False)
        return _user(row) if row is not None else None

    def accept_invitation(
        self, token: str, password: str, address: str | None = None
    ) -> LoggedIn | None:
        """Sets the invited user's password (the link is used up) and logs them in."""
        hashed = hash_password(_password(password))
        with self.db.write() as conn:
            row = us.take_invitation(conn, token_hash(token), self._now(), consume=True)
            if row is None:
                return None
            us.update_user(conn, row.sid, {"password_hash": hashed, "date_updated": self._now()})
            actor = Actor(row.email, row.sid, row.role, address)
            self._audit(conn, row.account_sid, actor, "user.accept_invitation", row.sid)
            return self._open_session(conn, us.user_by_sid(conn, row.account_sid, row.sid))

    # ------------------------------------------------------------------ API keys

    def record_key(
        self, account_sid: str, key_sid: str, actor: Actor, role: str | None = None
    ) -> str:
        """Remember who created an API key; it carries ``role`` (default and at most:
        the creator's). Returns the key's role. (The API audits its creation.)"""
        granted = lowest(role or actor.role, actor.role)
        with self.db.write() as conn:
            us.insert_key_creator(conn, key_sid, actor.sid or account_sid, granted)
        return granted

    def key_creators(self, key_sids: list[str]) -> dict[str, tuple[str, str]]:
        """API key SID → (who created it: email or SID, the role it was given); keys
        without a creator (``callboard keys create``) are absent."""
        with self.db.read() as conn:
            rows = us.key_creators(conn, key_sids)
        return {r.key_sid: (r.email or r.created_by, r.role) for r in rows}

    def key_role(self, key_sid: str) -> str | None:
        """The role an API key carries now: its own, capped by its creator's current
        role. Keys without a creator (made by ``callboard keys create``) are the
        account's own: owner. None when its creating user has been removed."""
        with self.db.read() as conn:
            row = us.key_creator(conn, key_sid)
        if row is None:
            return "owner"
        if row.created_by.startswith("AC"):
            return str(row.role)
        if row.creator_role is None:
            return None
        return lowest(row.role, row.creator_role)

    def first_owner(self, account_sid: str, email: str) -> CreatedUser | None:
        """On a server with no users yet: an owner with a generated password."""
        if self.count_users() > 0:
            return None
        return self.add_user(account_sid, email, "owner")


class _Values:
    """Attribute access over the row just written."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)
