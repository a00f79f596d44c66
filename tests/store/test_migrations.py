"""The schema comes from the Alembic migrations, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from callboard.store import tables as t
from callboard.store.db import MIGRATIONS, Database, DatabaseError, normalise_url

CORE_TABLES = {
    "accounts",
    "api_keys",
    "flows",
    "flow_revisions",
    "executions",
    "steps",
    "timers",
    "outbox",
    "messages",
    "processed_requests",
}


def _head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def test_migrate_from_empty_creates_every_table(db_url: str) -> None:
    import callboard.runtime.service
    import callboard.runtime.team  # (issue 14: the team tables)
    import callboard.store.event_tables  # noqa: F401  (Event Streams' tables)

    db = Database(db_url)
    try:
        assert set(inspect(db.engine).get_table_names()) == set()
        db.migrate()
        names = set(inspect(db.engine).get_table_names())
        assert names >= CORE_TABLES | {"alembic_version"}
        assert names - {"alembic_version"} == {table.name for table in t.metadata.sorted_tables}
        with db.read() as conn:
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        assert version == _head()
        db.migrate()  # a second start: nothing to do, nothing breaks
        with db.read() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    finally:
        db.dispose()


def test_schema_matches_the_tables_module(db_url: str) -> None:
    """The migration and ``store/tables.py`` agree (columns of every table)."""
    db = Database(db_url)
    try:
        db.migrate()
        insp = inspect(db.engine)
        for table in t.metadata.sorted_tables:
            migrated = {c["name"] for c in insp.get_columns(table.name)}
            assert migrated == {c.name for c in table.columns}, table.name
    finally:
        db.dispose()


def test_one_active_execution_per_flow_and_contact_is_enforced_by_the_database(
    db_url: str,
) -> None:
    from datetime import datetime

    db = Database(db_url)
    db.migrate()
    now = datetime(2026, 1, 1)
    try:
        with db.write() as conn:
            conn.execute(
                t.accounts.insert(),
                [
                    {
                        "sid": "AC1",
                        "friendly_name": "a",
                        "status": "active",
                        "auth_token": "x",
                        "date_created": now,
                        "date_updated": now,
                    }
                ],
            )
            conn.execute(
                t.flows.insert(),
                [
                    {
                        "sid": "FW1",
                        "account_sid": "AC1",
                        "friendly_name": "f",
                        "latest_revision": 1,
                        "test_users": "[]",
                        "date_created": now,
                    }
                ],
            )

        def row(sid: str, active: str | None) -> dict[str, object]:
            return {
                "sid": sid,
                "account_sid": "AC1",
                "flow_sid": "FW1",
                "flow_version": 1,
                "contact_channel_address": "+1",
                "flow_address": "+2",
                "active_contact": active,
                "status": "active" if active else "ended",
                "state": "{}",
                "initiated_by": "RQ",
                "test_user": False,
                "date_created": now,
            }

        with db.write() as conn:
            conn.execute(
                t.executions.insert(), [row("FN1", "+1"), row("FN2", None), row("FN3", None)]
            )
        with pytest.raises(IntegrityError), db.write() as conn:
            conn.execute(t.executions.insert(), [row("FN4", "+1")])
        with db.read() as conn:
            sids = set(conn.execute(select(t.executions.c.sid)).scalars())
        assert sids == {"FN1", "FN2", "FN3"}
    finally:
        db.dispose()


def test_sqlite_is_tuned_for_one_durable_writer(tmp_path: object) -> None:
    db = Database(f"sqlite:///{tmp_path}/sub/dir/cb.db")  # folders are created
    try:
        with db.read() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL: durable
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    finally:
        db.dispose()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_urls(url: str, expected: str) -> None:
    assert normalise_url(url) == expected


@pytest.mark.parametrize("url", ["mysql://u@h/db", "not a url"])
def test_unsupported_database_is_a_clear_error(url: str) -> None:
    with pytest.raises(DatabaseError):
        Database(url)


def test_fast_inserts_store_what_sqlalchemy_would(db_url: str) -> None:
    """``insert_rows`` (raw driver on SQLite) and SQLAlchemy's insert write the same values,
    so reads, ordering and keyset comparisons see no difference; errors are SQLAlchemy's."""
    from datetime import datetime

    from callboard.store.db import insert_rows

    db = Database(db_url)
    db.migrate()
    when = datetime(2026, 1, 2, 3, 4, 5)  # no microseconds: the tricky case for text dates
    row = {
        "sid": "AC1",
        "friendly_name": "a",
        "status": "active",
        "auth_token": "x",
        "date_created": when,
        "date_updated": when.replace(microsecond=7),
    }
    try:
        with db.write() as conn:
            insert_rows(conn, t.accounts, [row])
            conn.execute(t.accounts.insert(), [{**row, "sid": "AC2"}])
        with db.read() as conn:
            got = conn.execute(select(t.accounts).order_by(t.accounts.c.sid)).all()
            assert got[0]._mapping["date_created"] == when == got[1]._mapping["date_created"]
            assert got[0]._mapping["date_updated"] == when.replace(microsecond=7)
            found = conn.execute(
                select(t.accounts.c.sid).where(t.accounts.c.date_created == when)
            ).scalars()
            assert sorted(found) == ["AC1", "AC2"]
        with pytest.raises(IntegrityError), db.write() as conn:
            insert_rows(conn, t.accounts, [row])
    finally:
        db.dispose()
