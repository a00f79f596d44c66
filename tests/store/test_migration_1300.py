"""Migration 1300: partial indexes for retention's probes (the processed requests of no
execution, stuck active executions, ended ones); every statement that used the indexes
it replaced still uses an index (EXPLAIN), and it downgrades."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, delete, func, inspect, select

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
    assert "SCAN executions" not in plan, plan


def _index(db: Database, table: str, name: str) -> dict[str, Any]:
    (index,) = [i for i in inspect(db.engine).get_indexes(table) if i["name"] == name]
    return dict(index)


PARTIAL = {  # name → (table, columns, what its WHERE names)
    "ix_processed_requests_created": ("processed_requests", ["date_created"], "execution_sid"),
    "ix_executions_status_created": ("executions", ["status", "date_created"], "active"),
    "ix_executions_status_ended": ("executions", ["status", "ended_at"], "ended"),
}


def _partial(db: Database) -> bool:
    found = []
    for name, (table, columns, names) in PARTIAL.items():
        index = _index(db, table, name)
        where = index.get("dialect_options", {}).get(f"{db.dialect}_where")
        found.append(where is not None and names in str(where))
        if found[-1]:
            assert index["column_names"] == columns
    assert len(set(found)) == 1, found
    return found[0]


def _execution_probes() -> list[tuple[Any, str]]:
    """store/executions.py's retention statements (count_…, …_sids), with their index."""
    e = t.executions
    ended = (t.EXECUTION_ENDED, e.c.ended_at <= NOW)
    stuck = (t.EXECUTION_ACTIVE, e.c.date_created <= NOW)
    return [
        (select(func.count()).select_from(e).where(*ended), "ix_executions_status_ended"),
        (
            select(e.c.sid).where(*ended).order_by(e.c.ended_at).limit(5),
            "ix_executions_status_ended",
        ),
        (select(func.count()).select_from(e).where(*stuck), "ix_executions_status_created"),
        (
            select(e.c.sid).where(*stuck).order_by(e.c.date_created).limit(5),
            "ix_executions_status_created",
        ),
    ]


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
            for probe, index in _execution_probes():
                _indexed(_plan(conn, probe), index)
        with db.write() as conn:
            prune_requests(conn, NOW)
        with db.read() as conn:
            assert stored_answer(conn, "k1") is None and stored_answer(conn, "k0") == "{}"
        answers = _usual_answers()
        with db.write() as conn:
            for n, answer in enumerate(answers):
                remember_request(conn, f"a{n}", "AC1", answer, f"FN{n:032x}", NOW)
            stored = conn.execute(select(_p.c.result).where(_p.c.key == "a0")).scalar()
            assert stored is not None and stored.startswith("@")  # stored short
        _alembic(db, "downgrade", "1200")
        with db.read() as conn:  # in full again: what the code before 1300 reads
            for n, answer in enumerate(answers):
                raw = conn.execute(select(_p.c.result).where(_p.c.key == f"a{n}")).scalar()
                assert raw == answer
        assert not _partial(db)
        assert _index(db, "executions", "ix_executions_status_ended")["column_names"] == [
            "status",
            "ended_at",
        ]
        _alembic(db, "upgrade", "head")
        assert _partial(db)
    finally:
        db.dispose()


def _usual_answers() -> list[str]:
    """Answers as the message webhook stores them: each usual ending, and others."""
    twiml = r'"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>"'
    out = []
    for n, (started, accepted, status) in enumerate(
        (s, a, st)
        for s in ("true", "false")
        for a in ("true", "false")
        for st in ('"ended"', '"active"', "null")
    ):
        out.append(
            f'{{"execution_sid":"FN{n:032x}","started":{started},"accepted":{accepted},'
            f'"twiml":{twiml},"status":{status},"warnings":[]}}'
        )
    other = "<Response><Message>hi</Message></Response>"
    out.append(
        f'{{"execution_sid":"FN{len(out):032x}","started":true,"twiml":"{other}",'
        '"warnings":[{"code":1}]}'
    )
    return out
