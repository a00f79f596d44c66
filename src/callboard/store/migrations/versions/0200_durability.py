"""durability (issue 5): notifications, processed_requests.execution_sid,
executions (status, ended_at) index for retention

Revision ID: 0200
Revises: 0100
Create Date: 2026-11-27 20:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0200"
down_revision: str | None = "0100"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_sid", sa.String(length=34), nullable=False),
        sa.Column("flow_sid", sa.String(length=34), nullable=True),
        sa.Column("execution_sid", sa.String(length=34), nullable=True),
        sa.Column("code", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("request_key", sa.String(length=255), nullable=True),
        sa.Column("date_created", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notifications_account_created", ["account_sid", "date_created"], unique=False
        )
        batch_op.create_index("ix_notifications_execution", ["execution_sid"], unique=False)
    with op.batch_alter_table("executions", schema=None) as batch_op:
        batch_op.create_index("ix_executions_status_ended", ["status", "ended_at"], unique=False)
    with op.batch_alter_table("processed_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("execution_sid", sa.String(length=34), nullable=True))
        batch_op.create_index("ix_processed_requests_execution", ["execution_sid"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("executions", schema=None) as batch_op:
        batch_op.drop_index("ix_executions_status_ended")
    with op.batch_alter_table("processed_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_processed_requests_execution")
        batch_op.drop_column("execution_sid")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_execution")
        batch_op.drop_index("ix_notifications_account_created")
    op.drop_table("notifications")
