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

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from callboard.engine.core import Env
from callboard.engine.io import Event
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
    "InvalidDefinition",
    "InvalidParameter",
    "Message",
    "NotFound",
    "NotRunnable",
    "Page",
    "ServiceError",
    "Step",
    "StepContext",
    "TestUsers",
]


class Callboard:
    """The service object. Build it with :meth:`open` (URL → migrated database)."""

    def __init__(self, db: Any, env: Env | None = None, provider: Any = None) -> None:
        """``db`` is a :class:`callboard.store.db.Database`; ``env`` the clock and SID
        source (default: real time, random SIDs); ``provider`` the
        :class:`~callboard.runtime.providers.MessageProvider` for SendMessage (default:
        the simulator channel, which stores messages in the database)."""
        raise NotImplementedError

    @classmethod
    def open(
        cls, url: str, *, env: Env | None = None, migrate: bool = True, provider: Any = None
    ) -> Callboard:
        """Connect to ``url`` (``sqlite:///…`` / ``postgresql://…``), run the migrations
        (unless ``migrate`` is False) and return the service."""
        raise NotImplementedError

    def close(self) -> None:
        """Dispose of the database connections."""
        raise NotImplementedError

    # ------------------------------------------------------------------ accounts & auth

    def create_account(self, friendly_name: str | None = None) -> Account:
        raise NotImplementedError

    def list_accounts(self) -> list[Account]:
        """Every account, oldest first."""
        raise NotImplementedError

    def fetch_account(self, account_sid: str) -> Account:
        raise NotImplementedError

    def count_accounts(self) -> int:
        raise NotImplementedError

    def rotate_auth_token(self, account_sid: str) -> Account:
        """A new Auth Token; the old one stops working at once."""
        raise NotImplementedError

    def create_api_key(self, account_sid: str, friendly_name: str | None = None) -> CreatedApiKey:
        """A new API key (SK…). The secret is returned once and stored hashed."""
        raise NotImplementedError

    def list_api_keys(self, account_sid: str) -> list[ApiKey]:
        raise NotImplementedError

    def delete_api_key(self, account_sid: str, key_sid: str) -> None:
        raise NotImplementedError

    def authenticate(self, username: str, password: str) -> Account | None:
        """HTTP Basic credentials → the account, or None. ``username`` is an Account SID
        (password = Auth Token) or an API Key SID (password = its secret). Fast after the
        first success (verified credentials are cached in memory)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ flows

    def create_flow(
        self,
        account_sid: str,
        *,
        friendly_name: str,
        status: str,
        definition: Any,
        commit_message: str | None = None,
        author_sid: str | None = None,
    ) -> Flow:
        """A new flow at revision 1. ``definition`` is the decoded JSON value.

        An invalid definition is stored with ``valid=False`` and its ``errors`` when
        ``status`` is ``draft``; with ``published`` it raises :class:`InvalidDefinition`
        and nothing is stored. ``status`` must be ``draft`` or ``published``
        (:class:`InvalidParameter` ``Status``)."""
        raise NotImplementedError

    def update_flow(
        self,
        account_sid: str,
        flow_sid: str,
        *,
        status: str,
        friendly_name: str | None = None,
        definition: Any = None,
        commit_message: str | None = None,
        author_sid: str | None = None,
    ) -> Flow:
        """Update a flow. A new revision is made when the definition or the status
        changes (the new revision copies the previous definition when none is given);
        a change of friendly name alone updates the flow in place. Publishing an
        invalid definition raises :class:`InvalidDefinition`."""
        raise NotImplementedError

    def fetch_flow(self, account_sid: str, flow_sid: str) -> Flow:
        raise NotImplementedError

    def list_flows(
        self, account_sid: str, *, page_size: int = 50, page_token: str | None = None
    ) -> Page[Flow]:
        """Newest first; items have ``definition`` (and valid/errors...) None."""
        raise NotImplementedError

    def delete_flow(self, account_sid: str, flow_sid: str) -> None:
        """Delete the flow with its revisions, test users, executions and steps."""
        raise NotImplementedError

    def list_revisions(
        self,
        account_sid: str,
        flow_sid: str,
        *,
        page_size: int = 50,
        page_token: str | None = None,
    ) -> Page[FlowRevision]:
        """Highest revision first; items have ``definition`` None."""
        raise NotImplementedError

    def fetch_revision(self, account_sid: str, flow_sid: str, revision: str) -> FlowRevision:
        """``revision`` is a number, ``LatestPublished`` or ``LatestRevision``
        (:class:`NotFound` for anything else or a revision that does not exist)."""
        raise NotImplementedError

    def validate_definition(
        self, definition: Any, *, friendly_name: str = "", status: str = "draft"
    ) -> None:
        """Returns when the definition is valid; raises :class:`InvalidDefinition`."""
        raise NotImplementedError

    def fetch_test_users(self, account_sid: str, flow_sid: str) -> TestUsers:
        raise NotImplementedError

    def update_test_users(
        self, account_sid: str, flow_sid: str, test_users: Sequence[str]
    ) -> TestUsers:
        """Replace the flow's test users (identities: contact addresses)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ executions

    def create_execution(
        self,
        account_sid: str,
        flow_sid: str,
        *,
        to: str,
        from_: str,
        parameters: dict[str, Any] | None = None,
    ) -> Execution:
        """REST create: start the flow on ``incomingRequest`` and run it until it waits
        or ends, all in one transaction; returns the execution as it is then.

        Raises :class:`Conflict` (``details.conflicting_execution_sid``) while ``to`` has
        an active execution of this flow; :class:`InvalidParameter` for an empty
        ``To``/``From``; :class:`NotRunnable` when no revision can run for ``to``."""
        raise NotImplementedError

    def start_execution(
        self,
        account_sid: str,
        flow_sid: str,
        *,
        trigger: str,
        contact: str,
        flow_address: str,
        data: dict[str, Any] | None = None,
        parameters: dict[str, Any] | None = None,
        initiated_by: str | None = None,
        exclusive: bool = True,
    ) -> tuple[Execution, DeliveryResult]:
        """The general start (channels use it; ``create_execution`` is this with
        ``trigger="incomingRequest"``). ``trigger`` is one of the engine's trigger events;
        ``data`` becomes ``trigger.<kind>``. ``exclusive=False`` (concurrent calls) does not
        claim the one-active-execution-per-contact slot."""
        raise NotImplementedError

    def list_executions(
        self,
        account_sid: str,
        flow_sid: str,
        *,
        status: str | None = None,
        date_created_from: datetime | None = None,
        date_created_to: datetime | None = None,
        page_size: int = 50,
        page_token: str | None = None,
    ) -> Page[Execution]:
        """Newest first. ``date_created_from`` inclusive, ``date_created_to`` exclusive
        (aware datetimes); ``status`` ``active``/``ended`` (else InvalidParameter)."""
        raise NotImplementedError

    def fetch_execution(self, account_sid: str, flow_sid: str, execution_sid: str) -> Execution:
        raise NotImplementedError

    def end_execution(
        self, account_sid: str, flow_sid: str, execution_sid: str, reason: str = "ended"
    ) -> Execution:
        """REST ``Status=ended``. :class:`Conflict` if it has already ended."""
        raise NotImplementedError

    def delete_execution(self, account_sid: str, flow_sid: str, execution_sid: str) -> None:
        """Delete the execution with its steps, timers, outbox jobs."""
        raise NotImplementedError

    def fetch_execution_context(
        self, account_sid: str, flow_sid: str, execution_sid: str
    ) -> ExecutionContext:
        raise NotImplementedError

    def find_active_execution(self, flow_sid: str, contact: str) -> Execution | None:
        """The active execution holding the (flow, contact) slot, if any (channels)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ steps

    def list_steps(
        self,
        account_sid: str,
        flow_sid: str,
        execution_sid: str,
        *,
        page_size: int = 50,
        page_token: str | None = None,
    ) -> Page[Step]:
        """Oldest first (the order they ran)."""
        raise NotImplementedError

    def fetch_step(
        self, account_sid: str, flow_sid: str, execution_sid: str, step_sid: str
    ) -> Step:
        raise NotImplementedError

    def fetch_step_context(
        self, account_sid: str, flow_sid: str, execution_sid: str, step_sid: str
    ) -> StepContext:
        raise NotImplementedError

    # ------------------------------------------------------------------ messages

    def list_messages(
        self, account_sid: str, *, execution_sid: str | None = None, limit: int = 100
    ) -> list[Message]:
        """Simulator-channel messages, oldest first."""
        raise NotImplementedError

    # ------------------------------------------------------------------ event delivery

    def deliver(self, execution_sid: str, event: Event) -> DeliveryResult:
        """Run ``event`` through the engine for the execution, in one transaction.

        Lock/load the execution, load its flow revision (and subflows), advance, perform
        the in-transaction effects (simulator SendMessage → message row + result fed back
        at once; StartTimer/CancelTimer → timer rows; HttpRequest/PlaceCall → outbox
        rows for the worker), save state, steps and status. :class:`NotFound` if the
        execution does not exist; an ended execution gives ``accepted=False``."""
        raise NotImplementedError

    def fire_due_timers(self, now: datetime | None = None, limit: int = 100) -> int:
        """Deliver :class:`~callboard.engine.io.TimerFired` for every timer due at
        ``now`` (default: the env's clock). Returns how many fired."""
        raise NotImplementedError

    def next_timer_due(self) -> datetime | None:
        """When the earliest timer is due (None when there is none)."""
        raise NotImplementedError

    def run_outbox(self, limit: int = 16) -> int:
        """Perform pending outbox jobs (HTTP requests) and deliver their results.
        Returns how many jobs ran. Called by the worker thread."""
        raise NotImplementedError
