"""smaller rows (issue 11, issue 17 item 9): a step's context is stored once per run and
as a patch against it at the run's other steps, compressed
(``callboard.store.step_contexts``); Event Streams payloads compressed with a preset
dictionary (``callboard.events.payloads``). Rows written before keep their JSON.

Revision ID: 0950
Revises: 0900
Create Date: 2026-12-03 13:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0950"
down_revision: str | None = "0900"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("steps") as batch:
        batch.add_column(sa.Column("context_base", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("context_z", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("payload_z", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("payload_z")
    with op.batch_alter_table("steps") as batch:
        batch.drop_column("context_z")
        batch.drop_column("context_base")
