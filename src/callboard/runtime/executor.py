"""Starting an execution and running an event into one: the single entry to the
:class:`~callboard.runtime.runner.Runner` for every caller (REST, Twilio webhooks, the
simulator channel, timers, the outbox, retention).

The ``*_in`` methods work on an open write connection (the caller owns the
transaction, e.g. the inbound routing rule's ``processed_requests`` row goes in the same
one); the others open their own. After a commit, :meth:`Executor.notify` wakes the
worker when the run left work for it.
"""

from __future__ import annotations

import threading
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from callboard.contract.io import TRIGGER_EVENTS, Event, Start
from callboard.engine.core import Env
from callboard.engine.state import StepWarning
from callboard.runtime.loaded import LoadedExecution
from callboard.runtime.rate_limit import check_rest_rate
from callboard.runtime.records import (
    Conflict,
    Execution,
    InvalidParameter,
    NotFound,
    NotRunnable,
    RunResult,
    ServiceError,
)
from callboard.runtime.runner import Runner
from callboard.runtime.unit import Writes, lost_deadlock, transact
from callboard.store.db import Database
from callboard.store.executions import active_execution_sid
from callboard.store.flows import flow_to_run
from callboard.store.values import loads, to_db_time

__all__ = ["MAX_SLEEP_SECONDS", "Executor", "StartRequest"]

MAX_SLEEP_SECONDS = 0.2
"""The worker's longest sleep (it sleeps until the next due timer, at most this)."""


@dataclass(frozen=True, slots=True)
class StartRequest:
    """What starts an execution. ``contact`` is the To/From slot's contact (the
    webhook's From, the REST To, a Conversation's SID) and ``flow_address`` the flow's
    own address; ``data`` becomes ``trigger.<kind>`` and ``parameters``
    ``flow.data``. ``exclusive=False`` (concurrent calls) claims no slot;
    ``test_user=True`` runs the latest revision whatever the flow's test users."""

    account_sid: str
    flow_sid: str
    trigger: str
    contact: str
    flow_address: str
    data: dict[str, Any] | None = None
    parameters: dict[str, Any] | None = None
    initiated_by: str | None = None
    exclusive: bool = True
    test_user: bool = False


class _Pending:
    """Whether a run in the caller's transaction left work for the worker."""

    __slots__ = ("wake",)

    def __init__(self) -> None:
        self.wake = False


# Per thread, and per greenlet on the event loop (each has its own context); a thread the
# transaction is handed to (``offload``) gets a copy of the context: the same object.
_PENDING: ContextVar[_Pending | None] = ContextVar("callboard_pending_wake", default=None)


