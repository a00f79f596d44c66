"""credentials cached per process (issue 11): ``credentials_generation``, one row whose
``generation`` triggers bump in the transaction of every change to what HTTP Basic
authentication reads (an account's row, an API key, who created a key and with which
role, a user's role or removal). Each server process caches verified credentials and
compares the generation it cached them under with the row's on every request
(:mod:`callboard.store.credentials`), so a change made by any process, server, CLI
command or hand-written SQL is seen at once.

Revision ID: 1200
Revises: 1000
Create Date: 2026-12-03 16:15:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "1200"
down_revision: str | None = "1000"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BUMP = "UPDATE credentials_generation SET generation = generation + 1 WHERE id = 1"

# (table, the changes that bump the generation)
WATCHED = (
    ("accounts", ("UPDATE", "DELETE")),
    ("api_keys", ("UPDATE", "DELETE")),
    ("api_key_creators", ("INSERT", "UPDATE", "DELETE")),
    ("users", ("UPDATE", "DELETE")),
)


def _triggers() -> list[tuple[str, str, str]]:
    return [
        (f"credentials_{table}_{change.lower()}", table, change)
        for table, changes in WATCHED
        for change in changes
    ]


def upgrade() -> None:
    op.create_table(
        "credentials_generation",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credentials_generation")),
    )
    op.execute("INSERT INTO credentials_generation (id, generation) VALUES (1, 1)")
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute(
            "CREATE FUNCTION callboard_credentials_changed() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN {BUMP}; RETURN NULL; END $$"
        )
    for name, table, change in _triggers():
        if postgresql:
            op.execute(
                f"CREATE TRIGGER {name} AFTER {change} ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION callboard_credentials_changed()"
            )
        else:
            op.execute(f"CREATE TRIGGER {name} AFTER {change} ON {table} BEGIN {BUMP}; END")


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, table, _ in _triggers():
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if postgresql else ""))
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS callboard_credentials_changed()")
    op.drop_table("credentials_generation")
