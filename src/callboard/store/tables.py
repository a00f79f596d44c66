"""The database schema (SQLAlchemy Core). Migrations in ``store/migrations`` create it.

Conventions: SIDs are ``String(34)`` primary keys; times are naive UTC ``DateTime``
(microseconds kept, so ordering by time is exact); JSON values are stored as text
(portable between SQLite and PostgreSQL, and fast to write).

One active execution per flow for the same To/From combination: ``executions.active_contact``
holds the contact address while the execution is active and NULL once it ends; the
unique index ``ux_executions_active`` on ``(flow_sid, active_contact, flow_address)``
enforces it in the database (migration 0500; it was ``(flow_sid, active_contact)``).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    literal_column,
)

__all__ = [
    "OUTBOX_FAILED",
    "OUTBOX_WAITING",
    "accounts",
    "api_keys",
    "calls",
    "credentials_generation",
    "executions",
    "flow_revisions",
    "flows",
    "messages",
    "metadata",
    "notifications",
    "outbox",
    "processed_requests",
    "steps",
    "timers",
]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

SID = 34

accounts = Table(
    "accounts",
    metadata,
    Column("sid", String(SID), primary_key=True),
    Column("friendly_name", String(255), nullable=False),
    Column("status", String(16), nullable=False, default="active"),
    Column("auth_token", String(64), nullable=False),
    Column("date_created", DateTime, nullable=False),
    Column("date_updated", DateTime, nullable=False),
    # issue 4: the Twilio account this account's channel uses (NULL: the server-wide
    # default, else the simulator channel)
    Column("twilio_account_sid", String(SID), nullable=True),
    Column("twilio_auth_token", String(128), nullable=True),
    # issue 13 (0500): REST-created executions allowed per second per flow; NULL: no limit
    Column("rest_executions_per_second", Integer, nullable=True),
)

# issue 11: bumped (by triggers, migration 1200) in the transaction of every change to
# what HTTP Basic authentication reads, so each process's credentials cache knows when
# it is stale (callboard.store.credentials)
credentials_generation = Table(
    "credentials_generation",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("generation", BigInteger, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("sid", String(SID), primary_key=True),
    Column(
        "account_sid", String(SID), ForeignKey("accounts.sid", ondelete="CASCADE"), nullable=False
    ),
    Column("friendly_name", String(255), nullable=False),
    Column("secret_hash", String(255), nullable=False),  # scrypt$n$r$p$salt$hash
    Column("date_created", DateTime, nullable=False),
    Index("ix_api_keys_account", "account_sid"),
)

flows = Table(
    "flows",
    metadata,
    Column("sid", String(SID), primary_key=True),
    Column(
        "account_sid", String(SID), ForeignKey("accounts.sid", ondelete="CASCADE"), nullable=False
    ),
    Column("friendly_name", String(255), nullable=False),
    Column("latest_revision", Integer, nullable=False),
    Column("latest_published", Integer, nullable=True),
    Column("test_users", Text, nullable=False, default="[]"),  # JSON array
    Column("date_created", DateTime, nullable=False),
    Column("date_updated", DateTime, nullable=True),
    Index("ix_flows_account_created", "account_sid", "date_created", "sid"),
)

# Flow tests stored with a flow (issue 15): each save is a new version, tagged with the
# flow revision that was latest then.
flow_tests = Table(
    "flow_tests",
    metadata,
    Column("flow_sid", String(SID), ForeignKey("flows.sid", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("account_sid", String(SID), nullable=False),
    Column("flow_revision", Integer, nullable=False),
    Column("text", Text, nullable=False),  # the test file (YAML or JSON)
    Column("require_green", Boolean, nullable=False, default=False),
    Column("date_created", DateTime, nullable=False),
)

flow_revisions = Table(
    "flow_revisions",
    metadata,
    Column("flow_sid", String(SID), ForeignKey("flows.sid", ondelete="CASCADE"), primary_key=True),
    Column("revision", Integer, primary_key=True, autoincrement=False),
    Column("account_sid", String(SID), nullable=False),
    Column("friendly_name", String(255), nullable=False),
    Column("author_sid", String(SID), nullable=True),
    Column("definition", Text, nullable=False),  # JSON
    Column("status", String(16), nullable=False),  # draft | published
    Column("valid", Boolean, nullable=False),
    Column("errors", Text, nullable=False, default="[]"),  # JSON array
    Column("warnings", Text, nullable=False, default="[]"),  # JSON array
    Column("commit_message", Text, nullable=True),
    Column("date_created", DateTime, nullable=False),
    Column("date_updated", DateTime, nullable=True),
)

executions = Table(
    "executions",
    metadata,
    Column("sid", String(SID), primary_key=True),
    Column("account_sid", String(SID), nullable=False),
    Column("flow_sid", String(SID), ForeignKey("flows.sid", ondelete="CASCADE"), nullable=False),
    Column("flow_version", Integer, nullable=False),
    Column("contact_channel_address", String(320), nullable=False),
    Column("flow_address", String(320), nullable=False),
    Column("active_contact", String(320), nullable=True),  # set while active
    Column("status", String(16), nullable=False),  # active | ended
    Column("state", Text, nullable=False),  # ExecutionState JSON ("" when in state_z)
    Column("state_z", LargeBinary, nullable=True),  # packed state (migration 1000)
    Column("initiated_by", String(64), nullable=False),
    Column("test_user", Boolean, nullable=False, default=False),
    Column("date_created", DateTime, nullable=False),
    Column("date_updated", DateTime, nullable=True),
    Column("ended_at", DateTime, nullable=True),
    Column("ended_reason", String(32), nullable=True),
    # bumped by every update: a run computed on a read snapshot is written only if the
    # row still has the version it read (migration 1000)
    Column("version", Integer, nullable=False, default=0, server_default="0"),
    Index("ux_executions_active", "flow_sid", "active_contact", "flow_address", unique=True),
    Index("ix_executions_flow_created", "flow_sid", "date_created", "sid"),
)
# Retention's probes (store/executions.py: stuck active executions by creation, ended
# ones by end) use these partial indexes (1300; full indexes before): each row is in
# one of them only. Literal values, never bind parameters (see OUTBOX_WAITING).
EXECUTION_ACTIVE = executions.c.status == literal_column("'active'")
EXECUTION_ENDED = executions.c.status == literal_column("'ended'")
Index(
    "ix_executions_status_created",
    executions.c.status,
    executions.c.date_created,
    postgresql_where=EXECUTION_ACTIVE,
    sqlite_where=EXECUTION_ACTIVE,
)
Index(
    "ix_executions_status_ended",
    executions.c.status,
    executions.c.ended_at,
    postgresql_where=EXECUTION_ENDED,
    sqlite_where=EXECUTION_ENDED,
)

steps = Table(
    "steps",
    metadata,
    Column("sid", String(SID), primary_key=True),
    Column(
        "execution_sid",
        String(SID),
        ForeignKey("executions.sid", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("seq", Integer, nullable=False),
    Column("name", String(64), nullable=False),
    Column("transitioned_from", String(255), nullable=False),
    Column("transitioned_to", String(255), nullable=False),
    Column("type", String(64), nullable=False),
    Column("subflow_sid", String(SID), nullable=True),
    Column("parent_step_sid", String(SID), nullable=True),
    Column("context", Text, nullable=False),  # JSON; "" when context_z holds it (0950)
    Column("context_base", Integer, nullable=True),  # seq of the step patched against (0950)
    Column("context_z", LargeBinary, nullable=True),  # store.step_contexts (0950)
    Column("warnings", Text, nullable=True),  # JSON array, NULL when none
    Column("date_created", DateTime, nullable=False),
    Index("ux_steps_execution_seq", "execution_sid", "seq", unique=True),
)

timers = Table(
    "timers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "execution_sid",
        String(SID),
        ForeignKey("executions.sid", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("token", String(64), nullable=False),
    Column("due_at", DateTime, nullable=False),
    Column("date_created", DateTime, nullable=False),
    Index("ix_timers_due", "due_at"),
    Index("ux_timers_execution_token", "execution_sid", "token", unique=True),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "execution_sid",
        String(SID),
        ForeignKey("executions.sid", ondelete="CASCADE"),
        nullable=True,
    ),
    Column("kind", String(32), nullable=False),  # the effect's kind (http_request...)
    Column("token", String(64), nullable=False),
    Column("payload", Text, nullable=False),  # effect JSON
    Column("status", String(16), nullable=False),  # pending | running | done | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("available_at", DateTime, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("date_created", DateTime, nullable=False),
    Column("date_updated", DateTime, nullable=True),
)
# The outbox's due probe and claim (store/outbox.py) use this partial index (0900): it
# holds only waiting jobs, so it stays small however many finished ones the table keeps,
# and the planner picks it without statistics. Literal values, never bind parameters,
# so that a prepared (generic) plan still matches the predicate.
OUTBOX_WAITING = outbox.c.status.in_([literal_column("'pending'"), literal_column("'running'")])
Index(
    "ix_outbox_due",
    outbox.c.available_at,
    postgresql_where=OUTBOX_WAITING,
    sqlite_where=OUTBOX_WAITING,
)
# Jobs given up on, for the backlog (Health, /metrics): counted without reading the done ones.
OUTBOX_FAILED = outbox.c.status == literal_column("'failed'")
Index("ix_outbox_failed", outbox.c.id, postgresql_where=OUTBOX_FAILED, sqlite_where=OUTBOX_FAILED)

messages = Table(
    "messages",
    metadata,
    Column("sid", String(SID), primary_key=True),
    Column("account_sid", String(SID), nullable=False),
    Column(
        "execution_sid",
        String(SID),
        ForeignKey("executions.sid", ondelete="SET NULL"),
        nullable=True,
    ),
    Column("flow_sid", String(SID), nullable=True),
    Column("direction", String(16), nullable=False),  # outbound-api | inbound
    Column("to_address", String(320), nullable=False),
    Column("from_address", String(320), nullable=False),
    Column("body", Text, nullable=False),
    Column("media_urls", Text, nullable=False, default="[]"),
    Column("status", String(16), nullable=False),
    Column("date_created", DateTime, nullable=False),
    Column("token", String(64), nullable=True),  # the widget wait that sent it (0300)
    Column("error_code", String(16), nullable=True),  # from a status call-back (0300)
    Index("ix_messages_account_created", "account_sid", "date_created"),
    Index("ix_messages_execution", "execution_sid"),
)

# Voice calls (issue 4): the calls executions drive, inbound (the Flow webhook) and
# outbound (Make Outgoing Call), on Twilio or on the simulator channel. ``twiml`` is the
# last TwiML document the flow answered for the call (``twiml_seq`` counts them);
# ``sim_state`` is the simulator's own state of the call (what it waits on).
calls = Table(
    "calls",
    metadata,
    Column("sid", String(SID), primary_key=True),
    Column("account_sid", String(SID), nullable=False),
    Column("flow_sid", String(SID), nullable=True),
    Column("execution_sid", String(SID), nullable=True),
    Column("token", String(64), nullable=True),  # Make Outgoing Call's wait
    Column("channel", String(16), nullable=False),  # twilio | simulator
    Column("direction", String(16), nullable=False),  # inbound | outbound-api
    Column("to_address", String(320), nullable=False),
    Column("from_address", String(320), nullable=False),
    Column("status", String(16), nullable=False),
    Column("twiml", Text, nullable=True),
    Column("twiml_seq", Integer, nullable=False, default=0),
    Column("sim_state", Text, nullable=True),
    Column("machine_detection", String(32), nullable=True),  # asked for by the flow (0500)
    Column("date_created", DateTime, nullable=False),
    Column("date_updated", DateTime, nullable=True),
    Index("ix_calls_execution", "execution_sid"),
    Index("ix_calls_account_created", "account_sid", "date_created"),
)

processed_requests = Table(
    "processed_requests",
    metadata,
    Column("key", String(255), primary_key=True),  # e.g. "sms:AC…:SM…" (webhook idempotency)
    Column("account_sid", String(SID), nullable=True),
    Column("result", Text, nullable=True),  # JSON: what was answered
    Column("date_created", DateTime, nullable=False),
    Column("execution_sid", String(SID), nullable=True),  # the execution it went to (0200)
    Index("ix_processed_requests_execution", "execution_sid"),
)
# Retention prunes only the requests of no execution (store/requests.py): the index by
# date holds only those (1300), so a webhook that ran an execution writes one index.
REQUEST_WITHOUT_EXECUTION = processed_requests.c.execution_sid.is_(None)
Index(
    "ix_processed_requests_created",
    processed_requests.c.date_created,
    postgresql_where=REQUEST_WITHOUT_EXECUTION,
    sqlite_where=REQUEST_WITHOUT_EXECUTION,
)

# Warnings that belong to no step (0200): an inbound message ignored with 81002 because
# the execution's current widget does not wait for one, an event after the end...
notifications = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_sid", String(SID), nullable=False),
    Column("flow_sid", String(SID), nullable=True),
    Column("execution_sid", String(SID), nullable=True),
    Column("code", Integer, nullable=False),
    Column("level", String(16), nullable=False),  # warning | error
    Column("message", Text, nullable=False),
    Column("request_key", String(255), nullable=True),  # the processed_requests key
    Column("date_created", DateTime, nullable=False),
    Index("ix_notifications_account_created", "account_sid", "date_created"),
    Index("ix_notifications_execution", "execution_sid"),
)

# The simulator channel's Conversations and Flex tasks (0850): what Start Conversation /
# Resume Conversation and Send to Flex did for an account without Twilio credentials,
# shown by the simulator API. ``kind`` is ``conversation`` (sid CH…) or ``flex_task``
# (sid KD…, the Interaction); ``data`` is the resource's JSON.
sim_objects = Table(
    "sim_objects",
    metadata,
    Column("sid", String(SID), primary_key=True),
    Column("account_sid", String(SID), nullable=False),
    Column("flow_sid", String(SID), nullable=True),
    Column("execution_sid", String(SID), nullable=True),
    Column("kind", String(16), nullable=False),
    Column("conversation_sid", String(SID), nullable=True),
    Column("data", Text, nullable=False),
    Column("date_created", DateTime, nullable=False),
    Index("ix_sim_objects_account_kind", "account_sid", "kind", "date_created"),
)
