"""Migration 0500 (issue 13): the To/From active-execution key, and back."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, select

from callboard.runtime.service import Callboard
from callboard.store import tables as t
from callboard.store.db import MIGRATIONS, Database
from tests.runtime.conftest import ask_flow


def _alembic(db: Database, action: str, target: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with db.engine.connect() as conn:
        config.attributes["connection"] = conn
        getattr(command, action)(config, target)
        conn.commit()


def _index_columns(db: Database) -> list[str]:
    (index,) = [
        i
        for i in inspect(db.engine).get_indexes("executions")
        if i["name"] == "ux_executions_active"
    ]
    return list(index["column_names"])


def test_0500_keys_active_executions_on_to_and_from_and_downgrades(db_url: str) -> None:
    service = Callboard.open(db_url)
    try:
        db = service.db
        assert _index_columns(db) == ["flow_sid", "active_contact", "flow_address"]
        account = service.create_account("m")
        flow_sid = service.create_flow(
            account.sid, friendly_name="f", status="published", definition=ask_flow()
        ).sid
        a = service.create_execution(account.sid, flow_sid, to="+1555", from_="+1000")
        b = service.create_execution(account.sid, flow_sid, to="+1555", from_="+2000")
        _alembic(db, "downgrade", "0300")
        assert _index_columns(db) == ["flow_sid", "active_contact"]
        with db.read() as conn:
            slots = dict(
                conn.execute(select(t.executions.c.sid, t.executions.c.active_contact)).all()
            )
        # the older keeps the contact's slot; the newer stays active outside the index
        assert slots == {a.sid: "+1555", b.sid: b.sid}
        _alembic(db, "upgrade", "head")
        assert _index_columns(db) == ["flow_sid", "active_contact", "flow_address"]
    finally:
        service.close()
