"""The SQL of Event Streams' deliveries (store/event_deliveries.py), with the sinks' and
subscriptions' deletes it goes with, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, func, select

from callboard.store import event_deliveries as deliveries
from callboard.store import event_sinks as sinks
from callboard.store import event_subscriptions as subscriptions
from callboard.store.db import Database
from callboard.store.event_tables import event_deliveries, event_subscribed_types
from callboard.store.events import insert_event

NOW = datetime(2026, 12, 3, 12, 0, 0)
ACCOUNT = "AC" + "1" * 32


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    database.migrate()
    yield database
    database.dispose()


def _sink(conn: Connection, sid: str) -> None:
    sinks.insert_sink(
        conn,
        {
            "sid": sid,
            "account_sid": ACCOUNT,
            "description": sid,
            "sink_type": "webhook",
            "configuration": "{}",
            "status": "active",
            "test_id": None,
            "last_error": None,
            "date_created": NOW,
            "date_updated": NOW,
        },
    )


def _subscription(conn: Connection, sid: str, sink_sid: str) -> None:
    subscriptions.insert_subscription(
        conn,
        {
            "sid": sid,
            "account_sid": ACCOUNT,
            "sink_sid": sink_sid,
            "description": sid,
            "date_created": NOW,
            "date_updated": NOW,
        },
    )
    subscriptions.insert_subscribed_types(
        conn,
        [{"subscription_sid": sid, "type": "t", "account_sid": ACCOUNT, "schema_version": 1}],
    )


def _delivery(event_id: int, sink_sid: str, sub_sid: str | None, **values: Any) -> dict[str, Any]:
    return {
        "account_sid": ACCOUNT,
        "sink_sid": sink_sid,
        "subscription_sid": sub_sid,
        "event_id": event_id,
        "event_sid": "EZ" + "0" * 32,
        "type": "t",
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": NOW,
        "date_created": NOW,
        **values,
    }


def _event(conn: Connection) -> int:
    row = {
        "sid": "EZ" + "0" * 32,
        "account_sid": ACCOUNT,
        "flow_sid": None,
        "execution_sid": None,
        "type": "t",
        "payload": "{}",
        "payload_z": None,
        "dispatched": True,
        "date_created": NOW,
    }
    return insert_event(conn, row)


def test_the_backlog_counts_waiting_retrying_and_failed_deliveries(db: Database) -> None:
    with db.write() as conn:
        _sink(conn, "DG1")
        event_id = _event(conn)
        later = NOW + timedelta(minutes=5)
        deliveries.insert_deliveries(
            conn,
            [
                _delivery(event_id, "DG1", None),
                _delivery(event_id, "DG1", None, attempts=2, next_attempt_at=later),
                _delivery(event_id, "DG1", None, status="failed", attempts=9),
            ],
        )
    with db.read() as conn:
        backlog = deliveries.delivery_backlog(conn, NOW)
        assert (backlog.pending, backlog.retrying, backlog.failed) == (2, 1, 1)
        assert backlog.oldest_due == NOW
        assert deliveries.count_pending(conn, "DG1") == 2
        assert deliveries.earliest_retry(conn, "DG1") == later
        assert deliveries.any_due(conn, NOW, None)
        assert not deliveries.any_due(conn, NOW, {"DG1"})


def test_deleting_a_sink_takes_its_subscriptions_and_deliveries_only(db: Database) -> None:
    with db.write() as conn:
        for n in ("1", "2"):
            _sink(conn, "DG" + n)
            _subscription(conn, "DF" + n, "DG" + n)
        event_id = _event(conn)
        deliveries.insert_deliveries(
            conn, [_delivery(event_id, "DG1", "DF1"), _delivery(event_id, "DG2", "DF2")]
        )
    with db.write() as conn:
        deliveries.delete_sink_deliveries(conn, "DG1")
        subscriptions.delete_sink_subscriptions(conn, "DG1")
        sinks.delete_sink(conn, "DG1")
    with db.read() as conn:
        assert sinks.find_sink(conn, ACCOUNT, "DG1") is None
        assert sinks.find_sink(conn, ACCOUNT, "DG2") is not None
        assert subscriptions.find_subscription(conn, ACCOUNT, "DF1") is None
        assert subscriptions.find_subscription(conn, ACCOUNT, "DF2") is not None
        types = select(event_subscribed_types.c.subscription_sid)
        assert list(conn.execute(types).scalars()) == ["DF2"]
        left = select(event_deliveries.c.sink_sid)
        assert list(conn.execute(left).scalars()) == ["DG2"]
        assert conn.execute(select(func.count()).select_from(event_deliveries)).scalar() == 1
