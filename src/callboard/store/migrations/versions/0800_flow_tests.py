"""flow tests (issue 15): tests stored per flow, versioned with its revisions

Revision ID: 0800
Revises: 0300
Create Date: 2026-12-03 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0800"
down_revision: str | None = "0600"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "flow_tests",
        sa.Column("flow_sid", sa.String(length=34), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("account_sid", sa.String(length=34), nullable=False),
        sa.Column("flow_revision", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("require_green", sa.Boolean(), nullable=False),
        sa.Column("date_created", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["flow_sid"],
            ["flows.sid"],
            name=op.f("fk_flow_tests_flow_sid_flows"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("flow_sid", "version", name=op.f("pk_flow_tests")),
    )


def downgrade() -> None:
    op.drop_table("flow_tests")
