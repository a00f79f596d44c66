"""execution versions and packed states (issue 11)

Every change of an execution's row (the runner's update after a run) bumps
``executions.version``. A run computed on a read snapshot — outside the one writer's
lock, so that several processes sharing a SQLite file compute in parallel — is written
only if the row still has the version it read (``UPDATE … WHERE version = :read``);
otherwise it is computed again on a newer snapshot. Rows written before keep 0.

``executions.state_z`` holds the execution's state as packed JSON
(:mod:`callboard.store.packed_json`: DEFLATE with a preset dictionary; a text-message
execution's 1.4 KB state takes ~320 bytes); ``state`` is then empty. Rows written
before keep their JSON in ``state`` and read as before.

Revision ID: 1000
Revises: 0950
Create Date: 2026-12-03 16:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "1000"
down_revision: str | None = "0950"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("executions") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("state_z", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("executions") as batch:
        batch.drop_column("state_z")
        batch.drop_column("version")
