"""Idle costs nothing: the background probes use their partial indexes (0900) on a
large table that was never analysed (no planner statistics, as with autovacuum off)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Select, func, select

from callboard.store import tables as t
from callboard.store.db import Database
from callboard.store.event_deliveries import DELIVERIES
from callboard.store.event_tables import events
from callboard.store.events import UNDISPATCHED_PROBE
from callboard.store.outbox import OUTBOX

N = 20_000
NOW = datetime(2026, 12, 3, 12, 0, 0)


def _plan(conn: Connection, query: Select[Any]) -> str:
    compiled = query.compile(dialect=conn.dialect)
    if conn.dialect.name == "sqlite":
        params = tuple(compiled.params[k] for k in compiled.positiontup or ())
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", params).all()
        return "\n".join(str(r[-1]) for r in rows)
    rows = conn.exec_driver_sql(f"EXPLAIN {compiled}", dict(compiled.params)).all()
    return "\n".join(str(r[0]) for r in rows)


def test_the_probes_use_the_partial_indexes_without_statistics(db_url: str) -> None:
    db = Database(db_url)
    try:
        db.migrate()
        with db.write() as conn:
            conn.execute(
                t.outbox.insert(),
                [
                    {
                        "kind": "send_message",
                        "token": f"t{i}",
                        "payload": "{}",
                        "status": "done",
                        "attempts": 1,
                        "available_at": NOW - timedelta(seconds=i),
                        "date_created": NOW,
                    }
                    for i in range(N)
                ],
            )
            conn.execute(
                events.insert(),
                [
                    {
                        "sid": f"EZ{i:032x}",
                        "account_sid": "AC" + "0" * 32,
                        "type": "com.twilio.studio.flow.step.ended",
                        "payload": "{}",
                        "dispatched": True,
                        "date_created": NOW,
                    }
                    for i in range(N)
                ],
            )
        with db.read() as conn:
            probes = {
                # the queues' probe (LeasedQueue.any_due), the fan-out's probe and claim
                "ix_outbox_due": OUTBOX.probe(NOW),
                "ix_event_deliveries_due": DELIVERIES.probe(NOW),
                "ix_events_undispatched": UNDISPATCHED_PROBE,
            }
            for index, query in probes.items():
                plan = _plan(conn, query)
                assert index in plan, plan
                assert "Seq Scan" not in plan, plan
            # the backlog Health and /metrics read: over the partial indexes too
            waiting = select(func.count()).select_from(t.outbox).where(t.OUTBOX_WAITING)
            failed = select(func.count()).select_from(t.outbox).where(t.OUTBOX_FAILED)
            for index, query in (("ix_outbox_due", waiting), ("ix_outbox_failed", failed)):
                plan = _plan(conn, query)
                assert index in plan and "Seq Scan" not in plan, plan
    finally:
        db.dispose()
