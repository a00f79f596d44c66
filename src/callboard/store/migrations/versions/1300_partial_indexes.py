"""fewer index writes per execution (issue 11): partial indexes for retention's probes.

* ``ix_processed_requests_created`` served one statement, retention's prune of the
  processed requests of no execution (``execution_sid IS NULL AND date_created <= ?``,
  store/requests.py; the requests of an execution are deleted with it, through
  ``ix_processed_requests_execution``). It now holds only those rows: a webhook that ran
  an execution — nearly every one — no longer writes it.
* ``ix_executions_status_created`` (status, date_created) and ``ix_executions_status_ended``
  (status, ended_at) served only retention's probes of stuck active executions and of
  ended ones (store/executions.py, with literal ``'active'`` / ``'ended'``). They keep
  their columns (the counts stay covered by the index) but hold only the active,
  respectively ended, executions: each execution row is in one of them, not both.

From 1300 on, ``processed_requests.result`` may hold an answer without the execution SID
its row holds (``@`` + the rest, or ``@`` + the number of a usual ending: store/requests.py).
The downgrade writes those answers out in full, so the code before 1300 reads them.

Revision ID: 1300
Revises: 1200
Create Date: 2026-12-03 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "1300"
down_revision: str | None = "1200"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# name → (table, the index after 1300, the index before)
INDEXES = {
    "ix_processed_requests_created": (
        "processed_requests",
        "(date_created) WHERE execution_sid IS NULL",
        "(date_created)",
    ),
    "ix_executions_status_created": (
        "executions",
        "(status, date_created) WHERE status = 'active'",
        "(status, date_created)",
    ),
    "ix_executions_status_ended": (
        "executions",
        "(status, ended_at) WHERE status = 'ended'",
        "(status, ended_at)",
    ),
}


def upgrade() -> None:
    for name, (table, after, _) in INDEXES.items():
        op.execute(f"DROP INDEX IF EXISTS {name}")
        op.execute(f"CREATE INDEX {name} ON {table} {after}")


# store/requests.py's usual endings as 1300 stored them (frozen here: never change).
_NO_TWIML = r'"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>"'
ENDINGS = tuple(
    f',"started":{started},"accepted":{accepted},"twiml":{_NO_TWIML},'
    f'"status":{status},"warnings":[]}}'
    for started in ("true", "false")
    for accepted in ("true", "false")
    for status in ('"ended"', '"active"', "null")
)


def _answers_in_full() -> None:
    cases = " ".join(f"WHEN '@{n}' THEN :e{n}" for n in range(len(ENDINGS)))
    op.get_bind().execute(
        sa.text(
            "UPDATE processed_requests SET result = "
            "'{\"execution_sid\":\"' || execution_sid || '\"' || "
            f"CASE result {cases} ELSE substr(result, 2) END "
            "WHERE result LIKE '@%' AND execution_sid IS NOT NULL"
        ),
        {f"e{n}": ending for n, ending in enumerate(ENDINGS)},
    )


def downgrade() -> None:
    _answers_in_full()
    for name, (table, _, before) in INDEXES.items():
        op.execute(f"DROP INDEX IF EXISTS {name}")
        op.execute(f"CREATE INDEX {name} ON {table} {before}")
