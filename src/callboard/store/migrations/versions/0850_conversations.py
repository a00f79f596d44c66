"""conversations (issue 13 items 1-2): the simulator channel's Conversations and Flex tasks

Revision ID: 0850
Revises: 0800
Create Date: 2026-12-03 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0850"
down_revision: str | None = "0800"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sim_objects",
        sa.Column("sid", sa.String(length=34), nullable=False),
        sa.Column("account_sid", sa.String(length=34), nullable=False),
        sa.Column("flow_sid", sa.String(length=34), nullable=True),
        sa.Column("execution_sid", sa.String(length=34), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("conversation_sid", sa.String(length=34), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("date_created", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sid", name=op.f("pk_sim_objects")),
    )
    op.create_index(
        "ix_sim_objects_account_kind",
        "sim_objects",
        ["account_sid", "kind", "date_created"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_sim_objects_account_kind", table_name="sim_objects")
    op.drop_table("sim_objects")
