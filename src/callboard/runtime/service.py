"""The service layer: accounts, flows, executions and running events, over the store.

:class:`Callboard` is synchronous and thread-safe; the HTTP API calls it from a thread
pool. Every method that touches a resource takes the caller's ``account_sid`` first: a
SID of another account answers :class:`NotFound`, never its data.

Records and errors live in :mod:`callboard.runtime.records` and are re-exported here.
Paging: list methods take ``page_size`` (1–1000) and ``page_token`` (a token from a
previous :class:`Page`'s ``next_token``/``previous_token``; a token the service did not
make raises ``InvalidParameter("PageToken", ...)``) and return a :class:`Page`.

Running an event (:meth:`Callboard.run_event`, :class:`~callboard.runtime.executor.Executor`)
runs one event through the engine and commits the new state, its steps, timers, outbox
jobs and simulator messages in ONE transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import datetime

from callboard.engine.core import Env
from callboard.engine.env import SystemEnv
from callboard.runtime.accounts import AccountService
from callboard.runtime.auth import CredentialCache
from callboard.runtime.definitions import DefinitionCache
from callboard.runtime.executions import ExecutionService
from callboard.runtime.executor import Executor
from callboard.runtime.flows import FlowService
from callboard.runtime.inbound import InboundService
from callboard.runtime.inbound_results import InboundResult, Notification
from callboard.runtime.outbox import LEASE_SECONDS, Outbox
from callboard.runtime.ports import (
    HttpClientFactory,
    OutboxHandler,
    OutboxReconciler,
    RunHook,
    RunRecorder,
)
from callboard.runtime.providers import MessageProvider, SimulatorProvider
from callboard.runtime.records import (
    Account,
    ApiKey,
    Conflict,
    CreatedApiKey,
    Execution,
    ExecutionContext,
    Flow,
    FlowRevision,
    InvalidDefinition,
    InvalidParameter,
    Message,
    NotFound,
    NotRunnable,
    Page,
    RunResult,
    ServiceError,
    Step,
    StepContext,
    TestUsers,
)
from callboard.runtime.runner import Runner
from callboard.runtime.timers import fire_due_timers, next_timer_due
from callboard.store.db import Database

__all__ = [
    "Account",
    "ApiKey",
    "Callboard",
    "Conflict",
    "CreatedApiKey",
    "Execution",
    "ExecutionContext",
    "Flow",
    "FlowRevision",
    "InboundResult",
    "InvalidDefinition",
    "InvalidParameter",
    "Message",
    "NotFound",
    "NotRunnable",
    "Notification",
    "Page",
    "RunResult",
    "ServiceError",
    "Step",
    "StepContext",
    "TestUsers",
]


class Callboard:
    """The runtime's services, composed over one database: :attr:`accounts`,
    :attr:`flows`, :attr:`executions`, :attr:`inbound`, with the :attr:`executor` (start /
    run an event) and the :attr:`outbox` they share. Its public methods are theirs (each
    name below is the owning service's bound method), so callers need not know which
    service owns what. Build it with :meth:`open`, or through the composition root
    (:func:`callboard.commands.compose.build_services`), which also plugs the channels
    and Event Streams into its ports."""

    def __init__(
        self,
        db: Database,
        env: Env | None = None,
        provider: MessageProvider | None = None,
        *,
        recorder: RunRecorder | None = None,
        hooks: Sequence[RunHook] = (),
        outbox_handlers: Mapping[str, OutboxHandler] | None = None,
        outbox_reconcilers: Mapping[str, OutboxReconciler] | None = None,
        outbox_lease_seconds: float = LEASE_SECONDS,
        wakeup: threading.Event | None = None,
        http_client: HttpClientFactory | None = None,
    ) -> None:
        """``db`` is a :class:`callboard.store.db.Database`; ``env`` the clock and SID
        source (default: real time, random SIDs); ``provider`` the
        :class:`~callboard.runtime.providers.MessageProvider` for SendMessage (default:
        the simulator channel, which stores messages in the database); ``recorder``,
        ``hooks``, ``outbox_handlers`` and ``outbox_reconcilers`` the ports of
        :mod:`callboard.runtime.ports`;
        ``wakeup`` the event that wakes the worker (shared with the channels);
        ``http_client`` makes the outbox's HTTP clients (:data:`HttpClientFactory`)."""
        self.db = db
        self.env: Env = env if env is not None else SystemEnv()
        self.provider: MessageProvider = provider if provider is not None else SimulatorProvider()
        self.definitions = DefinitionCache()
        self.credentials = CredentialCache()
        self.wakeup = wakeup if wakeup is not None else threading.Event()
        self.runner = Runner(
            self.env,
            self.provider,
            self.definitions,
            for_update=db.for_update(),
            recorder=recorder,
            hooks=hooks,
        )
        self.executor = Executor(db, self.env, self.runner, self.wakeup)
        self.outbox = Outbox(
            self.executor,
            self.provider,
            dict(outbox_handlers or {}),
            http_client,
            reconcilers=dict(outbox_reconcilers or {}),
            lease_seconds=outbox_lease_seconds,
        )
        self.outbox_handlers = self.outbox.handlers
        self.accounts = AccountService(db, self.env, self.credentials)
        self.flows = FlowService(db, self.env, self.definitions)
        self.executions = ExecutionService(db, self.env, self.executor)
        self.inbound = InboundService(db, self.env, self.executor)

        accounts, flows, executions, inbound = (
            self.accounts,
            self.flows,
            self.executions,
            self.inbound,
        )
        self.create_account = accounts.create_account
        self.list_accounts = accounts.list_accounts
        self.fetch_account = accounts.fetch_account
        self.count_accounts = accounts.count_accounts
        self.rotate_auth_token = accounts.rotate_auth_token
        self.create_api_key = accounts.create_api_key
        self.list_api_keys = accounts.list_api_keys
        self.delete_api_key = accounts.delete_api_key
        self.authenticate = accounts.authenticate
        self.create_flow = flows.create_flow
        self.update_flow = flows.update_flow
        self.fetch_flow = flows.fetch_flow
        self.list_flows = flows.list_flows
        self.delete_flow = flows.delete_flow
        self.list_revisions = flows.list_revisions
        self.fetch_revision = flows.fetch_revision
        self.validate_definition = flows.validate_definition
        self.fetch_test_users = flows.fetch_test_users
        self.update_test_users = flows.update_test_users
        self.create_execution = executions.create_execution
        self.list_executions = executions.list_executions
        self.fetch_execution = executions.fetch_execution
        self.end_execution = executions.end_execution
        self.delete_execution = executions.delete_execution
        self.fetch_execution_context = executions.fetch_execution_context
        self.list_steps = executions.list_steps
        self.fetch_step = executions.fetch_step
        self.fetch_step_context = executions.fetch_step_context
        self.list_messages = executions.list_messages
        self.idempotent = inbound.idempotent
        self.inbound_message = inbound.inbound_message
        self.call_event = inbound.call_event
        self.list_notifications = inbound.list_notifications
        self.run_event = self.executor.run_event
        self.run_outbox = self.outbox.run

    @classmethod
    def open(
        cls,
        url: str,
        *,
        env: Env | None = None,
        migrate: bool = True,
        provider: MessageProvider | None = None,
    ) -> Callboard:
        """Connect to ``url`` (``sqlite:///…`` / ``postgresql://…``), run the migrations
        (unless ``migrate`` is False) and return the service, with no channels nor Event
        Streams plugged in (the composition root does that)."""
        db = Database(url)
        db.check()
        if migrate:
            db.migrate()
        return cls(db, env, provider)

    def close(self) -> None:
        """Dispose of the database connections."""
        self.db.dispose()

    def fire_due_timers(self, now: datetime | None = None, limit: int = 500) -> int:
        """Deliver :class:`~callboard.contract.io.TimerFired` for every timer due at
        ``now`` (default: the env's clock), up to ``limit``. Returns how many fired.
        Each timer is deleted in the same transaction as its run; see
        :mod:`callboard.runtime.timers`."""
        return fire_due_timers(self.executor, now, limit=limit)

    def next_timer_due(self) -> datetime | None:
        """When the earliest timer is due (None when there is none)."""
        return next_timer_due(self.executor)
