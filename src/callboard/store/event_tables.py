"""The Event Streams tables (SQLAlchemy Core), on the store's shared ``metadata``.

* ``event_sinks`` (DG…) and ``event_subscriptions`` (DF…) with their
  ``event_subscribed_types``: the Events v1 resources.
* ``events``: the outbox. One row per run (all the CloudEvents one delivery to an
  execution announces, :mod:`callboard.events.batches`; rows written before hold one
  event each), written in the same transaction as the execution change it describes
  (:mod:`callboard.events.recording`). ``dispatched`` is false until the delivery worker
  has fanned the row's events out to the matching subscriptions; ``id`` orders events
  for the live stream (SSE ``Last-Event-ID`` is a position: ``id`` × 64 + index).
* ``event_deliveries``: one row per (event, sink) still to deliver, or given up on
  (``status = failed``). Delivered rows are deleted. ``next_attempt_at`` is both the
  retry time and the claim lease (a crashed sender's rows become due again).

Their SQL is in one store module per table: :mod:`callboard.store.event_sinks`,
:mod:`callboard.store.event_subscriptions` (with the subscribed types),
:mod:`callboard.store.events` and :mod:`callboard.store.event_deliveries`; Event Streams
(:mod:`callboard.events`) calls those. The migration ``0100_event_streams`` creates them.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    literal_column,
)

from callboard.store.tables import SID, metadata

__all__ = [
    "DELIVERY_WAITING",
    "UNDISPATCHED",
    "event_deliveries",
    "event_sinks",
    "event_subscribed_types",
    "event_subscriptions",
    "events",
]

event_sinks = Table(
    "event_sinks",
    metadata,
    Column("sid", String(SID), primary_key=True),
    Column("account_sid", String(SID), nullable=False),
    Column("description", String(255), nullable=False),
    Column("sink_type", String(32), nullable=False),
    Column("configuration", Text, nullable=False),  # JSON object
    Column("status", String(16), nullable=False),  # initialized|validating|active|failed
    Column("test_id", String(64), nullable=True),  # the last Test's id (for Validate)
    Column("last_error", Text, nullable=True),
    Column("date_created", DateTime, nullable=False),
    Column("date_updated", DateTime, nullable=True),
    Index("ix_event_sinks_account_created", "account_sid", "date_created", "sid"),
)

event_subscriptions = Table(
    "event_subscriptions",
    metadata,
    Column("sid", String(SID), primary_key=True),
    Column("account_sid", String(SID), nullable=False),
    Column(
        "sink_sid", String(SID), ForeignKey("event_sinks.sid", ondelete="CASCADE"), nullable=False
    ),
    Column("description", String(255), nullable=False),
    Column("date_created", DateTime, nullable=False),
    Column("date_updated", DateTime, nullable=True),
    Index("ix_event_subscriptions_account_created", "account_sid", "date_created", "sid"),
    Index("ix_event_subscriptions_sink", "sink_sid"),
)

event_subscribed_types = Table(
    "event_subscribed_types",
    metadata,
    Column(
        "subscription_sid",
        String(SID),
        ForeignKey("event_subscriptions.sid", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("type", String(128), primary_key=True),
    Column("account_sid", String(SID), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Index("ix_event_subscribed_types_account_type", "account_sid", "type"),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sid", String(SID), nullable=False),  # the CloudEvent id (EZ…), "" for a run's row
    Column("account_sid", String(SID), nullable=False),
    Column("flow_sid", String(SID), nullable=True),
    Column("execution_sid", String(SID), nullable=True),
    Column("type", String(128), nullable=False),  # "" for a run's row (events.batches)
    Column("payload", Text, nullable=False),  # the CloudEvent JSON ("" when payload_z: 0950)
    Column("payload_z", LargeBinary, nullable=True),  # events.payloads (0950), events.batches
    Column("dispatched", Boolean, nullable=False, default=False),
    Column("date_created", DateTime, nullable=False),
    Index("ix_events_flow_id", "flow_sid", "id"),
    Index("ix_events_created", "date_created"),
)

event_deliveries = Table(
    "event_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_sid", String(SID), nullable=False),
    Column(
        "sink_sid", String(SID), ForeignKey("event_sinks.sid", ondelete="CASCADE"), nullable=False
    ),
    Column(
        "subscription_sid",
        String(SID),
        ForeignKey("event_subscriptions.sid", ondelete="CASCADE"),
        nullable=True,  # NULL for Sink Test events
    ),
    Column("event_id", Integer, ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    Column("event_sid", String(SID), nullable=False),
    Column("type", String(128), nullable=False),
    Column("status", String(16), nullable=False),  # pending | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("last_status_code", Integer, nullable=True),
    Column("date_created", DateTime, nullable=False),
    Column("date_updated", DateTime, nullable=True),
    Index("ix_event_deliveries_sink_status", "sink_sid", "status", "id"),
)

# Partial indexes (0900) for the background probes, usable without planner statistics:
# the events not yet fanned out, and the deliveries waiting. The probes' WHERE clauses
# are these very expressions (literals, not bind parameters, so that a prepared plan
# matches the predicates too).
UNDISPATCHED = events.c.dispatched == False  # noqa: E712  (renders "= false" / "= 0")
DELIVERY_WAITING = event_deliveries.c.status == literal_column("'pending'")
Index(
    "ix_events_undispatched", events.c.id, postgresql_where=UNDISPATCHED, sqlite_where=UNDISPATCHED
)
Index(
    "ix_event_deliveries_due",
    event_deliveries.c.next_attempt_at,
    postgresql_where=DELIVERY_WAITING,
    sqlite_where=DELIVERY_WAITING,
)
