"""Alembic environment: the connection (or URL) comes from the caller's config.

:meth:`callboard.store.db.Database.migrate` passes an open connection in
``config.attributes["connection"]``; the Alembic command line can use
``-x url=sqlite:///...`` instead.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import callboard.store.event_tables
import callboard.store.team_tables  # noqa: F401  (their tables join metadata: autogenerate)
from callboard.store.tables import metadata

config = context.config


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=metadata,
        render_as_batch=True,  # SQLite needs batch mode to alter tables
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("give the database with -x url=sqlite:///path/to/file.db")
    engine = create_engine(url)
    with engine.connect() as conn:
        _run(conn)
        conn.commit()
