"""The team tables (issue 14), on the store's shared ``metadata``.

* ``users`` (US…): people in an account, each with one role (viewer, editor, admin,
  owner). ``email`` is unique across the server (log-in names no account); a NULL
  ``password_hash`` is a user invited who has not chosen a password yet.
* ``user_sessions``: browser sessions. The cookie holds a random token; only its SHA-256
  is stored. ``csrf_token`` must accompany every state-changing request of the session.
* ``invitations``: one-time links (SHA-256 of the token) to choose a password.
* ``audit_events`` (AE…): who did what to which resource, from where.
* ``api_key_creators``: the user (or Account SID) that created an API key and the role
  the key carries (at most its creator's).

The migration ``0600_teams`` creates them.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Index, String, Table, Text

from callboard.store.tables import SID, metadata

__all__ = ["api_key_creators", "audit_events", "invitations", "user_sessions", "users"]

users = Table(
    "users",
    metadata,
    Column("sid", String(SID), primary_key=True),
    Column(
        "account_sid", String(SID), ForeignKey("accounts.sid", ondelete="CASCADE"), nullable=False
    ),
    Column("email", String(320), nullable=False),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(255), nullable=True),
    Column("date_created", DateTime, nullable=False),
    Column("date_updated", DateTime, nullable=False),
    Index("ux_users_email", "email", unique=True),
    Index("ix_users_account", "account_sid"),
)

user_sessions = Table(
    "user_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_sid", String(SID), ForeignKey("users.sid", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("date_created", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Index("ix_user_sessions_user", "user_sid"),
)

invitations = Table(
    "invitations",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_sid", String(SID), ForeignKey("users.sid", ondelete="CASCADE"), nullable=False),
    Column("date_created", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Index("ix_invitations_user", "user_sid"),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("sid", String(SID), primary_key=True),
    Column("account_sid", String(SID), nullable=False),
    Column("actor", String(320), nullable=False),  # email, SK… or AC… (or "cli")
    Column("actor_sid", String(SID), nullable=True),
    Column("action", String(64), nullable=False),
    Column("resource_sid", String(64), nullable=True),
    Column("client_address", String(64), nullable=True),
    Column("details", Text, nullable=True),  # JSON object
    Column("date_created", DateTime, nullable=False),
    Index("ix_audit_events_account_created", "account_sid", "date_created", "sid"),
)

api_key_creators = Table(
    "api_key_creators",
    metadata,
    Column(
        "key_sid", String(SID), ForeignKey("api_keys.sid", ondelete="CASCADE"), primary_key=True
    ),
    Column("created_by", String(SID), nullable=False),  # US… or AC…
    Column("role", String(16), nullable=False),
)
