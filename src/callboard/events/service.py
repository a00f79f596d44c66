"""The Events v1 resources over the store: Sinks, Subscriptions, SubscribedEvents, the
type catalogue, delivery failures, and the per-flow event feed for live streams.

Every method takes the caller's ``account_sid`` first; another account's SIDs answer
:class:`NotFound`. Errors are :mod:`callboard.runtime.records` errors, so the API maps
them to Twilio's bodies. Lists page with :func:`callboard.runtime.reading.keyset_page`.
The SQL is the store's (:mod:`callboard.store.event_sinks`,
:mod:`callboard.store.event_deliveries`, :mod:`callboard.store.events`).
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from callboard.engine.core import Env
from callboard.engine.env import SystemEnv
from callboard.events.batches import newest_position, read_events
from callboard.events.envelope import EVENT_TYPES, EventType, sink_test_event
from callboard.events.recording import event_row, wakeup
from callboard.events.records import (
    SINK_STATUSES,
    Failure,
    Sink,
    StoredEvent,
    SubscribedEvent,
    Subscription,
    _description,
    _failure,
    _sink,
    check_type,
    parse_type_spec,
)
from callboard.events.sinks import check_configuration
from callboard.events.subscriptions import SubscriptionService
from callboard.runtime.reading import keyset_page
from callboard.runtime.records import InvalidParameter, NotFound, Page
from callboard.store import event_deliveries as store_deliveries
from callboard.store import event_sinks as store_sinks
from callboard.store.db import Database
from callboard.store.event_subscriptions import delete_sink_subscriptions
from callboard.store.events import insert_event, last_event_id, of_flow
from callboard.store.flows import find_flow
from callboard.store.values import to_db_time

__all__ = [
    "SINK_STATUSES",
    "EventStreams",
    "Failure",
    "Sink",
    "StoredEvent",
    "SubscribedEvent",
    "Subscription",
    "check_type",
    "parse_type_spec",
]


class EventStreams:
    """Sinks, subscriptions (:attr:`subscriptions`, whose public methods are also this
    object's) and the event feed. Thread-safe (no state of its own)."""

    def __init__(self, db: Database, env: Env | None = None) -> None:
        self.db = db
        self.env: Env = env if env is not None else SystemEnv()
        self.subscriptions = subs = SubscriptionService(db, self.env)
        self.create_subscription = subs.create_subscription
        self.fetch_subscription = subs.fetch_subscription
        self.list_subscriptions = subs.list_subscriptions
        self.update_subscription = subs.update_subscription
        self.delete_subscription = subs.delete_subscription
        self.list_subscribed_events = subs.list_subscribed_events
        self.fetch_subscribed_event = subs.fetch_subscribed_event
        self.put_subscribed_event = subs.put_subscribed_event
        self.delete_subscribed_event = subs.delete_subscribed_event

    def _now(self) -> datetime:
        return to_db_time(self.env.now())

    # ------------------------------------------------------------------ sinks

    def _sink_row(self, conn: Connection, account_sid: str, sid: str) -> Any:
        row = store_sinks.find_sink(conn, account_sid, sid)
        if row is None:
            raise NotFound("Sink", sid)
        return row

    def create_sink(
        self, account_sid: str, *, description: str, sink_type: str, configuration: Any
    ) -> Sink:
        text = _description(description)
        config = check_configuration(sink_type, configuration)
        now = self._now()
        sid = "DG" + secrets.token_hex(16)
        row: dict[str, Any] = {
            "sid": sid,
            "account_sid": account_sid,
            "description": text,
            "sink_type": sink_type,
            "configuration": json.dumps(config),
            "status": "initialized",
            "test_id": None,
            "last_error": None,
            "date_created": now,
            "date_updated": now,
        }
        with self.db.write() as conn:
            store_sinks.insert_sink(conn, row)
            return _sink(self._sink_row(conn, account_sid, sid))

    def fetch_sink(self, account_sid: str, sid: str) -> Sink:
        with self.db.read() as conn:
            return _sink(self._sink_row(conn, account_sid, sid))

    def list_sinks(
        self,
        account_sid: str,
        *,
        in_use: bool | None = None,
        status: str | None = None,
        page_size: int = 50,
        page_token: str | None = None,
    ) -> Page[Sink]:
        """Newest first. ``in_use``: only sinks with (or without) a subscription."""
        if status is not None and status not in SINK_STATUSES:
            raise InvalidParameter(
                "Status",
                f"Invalid Status {status!r}: expected one of " + ", ".join(SINK_STATUSES),
            )
        query, cols = store_sinks.sinks_listing(account_sid, status=status, in_use=in_use)
        with self.db.read() as conn:
            return keyset_page(
                conn,
                query,
                kind="sinks",
                cols=cols,
                types=[datetime, str],
                descending=True,
                page_size=page_size,
                page_token=page_token,
                convert=_sink,
            )

    def update_sink(self, account_sid: str, sid: str, *, description: str) -> Sink:
        text = _description(description)
        with self.db.write() as conn:
            self._sink_row(conn, account_sid, sid)
            store_sinks.update_sink(conn, sid, {"description": text, "date_updated": self._now()})
            return _sink(self._sink_row(conn, account_sid, sid))

    def delete_sink(self, account_sid: str, sid: str) -> None:
        """Deletes its subscriptions and pending deliveries too."""
        with self.db.write() as conn:
            self._sink_row(conn, account_sid, sid)
            store_deliveries.delete_sink_deliveries(conn, sid)
            delete_sink_subscriptions(conn, sid)
            store_sinks.delete_sink(conn, sid)

    def test_sink(self, account_sid: str, sid: str) -> str:
        """Queue a ``com.twilio.eventstreams.test-event`` for the sink; returns its
        ``test_id`` (what Validate expects back)."""
        now = self.env.now()
        test_id = "TE" + secrets.token_hex(16)
        event = sink_test_event(test_id, now)
        with self.db.write() as conn:
            self._sink_row(conn, account_sid, sid)
            row = event_row(event, account_sid, None, None, now, dispatched=True)
            event_id = insert_event(conn, row)
            store_deliveries.insert_deliveries(
                conn,
                [
                    {
                        "account_sid": account_sid,
                        "sink_sid": sid,
                        "subscription_sid": None,
                        "event_id": event_id,
                        "event_sid": event["id"],
                        "type": event["type"],
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": to_db_time(now),
                        "date_created": to_db_time(now),
                    }
                ],
            )
            store_sinks.update_sink(
                conn,
                sid,
                {"test_id": test_id, "status": "validating", "date_updated": to_db_time(now)},
            )
        wakeup.set()
        return test_id

    def validate_sink(self, account_sid: str, sid: str, test_id: str) -> bool:
        """True (and the sink becomes ``active``) when ``test_id`` is the last Test's."""
        with self.db.write() as conn:
            row = self._sink_row(conn, account_sid, sid)
            if not test_id or row.test_id != test_id:
                return False
            store_sinks.update_sink(
                conn, sid, {"status": "active", "last_error": None, "date_updated": self._now()}
            )
            return True

    def list_failures(
        self,
        account_sid: str,
        sink_sid: str,
        *,
        page_size: int = 50,
        page_token: str | None = None,
    ) -> Page[Failure]:
        """Deliveries given up on, newest first."""
        query, cols = store_deliveries.failures_listing(sink_sid)
        with self.db.read() as conn:
            self._sink_row(conn, account_sid, sink_sid)
            return keyset_page(
                conn,
                query,
                kind="failures",
                cols=cols,
                types=[int],
                descending=True,
                page_size=page_size,
                page_token=page_token,
                convert=_failure,
            )

    def pending_count(self, account_sid: str, sink_sid: str) -> int:
        with self.db.read() as conn:
            self._sink_row(conn, account_sid, sink_sid)
            return store_deliveries.count_pending(conn, sink_sid)

    # ------------------------------------------------------------------ catalogue

    @staticmethod
    def event_types(schema_id: str | None = None) -> list[EventType]:
        return [et for et in EVENT_TYPES.values() if schema_id is None or et.schema_id == schema_id]

    # ------------------------------------------------------------------ feed (SSE)

    def check_flow(self, account_sid: str, flow_sid: str) -> int:
        """NotFound unless the flow is the account's; returns the newest event's position
        (:mod:`callboard.events.batches`)."""
        with self.db.read() as conn:
            if find_flow(conn, account_sid, flow_sid) is None:
                raise NotFound("Flow", flow_sid)
            last = last_event_id(conn)
        return newest_position(last)

    def flow_events(
        self, account_sid: str, flow_sid: str, after_id: int, limit: int = 500
    ) -> list[StoredEvent]:
        """The flow's events at positions after ``after_id``, oldest first (at least
        ``limit`` of them when there are that many, see :func:`read_events`)."""
        with self.db.read() as conn:
            return read_events(conn, *of_flow(account_sid, flow_sid), after=after_id, limit=limit)
