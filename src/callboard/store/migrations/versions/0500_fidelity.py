"""Studio fidelity (issue 13): the active-execution key is To/From, the REST rate limit
setting, the simulator's answering-machine detection

* ``ux_executions_active`` becomes ``(flow_sid, active_contact, flow_address)``: one
  active execution per flow for the same To/From combination (Studio's Execution page),
  not per contact alone;
* ``accounts.rest_executions_per_second``: the per-account limit on REST-created
  executions per flow (NULL: no limit, the default);
* ``calls.machine_detection``: the ``MachineDetection`` a flow asked for when it placed
  the call (the simulator answers with ``AnsweredBy``).

Revision ID: 0500
Revises: 0300
Create Date: 2026-12-03 09:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0500"
down_revision: str | None = "0300"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("executions", schema=None) as batch_op:
        batch_op.drop_index("ux_executions_active")
        batch_op.create_index(
            "ux_executions_active", ["flow_sid", "active_contact", "flow_address"], unique=True
        )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rest_executions_per_second", sa.Integer(), nullable=True))
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("machine_detection", sa.String(length=32), nullable=True))


def _drop_column(table: str, column: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Not batch mode: its copy-and-move of ``accounts`` would cascade-delete every
        # flow and execution (foreign keys are on). SQLite >= 3.35 drops columns itself.
        op.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
    else:
        op.drop_column(table, column)


def downgrade() -> None:
    _drop_column("calls", "machine_detection")
    _drop_column("accounts", "rest_executions_per_second")
    # Back to one active execution per contact: executions active for the same contact
    # from several flow addresses would break the old index, so all but the oldest of
    # each such group give up the slot first (they stay active, out of the index).
    executions = sa.table(
        "executions",
        sa.column("sid", sa.String),
        sa.column("flow_sid", sa.String),
        sa.column("active_contact", sa.String),
        sa.column("date_created", sa.DateTime),
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(executions.c.sid, executions.c.flow_sid, executions.c.active_contact)
        .where(executions.c.active_contact.is_not(None))
        .order_by(executions.c.date_created, executions.c.sid)
    ).all()
    seen: set[tuple[str, str]] = set()
    for sid, flow_sid, contact in rows:
        if (flow_sid, contact) in seen:
            conn.execute(
                sa.update(executions).where(executions.c.sid == sid).values(active_contact=sid)
            )
        seen.add((flow_sid, contact))
    with op.batch_alter_table("executions", schema=None) as batch_op:
        batch_op.drop_index("ux_executions_active")
        batch_op.create_index("ux_executions_active", ["flow_sid", "active_contact"], unique=True)
