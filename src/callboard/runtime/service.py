"""The service layer: accounts, flows, executions and event delivery over the store.

:class:`Callboard` is synchronous and thread-safe; the HTTP API calls it from a thread
pool. Every method that touches a resource takes the caller's ``account_sid`` first: a
SID of another account answers :class:`NotFound`, never its data.

Records and errors live in :mod:`callboard.runtime.records` and are re-exported here.
Paging: list methods take ``page_size`` (1–1000) and ``page_token`` (a token from a
previous :class:`Page`'s ``next_token``/``previous_token``; a token the service did not
make raises ``InvalidParameter("PageToken", ...)``) and return a :class:`Page`.

Event delivery (:meth:`Callboard.deliver`) runs one event through the engine and commits
the new state, its steps, timers, outbox jobs and simulator messages in ONE transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from callboard.contract.io import Event
from callboard.engine.core import Env
from callboard.engine.env import SystemEnv
from callboard.engine.state import StepWarning
from callboard.runtime.accounts import AccountsMixin
from callboard.runtime.auth import CredentialCache
from callboard.runtime.definitions import DefinitionCache
from callboard.runtime.delivery import Runner
from callboard.runtime.executions import ExecutionsMixin
from callboard.runtime.flows import FlowsMixin
from callboard.runtime.inbound import InboundMixin, InboundResult, Notification
from callboard.runtime.providers import MessageProvider, SimulatorProvider
from callboard.runtime.records import (
    Account,
    ApiKey,
    Conflict,
    CreatedApiKey,
    DeliveryResult,
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
    ServiceError,
    Step,
    StepContext,
    TestUsers,
)
from callboard.runtime.timers import fire_due_timers, next_timer_due
from callboard.store.db import Database

__all__ = [
    "Account",
    "ApiKey",
    "Callboard",
    "Conflict",
    "CreatedApiKey",
    "DeliveryResult",
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
    "ServiceError",
    "Step",
    "StepContext",
    "TestUsers",
]


class Callboard(AccountsMixin, FlowsMixin, ExecutionsMixin, InboundMixin):
    """The service object. Build it with :meth:`open` (URL → migrated database)."""

    def __init__(
        self, db: Database, env: Env | None = None, provider: MessageProvider | None = None
    ) -> None:
        """``db`` is a :class:`callboard.store.db.Database`; ``env`` the clock and SID
        source (default: real time, random SIDs); ``provider`` the
        :class:`~callboard.runtime.providers.MessageProvider` for SendMessage (default:
        the simulator channel, which stores messages in the database)."""
        self.db = db
        self.env: Env = env if env is not None else SystemEnv()
        self.provider: MessageProvider = provider if provider is not None else SimulatorProvider()
        self.definitions = DefinitionCache()
        self.credentials = CredentialCache()
        self.runner = Runner(self.env, self.provider, self.definitions, for_update=db.for_update())
        self.wakeup = threading.Event()  # set when outbox jobs or timers were added
        self.outbox_handlers: dict[str, OutboxHandler] = {}

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
        (unless ``migrate`` is False) and return the service."""
        db = Database(url)
        db.check()
        if migrate:
            db.migrate()
        return cls(db, env, provider)

    def close(self) -> None:
        """Dispose of the database connections."""
        self.db.dispose()

    # ------------------------------------------------------------------ event delivery

    def deliver(self, execution_sid: str, event: Event) -> DeliveryResult:
        """Run ``event`` through the engine for the execution, in one transaction.

        Lock/load the execution, load its flow revision (and subflows), advance, perform
        the in-transaction effects (simulator SendMessage → message row + result fed back
        at once; StartTimer/CancelTimer → timer rows; HttpRequest/PlaceCall → outbox
        rows for the worker), save state, steps and status. :class:`NotFound` if the
        execution does not exist; an ended execution gives ``accepted=False``."""
        with self.db.write() as conn:
            result = self._deliver_in(conn, execution_sid, event)
        self._notify(result)
        return result

    def _deliver_in(self, conn: Connection, execution_sid: str, event: Event) -> DeliveryResult:
        ex = self.runner.load(conn, execution_sid)
        if ex.state is None or ex.status == "ended":
            return DeliveryResult(
                execution_sid,
                False,
                "ended",
                ended_reason=None,
                warnings=[
                    StepWarning(81002, f"Unexpected event {event.kind}: the execution has ended")
                ],
            )
        return self.runner.run(conn, ex, event)

    def fire_due_timers(self, now: datetime | None = None, limit: int = 500) -> int:
        """Deliver :class:`~callboard.contract.io.TimerFired` for every timer due at
        ``now`` (default: the env's clock), up to ``limit``. Returns how many fired.
        Each timer is deleted in the same transaction as its delivery; see
        :mod:`callboard.runtime.timers`."""
        return fire_due_timers(self, now, limit=limit)

    def next_timer_due(self) -> datetime | None:
        """When the earliest timer is due (None when there is none)."""
        return next_timer_due(self)

    def run_outbox(self, limit: int = 16) -> int:
        """Perform pending outbox jobs and deliver their results. Returns how many ran.
        Called by the worker thread (see :mod:`callboard.runtime.worker`)."""
        from callboard.runtime.worker import run_outbox

        return run_outbox(self, limit)


OutboxHandler = Callable[[Callboard, dict[str, Any]], Event | None]
