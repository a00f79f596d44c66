"""scale-out (issue 12): partial indexes for the background probes

The probes every server and worker runs while idle — outbox jobs due, Event Streams
events not fanned out yet, deliveries due, and the outbox backlog a load balancer's
readiness check reads (waiting and failed jobs) — each get a partial index holding only the
rows they look for. Such an index stays small however many finished rows a table keeps,
and the planner picks it without statistics (PostgreSQL with autovacuum off: the
undispatched-events probe had become a sequential scan of every event). The probes'
WHERE clauses are these predicates, with literal values (store/tables.py
``OUTBOX_WAITING``, store/event_tables.py ``UNDISPATCHED``, ``DELIVERY_WAITING``). The
full indexes they replace are dropped (one index fewer to write per row). Durable
timers need none: a fired timer's row is deleted, so ``ix_timers_due`` holds only
pending timers already.

Revision ID: 0900
Revises: 0850
Create Date: 2026-12-03 13:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0900"
down_revision: str | None = "0850"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _false() -> str:
    return "0" if op.get_bind().dialect.name == "sqlite" else "false"


def upgrade() -> None:
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_outbox_due ON outbox (available_at) "
        "WHERE status IN ('pending', 'running')"
    )
    op.execute("CREATE INDEX IF NOT EXISTS ix_outbox_failed ON outbox (id) WHERE status = 'failed'")
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_events_undispatched ON events (id) "
        f"WHERE dispatched = {_false()}"
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_event_deliveries_due ON event_deliveries "
        "(next_attempt_at) WHERE status = 'pending'"
    )
    op.execute("DROP INDEX IF EXISTS ix_outbox_status_available")
    op.execute("DROP INDEX IF EXISTS ix_events_dispatched_id")
    op.execute("DROP INDEX IF EXISTS ix_event_deliveries_status_next")


def downgrade() -> None:
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_outbox_status_available ON outbox (status, available_at)"
    )
    op.execute("CREATE INDEX IF NOT EXISTS ix_events_dispatched_id ON events (dispatched, id)")
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_event_deliveries_status_next ON event_deliveries "
        "(status, next_attempt_at)"
    )
    op.execute("DROP INDEX IF EXISTS ix_outbox_due")
    op.execute("DROP INDEX IF EXISTS ix_outbox_failed")
    op.execute("DROP INDEX IF EXISTS ix_events_undispatched")
    op.execute("DROP INDEX IF EXISTS ix_event_deliveries_due")
