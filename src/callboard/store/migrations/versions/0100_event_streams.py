"""event streams: sinks, subscriptions, the events outbox and deliveries (issue 7)

Revision ID: 0100
Revises: 0001
Create Date: 2026-11-27 19:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0100"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_sinks",
        sa.Column("sid", sa.String(length=34), nullable=False),
        sa.Column("account_sid", sa.String(length=34), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("sink_type", sa.String(length=32), nullable=False),
        sa.Column("configuration", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("test_id", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("date_created", sa.DateTime(), nullable=False),
        sa.Column("date_updated", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("sid", name=op.f("pk_event_sinks")),
    )
    op.create_index(
        "ix_event_sinks_account_created",
        "event_sinks",
        ["account_sid", "date_created", "sid"],
    )
    op.create_table(
        "event_subscriptions",
        sa.Column("sid", sa.String(length=34), nullable=False),
        sa.Column("account_sid", sa.String(length=34), nullable=False),
        sa.Column("sink_sid", sa.String(length=34), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("date_created", sa.DateTime(), nullable=False),
        sa.Column("date_updated", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["sink_sid"],
            ["event_sinks.sid"],
            name=op.f("fk_event_subscriptions_sink_sid_event_sinks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("sid", name=op.f("pk_event_subscriptions")),
    )
    op.create_index(
        "ix_event_subscriptions_account_created",
        "event_subscriptions",
        ["account_sid", "date_created", "sid"],
    )
    op.create_index("ix_event_subscriptions_sink", "event_subscriptions", ["sink_sid"])
    op.create_table(
        "event_subscribed_types",
        sa.Column("subscription_sid", sa.String(length=34), nullable=False),
        sa.Column("type", sa.String(length=128), nullable=False),
        sa.Column("account_sid", sa.String(length=34), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_sid"],
            ["event_subscriptions.sid"],
            name=op.f("fk_event_subscribed_types_subscription_sid_event_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subscription_sid", "type", name=op.f("pk_event_subscribed_types")),
    )
    op.create_index(
        "ix_event_subscribed_types_account_type",
        "event_subscribed_types",
        ["account_sid", "type"],
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sid", sa.String(length=34), nullable=False),
        sa.Column("account_sid", sa.String(length=34), nullable=False),
        sa.Column("flow_sid", sa.String(length=34), nullable=True),
        sa.Column("execution_sid", sa.String(length=34), nullable=True),
        sa.Column("type", sa.String(length=128), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("dispatched", sa.Boolean(), nullable=False),
        sa.Column("date_created", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index("ix_events_dispatched_id", "events", ["dispatched", "id"])
    op.create_index("ix_events_flow_id", "events", ["flow_sid", "id"])
    op.create_index("ix_events_created", "events", ["date_created"])
    op.create_table(
        "event_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_sid", sa.String(length=34), nullable=False),
        sa.Column("sink_sid", sa.String(length=34), nullable=False),
        sa.Column("subscription_sid", sa.String(length=34), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("event_sid", sa.String(length=34), nullable=False),
        sa.Column("type", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("date_created", sa.DateTime(), nullable=False),
        sa.Column("date_updated", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["sink_sid"],
            ["event_sinks.sid"],
            name=op.f("fk_event_deliveries_sink_sid_event_sinks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_sid"],
            ["event_subscriptions.sid"],
            name=op.f("fk_event_deliveries_subscription_sid_event_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_deliveries_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_deliveries")),
    )
    op.create_index(
        "ix_event_deliveries_status_next", "event_deliveries", ["status", "next_attempt_at"]
    )
    op.create_index(
        "ix_event_deliveries_sink_status", "event_deliveries", ["sink_sid", "status", "id"]
    )


def downgrade() -> None:
    op.drop_table("event_deliveries")
    op.drop_table("events")
    op.drop_table("event_subscribed_types")
    op.drop_table("event_subscriptions")
    op.drop_table("event_sinks")
