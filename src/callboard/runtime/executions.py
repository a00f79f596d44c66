"""Executions, steps and simulator messages (a part of :class:`Callboard`).

Which revision runs: live traffic runs the flow's latest *published* revision; a contact
listed in the flow's test users runs the latest revision (draft or not). A revision that
does not validate is never run (400 / 84004). One active execution per flow for the same
To/From (Studio's Execution page): the unique index ``ux_executions_active`` enforces it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, select
from sqlalchemy.exc import IntegrityError

from callboard.engine.io import TRIGGER_EVENTS, EndExecution, Start
from callboard.runtime.base import ServiceBase, delete_executions
from callboard.runtime.delivery import ExecRow
from callboard.runtime.rate_limit import check_rest_rate
from callboard.runtime.records import (
    Conflict,
    DeliveryResult,
    Execution,
    ExecutionContext,
    InvalidParameter,
    Message,
    NotFound,
    NotRunnable,
    Page,
    ServiceError,
    Step,
    StepContext,
)
from callboard.runtime.rows import (
    active_slot,
    execution_record,
    keyset_page,
    loads,
    message_record,
    step_record,
    to_db_time,
)
from callboard.store import tables as t

__all__ = ["ExecutionsMixin"]

_published = t.flow_revisions.alias("published")
_latest = t.flow_revisions.alias("latest")
_FLOW_TO_RUN = (
    select(
        t.flows.c.test_users,
        t.flows.c.latest_revision,
        t.flows.c.latest_published,
        _latest.c.valid.label("latest_valid"),
        _published.c.valid.label("published_valid"),
    )
    .join(
        _latest,
        and_(_latest.c.flow_sid == t.flows.c.sid, _latest.c.revision == t.flows.c.latest_revision),
    )
    .join(
        _published,
        and_(
            _published.c.flow_sid == t.flows.c.sid,
            _published.c.revision == t.flows.c.latest_published,
        ),
        isouter=True,
    )
    .where(
        t.flows.c.sid == bindparam("flow_sid"), t.flows.c.account_sid == bindparam("account_sid")
    )
)


class ExecutionsMixin(ServiceBase):
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

        Raises :class:`Conflict` (``details.conflicting_execution_sid``) while this To/From
        has an active execution of this flow; :class:`InvalidParameter` for an empty
        ``To``/``From``; :class:`NotRunnable` when no revision can run for ``to``;
        :class:`~callboard.runtime.rate_limit.RateLimited` past the account's limit."""
        execution, _ = self.start_execution(
            account_sid,
            flow_sid,
            trigger="incomingRequest",
            contact=to,
            flow_address=from_,
            # trigger.request: the request's addresses (as Studio's REST trigger shows
            # them) and its parameters (added by the engine).
            data={"to": to, "from": from_},
            parameters=parameters,
            initiated_by=self.env.sid("RQ"),
            rest=True,
        )
        return execution

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
        rest: bool = False,
    ) -> tuple[Execution, DeliveryResult]:
        """The general start (channels use it; ``create_execution`` is this with
        ``trigger="incomingRequest"``). ``trigger`` is one of the engine's trigger events;
        ``data`` becomes ``trigger.<kind>``. ``exclusive=False`` (concurrent calls) does not
        claim the one-active-execution-per-contact slot. ``rest=True``: the REST rate limit
        (:mod:`callboard.runtime.rate_limit`) applies."""
        contact = (contact or "").strip()
        flow_address = (flow_address or "").strip()
        if not contact:
            raise InvalidParameter("To", "Missing required parameter To in the post body")
        if not flow_address:
            raise InvalidParameter("From", "Missing required parameter From in the post body")
        if len(contact.encode()) + len(flow_address.encode()) > 300:
            raise ServiceError(
                "To and From together must not exceed 300 bytes", status=400, code=81023
            )
        if parameters is not None and not isinstance(parameters, dict):
            raise InvalidParameter("Parameters", "Parameters must be a JSON object")
        if trigger not in TRIGGER_EVENTS:
            raise InvalidParameter("Trigger", f"unknown trigger event {trigger!r}")
        try:
            with self.db.write() as conn:
                if rest:
                    check_rest_rate(conn, account_sid, flow_sid, self.env.now(), self.db)
                ex, result = self._start_in(
                    conn,
                    account_sid,
                    flow_sid,
                    trigger=trigger,
                    contact=contact,
                    flow_address=flow_address,
                    data=data,
                    parameters=parameters,
                    initiated_by=initiated_by,
                    exclusive=exclusive,
                )
        except IntegrityError:
            with self.db.read() as conn:
                self._check_slot(conn, flow_sid, contact, flow_address)
            raise
        self._notify(result)
        return ex.record(), result

    def _start_in(
        self,
        conn: Connection,
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
        test_user: bool = False,
    ) -> tuple[ExecRow, DeliveryResult]:
        """Start an execution on an open write connection (checked arguments). The
        caller owns the transaction; a second active execution for the (flow, contact, flow address)
        raises IntegrityError (the unique index). ``test_user=True`` runs the latest
        revision whatever the flow's test users (the simulator channel, issue 4)."""
        sid = self.env.sid("FN")
        flow = conn.execute(
            _FLOW_TO_RUN, {"flow_sid": flow_sid, "account_sid": account_sid}
        ).first()
        if flow is None:
            raise NotFound("Flow", flow_sid)
        test_user = test_user or contact in (loads(flow.test_users) or [])
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
        ex = ExecRow(
            sid=sid,
            account_sid=account_sid,
            flow_sid=flow_sid,
            flow_version=revision,
            contact=contact,
            flow_address=flow_address,
            status="active",
            test_user=test_user,
            state=None,
            new=True,
            exclusive=exclusive,
            initiated_by=initiated_by or self.env.sid("RQ"),
            date_created=self.env.now(),
        )
        start = Start(
            trigger=trigger,
            execution_sid=sid,
            flow_sid=flow_sid,
            contact_address=contact,
            flow_address=flow_address,
            data=dict(data or {}),
            parameters=dict(parameters or {}),
        )
        # No look-up of the (flow, contact, flow address) slot first: the unique index refuses a
        # second active execution, and the caller's IntegrityError handler says which.
        return ex, self.runner.run(conn, ex, start)

    def _check_slot(self, conn: Connection, flow_sid: str, contact: str, address: str) -> None:
        active = conn.execute(
            select(t.executions.c.sid).where(
                *active_slot(t.executions, flow_sid, contact, [address])
            )
        ).scalar_one_or_none()
        if active is not None:
            raise Conflict(
                f"Execution {active} is already active for this To/From combination. "
                "End the active Execution before creating a new one",
                details={"conflicting_execution_sid": active},
            )

    def _execution(
        self, conn: Connection, account_sid: str, flow_sid: str, execution_sid: str
    ) -> Execution:
        row = conn.execute(
            select(t.executions).where(
                t.executions.c.sid == execution_sid,
                t.executions.c.account_sid == account_sid,
                t.executions.c.flow_sid == flow_sid,
            )
        ).first()
        if row is None:
            raise NotFound("Execution", execution_sid)
        return execution_record(row)

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
        e = t.executions
        query = select(e).where(e.c.flow_sid == flow_sid, e.c.account_sid == account_sid)
        if status is not None:
            if status not in ("active", "ended"):
                raise InvalidParameter("status", f"status must be active or ended, got {status!r}")
            query = query.where(e.c.status == status)
        if date_created_from is not None:
            query = query.where(e.c.date_created >= to_db_time(date_created_from))
        if date_created_to is not None:
            query = query.where(e.c.date_created < to_db_time(date_created_to))
        with self.db.read() as conn:
            self._flow_row(conn, account_sid, flow_sid)
            return keyset_page(
                conn,
                query,
                kind="executions",
                cols=[e.c.date_created, e.c.sid],
                types=[datetime, str],
                descending=True,
                page_size=page_size,
                page_token=page_token,
                convert=execution_record,
            )

    def fetch_execution(self, account_sid: str, flow_sid: str, execution_sid: str) -> Execution:
        with self.db.read() as conn:
            return self._execution(conn, account_sid, flow_sid, execution_sid)

    def end_execution(
        self, account_sid: str, flow_sid: str, execution_sid: str, reason: str = "ended"
    ) -> Execution:
        """REST ``Status=ended``. :class:`Conflict` if it has already ended."""
        with self.db.write() as conn:
            self._execution(conn, account_sid, flow_sid, execution_sid)
            ex = self.runner.load(conn, execution_sid)
            if ex.status == "ended" or ex.state is None or ex.state.status == "ended":
                raise Conflict(f"Execution {execution_sid} has already ended")
            self.runner.run(conn, ex, EndExecution(reason))
            return self._execution(conn, account_sid, flow_sid, execution_sid)

    def delete_execution(self, account_sid: str, flow_sid: str, execution_sid: str) -> None:
        """Delete the execution with its steps, timers, outbox jobs."""
        with self.db.write() as conn:
            self._execution(conn, account_sid, flow_sid, execution_sid)
            delete_executions(conn, [execution_sid])

    def fetch_execution_context(
        self, account_sid: str, flow_sid: str, execution_sid: str
    ) -> ExecutionContext:
        ex = self.fetch_execution(account_sid, flow_sid, execution_sid)
        return ExecutionContext(account_sid, flow_sid, execution_sid, ex.context)

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
        s = t.steps
        query = select(s).where(s.c.execution_sid == execution_sid)
        with self.db.read() as conn:
            self._execution_exists(conn, account_sid, flow_sid, execution_sid)
            return keyset_page(
                conn,
                query,
                kind="steps",
                cols=[s.c.seq],
                types=[int],
                descending=False,
                page_size=page_size,
                page_token=page_token,
                convert=lambda row: step_record(row, account_sid, flow_sid),
            )

    def _execution_exists(
        self, conn: Connection, account_sid: str, flow_sid: str, execution_sid: str
    ) -> None:
        found = conn.execute(
            select(t.executions.c.sid).where(
                t.executions.c.sid == execution_sid,
                t.executions.c.account_sid == account_sid,
                t.executions.c.flow_sid == flow_sid,
            )
        ).first()
        if found is None:
            raise NotFound("Execution", execution_sid)

    def fetch_step(
        self, account_sid: str, flow_sid: str, execution_sid: str, step_sid: str
    ) -> Step:
        with self.db.read() as conn:
            self._execution_exists(conn, account_sid, flow_sid, execution_sid)
            row = conn.execute(
                select(t.steps).where(
                    t.steps.c.sid == step_sid, t.steps.c.execution_sid == execution_sid
                )
            ).first()
        if row is None:
            raise NotFound("Step", step_sid)
        return step_record(row, account_sid, flow_sid)

    def fetch_step_context(
        self, account_sid: str, flow_sid: str, execution_sid: str, step_sid: str
    ) -> StepContext:
        step = self.fetch_step(account_sid, flow_sid, execution_sid, step_sid)
        return StepContext(account_sid, flow_sid, execution_sid, step_sid, step.context)

    # ------------------------------------------------------------------ messages

    def list_messages(
        self, account_sid: str, *, execution_sid: str | None = None, limit: int = 100
    ) -> list[Message]:
        """Simulator-channel messages, oldest first (the last ``limit``)."""
        m = t.messages
        query = select(m).where(m.c.account_sid == account_sid)
        if execution_sid is not None:
            query = query.where(m.c.execution_sid == execution_sid)
        query = query.order_by(m.c.date_created.desc(), m.c.sid.desc()).limit(limit)
        with self.db.read() as conn:
            rows = conn.execute(query).all()
        return [message_record(r) for r in reversed(rows)]
