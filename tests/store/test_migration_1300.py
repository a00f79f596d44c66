"""Migration 1300: ``ix_processed_requests_created`` holds only the requests of no
execution; the statements on ``processed_requests`` still use an index, and back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, delete, inspect

from callboard.store import tables as t
from callboard.store.db import MIGRATIONS, Database
from callboard.store.requests import prune_requests, remember_request, stored_answer

NOW = datetime(2026, 12, 3, 12, 0, 0)
_p = t.processed_requests


def _alembic(db: Database, action: str, target: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with db.engine.connect() as conn:
        config.attributes["connection"] = conn
        getattr(command, action)(config, target)
        conn.commit()


def _plan(conn: Connection, statement: Any) -> str:
    compiled = statement.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    if conn.dialect.name == "sqlite":
        params = tuple(compiled.params[k] for k in compiled.positiontup or ())
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", params).all()
        return "\n".join(str(r[-1]) for r in rows)
    conn.exec_driver_sql("SET enable_seqscan = off")  # a tiny table: ask if it could
    rows = conn.exec_driver_sql(f"EXPLAIN {compiled}", dict(compiled.params)).all()
    return "\n".join(str(r[0]) for r in rows)


def _indexed(plan: str, *names: str) -> None:
    assert any(name in plan for name in names), plan
    assert "Seq Scan" not in plan and "SCAN processed_requests" not in plan, plan


def _created_index(db: Database) -> dict[str, Any]:
    (index,) = [
        i
        for i in inspect(db.engine).get_indexes("processed_requests")
        if i["name"] == "ix_processed_requests_created"
    ]
    return dict(index)


def _partial(db: Database) -> bool:
    index = _created_index(db)
    where = index.get("dialect_options", {}).get(f"{db.dialect}_where")
    return where is not None and "execution_sid" in str(where)


def test_1300_the_statements_use_an_index_and_it_downgrades(db_url: str) -> None:
    db = Database(db_url)
    try:
        db.migrate()
        assert _partial(db)
        with db.write() as conn:
            for n in range(50):
                sid = None if n % 2 else f"FN{n:032x}"
                remember_request(conn, f"k{n}", "AC1", "{}", sid, NOW)
        with db.read() as conn:
            prune = delete(_p).where(t.REQUEST_WITHOUT_EXECUTION, _p.c.date_created <= NOW)
            _indexed(_plan(conn, prune), "ix_processed_requests_")  # either serves it
            by_execution = delete(_p).where(_p.c.execution_sid.in_(["FN1", "FN2"]))
            _indexed(_plan(conn, by_execution), "ix_processed_requests_execution")
            by_key = _p.select().where(_p.c.key == "k1")
            _indexed(_plan(conn, by_key), "pk_processed_requests", "sqlite_autoindex")
        with db.write() as conn:
            prune_requests(conn, NOW)
        with db.read() as conn:
            assert stored_answer(conn, "k1") is None and stored_answer(conn, "k0") == "{}"
        _alembic(db, "downgrade", "1200")
        assert not _partial(db)
        assert _created_index(db)["column_names"] == ["date_created"]
        _alembic(db, "upgrade", "head")
        assert _partial(db)
    finally:
        db.dispose()
