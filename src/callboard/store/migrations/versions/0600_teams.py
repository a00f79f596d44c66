"""teams (issue 14): users, browser sessions, invitations, audit events, key creators

Revision ID: 0600
Revises: 0300
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0600"
down_revision: str | None = "0500"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("sid", sa.String(length=34), nullable=False),
        sa.Column("account_sid", sa.String(length=34), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("date_created", sa.DateTime(), nullable=False),
        sa.Column("date_updated", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_sid"],
            ["accounts.sid"],
            name=op.f("fk_users_account_sid_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("sid", name=op.f("pk_users")),
    )
    op.create_index("ux_users_email", "users", ["email"], unique=True)
    op.create_index("ix_users_account", "users", ["account_sid"])
    for name in ("user_sessions", "invitations"):
        extra = [sa.Column("csrf_token", sa.String(length=64), nullable=False)]
        op.create_table(
            name,
            sa.Column("token_hash", sa.String(length=64), nullable=False),
            sa.Column("user_sid", sa.String(length=34), nullable=False),
            *(extra if name == "user_sessions" else []),
            sa.Column("date_created", sa.DateTime(), nullable=False),
            sa.Column("expires_at", sa.DateTime(), nullable=False),
            sa.ForeignKeyConstraint(
                ["user_sid"],
                ["users.sid"],
                name=op.f(f"fk_{name}_user_sid_users"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("token_hash", name=op.f(f"pk_{name}")),
        )
        op.create_index(f"ix_{name}_user", name, ["user_sid"])
    op.create_table(
        "audit_events",
        sa.Column("sid", sa.String(length=34), nullable=False),
        sa.Column("account_sid", sa.String(length=34), nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("actor_sid", sa.String(length=34), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("resource_sid", sa.String(length=64), nullable=True),
        sa.Column("client_address", sa.String(length=64), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("date_created", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sid", name=op.f("pk_audit_events")),
    )
    op.create_index(
        "ix_audit_events_account_created", "audit_events", ["account_sid", "date_created", "sid"]
    )
    op.create_table(
        "api_key_creators",
        sa.Column("key_sid", sa.String(length=34), nullable=False),
        sa.Column("created_by", sa.String(length=34), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_sid"],
            ["api_keys.sid"],
            name=op.f("fk_api_key_creators_key_sid_api_keys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key_sid", name=op.f("pk_api_key_creators")),
    )


def downgrade() -> None:
    op.drop_table("api_key_creators")
    op.drop_index("ix_audit_events_account_created", table_name="audit_events")
    op.drop_table("audit_events")
    for name in ("invitations", "user_sessions"):
        op.drop_index(f"ix_{name}_user", table_name=name)
        op.drop_table(name)
    op.drop_index("ix_users_account", table_name="users")
    op.drop_index("ux_users_email", table_name="users")
    op.drop_table("users")
