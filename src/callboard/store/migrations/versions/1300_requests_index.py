"""fewer index writes per webhook (issue 11): ``ix_processed_requests_created`` holds
only the requests that belong to no execution.

The index by date serves one statement, retention's prune of the processed requests of
no execution (``execution_sid IS NULL AND date_created <= ?``, store/requests.py); the
requests of an execution are deleted with it, through ``ix_processed_requests_execution``.
As a partial index on that predicate it serves the prune the same way, and a webhook
that ran an execution — nearly every one — no longer writes it.

Revision ID: 1300
Revises: 1200
Create Date: 2026-12-03 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "1300"
down_revision: str | None = "1200"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_processed_requests_created")
    op.execute(
        "CREATE INDEX ix_processed_requests_created ON processed_requests (date_created) "
        "WHERE execution_sid IS NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_processed_requests_created")
    op.execute("CREATE INDEX ix_processed_requests_created ON processed_requests (date_created)")