class Executor:
    def __init__(self, db: Database, env: Env, runner: Runner, wakeup: threading.Event) -> None:
        self.db = db
        self.env = env
        self.runner = runner
        self.wakeup = wakeup  # set when outbox jobs or near timers were added

    def now(self) -> datetime:
        """The clock as the columns hold it (naive UTC)."""
        return to_db_time(self.env.now())

    # ------------------------------------------------------------------ events
    def run_event(self, execution_sid: str, event: Event) -> RunResult:
        """Run ``event`` through the engine for the execution, in one transaction.
        :class:`NotFound` if the execution does not exist; an ended execution gives
        ``accepted=False`` (81002)."""
        with self.db.write() as conn:
            result = self.run_event_in(conn, execution_sid, event)
        self.notify(result)
        return result

    def run_event_in(self, conn: Connection, execution_sid: str, event: Event) -> RunResult:
        return self.run_in(conn, self.runner.load(conn, execution_sid), event)

    def run_in(
        self,
        conn: Connection,
        ex: LoadedExecution,
        event: Event,
        writes: Writes | None = None,
    ) -> RunResult:
        """Run ``event`` into an execution already loaded (and locked) on ``conn``; the
        writes go through ``writes`` (:mod:`callboard.runtime.unit`), by default done at
        once on ``conn``."""
        if ex.state is None or ex.status == "ended":
            return RunResult(
                ex.sid,
                False,
                "ended",
                ended_reason=None,
                warnings=[
                    StepWarning(81002, f"Unexpected event {event.kind}: the execution has ended")
                ],
            )
        return self._ran(self.runner.run(conn, ex, event, writes))

    # ------------------------------------------------------------------ starts
    def start(self, request: StartRequest, *, rest: bool = False) -> tuple[Execution, RunResult]:
        """Check the request, start the flow on its trigger and run it until it waits or
        ends, in one transaction. ``rest=True``: the REST rate limit
        (:mod:`callboard.runtime.rate_limit`) applies. :class:`Conflict` when another
        execution holds the request's To/From slot."""
        contact = (request.contact or "").strip()
        flow_address = (request.flow_address or "").strip()
        if not contact:
            raise InvalidParameter("To", "Missing required parameter To in the post body")
        if not flow_address:
            raise InvalidParameter("From", "Missing required parameter From in the post body")
        if len(contact.encode()) + len(flow_address.encode()) > 300:
            raise ServiceError(
                "To and From together must not exceed 300 bytes", status=400, code=81023
            )
        if request.parameters is not None and not isinstance(request.parameters, dict):
            raise InvalidParameter("Parameters", "Parameters must be a JSON object")
        if request.trigger not in TRIGGER_EVENTS:
            raise InvalidParameter("Trigger", f"unknown trigger event {request.trigger!r}")
        request = replace(request, contact=contact, flow_address=flow_address)

        def work(conn: Connection, writes: Writes) -> tuple[LoadedExecution, RunResult]:
            if rest:  # counted in the write transaction: it sees every create before it
                account_sid, flow_sid, now = request.account_sid, request.flow_sid, self.env.now()
                writes.add(lambda c: check_rest_rate(c, account_sid, flow_sid, now, self.db))
            return self._start_in(conn, request, writes)

        try:  # a taken To/From slot is a conflict, not a race to retry
            ex, result = transact(self.db, work, snapshot=True, retry=lost_deadlock)
        except IntegrityError:
            with self.db.read() as conn:
                active = active_execution_sid(conn, request.flow_sid, contact, None, [flow_address])
            if active is not None:
                raise Conflict(
                    f"Execution {active} is already active for this To/From combination. "
                    "End the active Execution before creating a new one",
                    details={"conflicting_execution_sid": active},
                ) from None
            raise
        self.notify(result)
        return ex.record(), result

    def start_in(
        self, conn: Connection, request: StartRequest, writes: Writes | None = None
    ) -> tuple[LoadedExecution, RunResult]:
        """:meth:`start` on the caller's open connection (arguments not checked; the
        writes through ``writes``, by default at once on ``conn``), noting whether the
        worker must be woken after the caller's commit (:meth:`wake_after_commit`)."""
        ex, result = self._start_in(conn, request, writes)
        return ex, self._ran(result)

    def _start_in(
        self, conn: Connection, request: StartRequest, writes: Writes | None
    ) -> tuple[LoadedExecution, RunResult]:
        """Start an execution on an open write connection (checked arguments). Which
        revision runs: the latest published one, or the latest one for a contact in the
        flow's test users (``test_user=True``: whatever the list, the simulator
        channel); a revision that does not validate never runs (:class:`NotRunnable`).
        A second active execution for the (flow, contact, flow address) raises
        IntegrityError (the unique index): no look-up of the slot first."""
        account_sid, flow_sid, contact = request.account_sid, request.flow_sid, request.contact
        sid = self.env.sid("FN")
        flow = flow_to_run(conn, account_sid, flow_sid)
        if flow is None:
            raise NotFound("Flow", flow_sid)
        test_user = request.test_user or contact in (loads(flow.test_users) or [])
        if test_user:
            revision, valid = flow.latest_revision, flow.latest_valid
        else:
            revision, valid = flow.latest_published, flow.published_valid
        if revision is None:
            raise NotRunnable(
                f"Flow {flow_sid} has no published revision: publish it, or add "
                f"{contact} to its test users to run the latest draft"
            )
        if not valid:
            raise NotRunnable(f"Flow {flow_sid} revision {revision} is not a valid flow definition")
        ex = LoadedExecution(
            sid=sid,
            account_sid=account_sid,
            flow_sid=flow_sid,
            flow_version=revision,
            contact=contact,
            flow_address=request.flow_address,
            status="active",
            test_user=test_user,
            state=None,
            new=True,
            exclusive=request.exclusive,
            initiated_by=request.initiated_by or self.env.sid("RQ"),
            date_created=self.env.now(),
        )
        start = Start(
            trigger=request.trigger,
            execution_sid=sid,
            flow_sid=flow_sid,
            contact_address=contact,
            flow_address=request.flow_address,
            data=dict(request.data or {}),
            parameters=dict(request.parameters or {}),
        )
        return ex, self.runner.run(conn, ex, start, writes)

    # ------------------------------------------------------------------ the worker
    def _ran(self, result: RunResult) -> RunResult:
        pending = _PENDING.get()
        if pending is not None and self._wants_worker(result):
            pending.wake = True
        return result

    def begin_transaction(self) -> None:
        """A caller's write transaction that runs ``*_in`` methods starts (in this
        thread, or this greenlet on the event loop: :mod:`callboard.store.suspend`)."""
        _PENDING.set(_Pending())

    def wake_after_commit(self) -> None:
        """After the caller's commit: wake the worker if a run in it left work for it
        (outbox jobs, a timer due within the worker's longest sleep); else nothing."""
        pending = _PENDING.get()
        if pending is not None and pending.wake:
            pending.wake = False
            self.wakeup.set()

    def _wants_worker(self, result: RunResult) -> bool:
        return bool(result.outbox_jobs) or (
            result.timer_due is not None
            and (result.timer_due - self.env.now()).total_seconds() < MAX_SLEEP_SECONDS
        )

    def notify(self, result: RunResult | None = None) -> None:
        """Wake the worker when there is work for it now: outbox jobs, or a timer due
        sooner than the worker's longest sleep (it sleeps until the next due timer)."""
        if result is None or self._wants_worker(result):
            self.wakeup.set()
