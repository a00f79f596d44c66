"""channels (issue 4): calls, accounts' Twilio credentials, messages.token/error_code

Revision ID: 0300
Revises: 0200
Create Date: 2026-11-28 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0300"
down_revision: str | None = "0200"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("sid", sa.String(length=34), nullable=False),
        sa.Column("account_sid", sa.String(length=34), nullable=False),
        sa.Column("flow_sid", sa.String(length=34), nullable=True),
        sa.Column("execution_sid", sa.String(length=34), nullable=True),
        sa.Column("token", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("from_address", sa.String(length=320), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("twiml", sa.Text(), nullable=True),
        sa.Column("twiml_seq", sa.Integer(), nullable=False),
        sa.Column("sim_state", sa.Text(), nullable=True),
        sa.Column("date_created", sa.DateTime(), nullable=False),
        sa.Column("date_updated", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("sid", name=op.f("pk_calls")),
    )
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.create_index("ix_calls_execution", ["execution_sid"], unique=False)
        batch_op.create_index(
            "ix_calls_account_created", ["account_sid", "date_created"], unique=False
        )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("twilio_account_sid", sa.String(length=34), nullable=True))
        batch_op.add_column(sa.Column("twilio_auth_token", sa.String(length=128), nullable=True))
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("error_code", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("error_code")
        batch_op.drop_column("token")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("twilio_auth_token")
        batch_op.drop_column("twilio_account_sid")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index("ix_calls_account_created")
        batch_op.drop_index("ix_calls_execution")
    op.drop_table("calls")
