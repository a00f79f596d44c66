"""The SQL of Event Streams' ``events`` table (store/events.py), on SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from callboard.store import events as store_events
from callboard.store.db import Database
from callboard.store.event_deliveries import insert_deliveries
from callboard.store.event_sinks import insert_sink

NOW = datetime(2026, 12, 3, 12, 0, 0)
ACCOUNT = "AC" + "1" * 32


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    database.migrate()
    yield database
    database.dispose()


def _row(type_: str, flow_sid: str = "FW1", **values: Any) -> dict[str, Any]:
    return {
        "sid": "EZ" + "0" * 32 if type_ else "",
        "account_sid": ACCOUNT,
        "flow_sid": flow_sid,
        "execution_sid": "FN1",
        "type": type_,
        "payload": "{}" if type_ else "",
        "payload_z": None if type_ else b"\x02",
        "dispatched": False,
        "date_created": NOW,
        **values,
    }


def test_reading_keeps_the_runs_rows_from_the_floor_and_later_single_events(
    db: Database,
) -> None:
    with db.write() as conn:
        ids = [store_events.insert_event(conn, _row(t)) for t in ("a", "", "b", "", "c")]
        other = store_events.insert_event(conn, _row("d", flow_sid="FW2"))
    with db.read() as conn:

        def read(floor: int, after: int, limit: int | None = None) -> list[int]:
            where = store_events.of_flow(ACCOUNT, "FW1")
            rows = store_events.read_rows(conn, *where, floor=floor, after=after, limit=limit)
            return [r.id for r in rows]

        assert read(0, 0) == ids
        # a run's row at or after the floor is read whatever ``after`` says (its events
        # may be after it); a single event's row only when its id is after ``after``
        assert read(ids[1], ids[3]) == [ids[1], ids[3], ids[4]]
        assert read(ids[1], ids[3], limit=2) == [ids[1], ids[3]]
        assert store_events.last_event_id(conn) == other


def test_the_fan_out_reads_and_marks_the_undispatched_rows(db: Database) -> None:
    with db.write() as conn:
        assert not store_events.any_undispatched(conn)
        store_events.insert_events(conn, [_row(""), _row(""), _row("")])
    with db.write() as conn:
        assert store_events.any_undispatched(conn)
        rows = store_events.undispatched_rows(conn, 2, skip_locked=db.for_update())
        assert len(rows) == 2
        store_events.mark_dispatched(conn, [r.id for r in rows])
    with db.read() as conn:
        every = [r.id for r in store_events.read_rows(conn, floor=0, after=0, limit=None)]
        assert [r.id for r in rows] == every[:2]  # the oldest first
        left = store_events.undispatched_rows(conn, 10, skip_locked=False)
        assert [r.id for r in left] == every[2:]


def test_pruning_keeps_what_a_delivery_or_the_retention_still_needs(db: Database) -> None:
    old = NOW - timedelta(days=2)
    with db.write() as conn:
        gone = store_events.insert_event(conn, _row("a", dispatched=True, date_created=old))
        needed = store_events.insert_event(conn, _row("a", dispatched=True, date_created=old))
        waiting = store_events.insert_event(conn, _row("a", dispatched=False, date_created=old))
        recent = store_events.insert_event(conn, _row("a", dispatched=True))
        insert_sink(
            conn,
            {
                "sid": "DG1",
                "account_sid": ACCOUNT,
                "description": "",
                "sink_type": "webhook",
                "configuration": "{}",
                "status": "active",
                "date_created": NOW,
            },
        )
        insert_deliveries(
            conn,
            [
                {
                    "account_sid": ACCOUNT,
                    "sink_sid": "DG1",
                    "subscription_sid": None,
                    "event_id": needed,
                    "event_sid": "EZ" + "0" * 32,
                    "type": "a",
                    "status": "failed",
                    "attempts": 1,
                    "next_attempt_at": NOW,
                    "date_created": NOW,
                }
            ],
        )
    with db.write() as conn:
        assert store_events.prune_events(conn, NOW - timedelta(days=1)) == 1
    with db.read() as conn:
        kept = store_events.read_rows(conn, floor=0, after=0, limit=None)
        assert [r.id for r in kept] == [needed, waiting, recent]
        assert gone not in [r.id for r in kept]
