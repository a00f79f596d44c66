"""Executions, steps and simulator messages (a part of :class:`Callboard`).

Which revision runs: live traffic runs the flow's latest *published* revision; a contact
listed in the flow's test users runs the latest revision (draft or not). A revision that
does not validate is never run (400 / 84004). One active execution per flow for the same
To/From (Studio's Execution page): the unique index ``ux_executions_active`` enforces it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from callboard.contract.io import EndExecution
from callboard.engine.core import Env
from callboard.runtime.executor import Executor, StartRequest
from callboard.runtime.reading import execution_record, keyset_page, message_record, step_record
from callboard.runtime.records import (
    Conflict,
    Execution,
    ExecutionContext,
    InvalidParameter,
    Message,
    NotFound,
    Page,
    Step,
    StepContext,
)
from callboard.store.db import Database
from callboard.store.executions import (
    delete_executions,
    executions_listing,
    find_execution,
)
from callboard.store.flows import find_flow
from callboard.store.messages import latest_messages
from callboard.store.steps import ContextReader, find_step, steps_listing
from callboard.store.values import to_db_time

__all__ = ["ExecutionService"]


class ExecutionService:
    """Executions and their steps as the REST API shows them (a REST create runs the
    flow through the :class:`~callboard.runtime.executor.Executor`)."""

    def __init__(self, db: Database, env: Env, executor: Executor) -> None:
        self.db = db
        self.env = env
        self.executor = executor

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
        request = StartRequest(
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
        )
        execution, _ = self.executor.start(request, rest=True)
        return execution

    def _execution(
        self, conn: Connection, account_sid: str, flow_sid: str, execution_sid: str
    ) -> Execution:
        row = find_execution(conn, account_sid, flow_sid, execution_sid)
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
        if status is not None and status not in ("active", "ended"):
            raise InvalidParameter("status", f"status must be active or ended, got {status!r}")
        query, cols = executions_listing(
            account_sid,
            flow_sid,
            status=status,
            created_from=to_db_time(date_created_from) if date_created_from else None,
            created_to=to_db_time(date_created_to) if date_created_to else None,
        )
        with self.db.read() as conn:
            if find_flow(conn, account_sid, flow_sid) is None:
                raise NotFound("Flow", flow_sid)
            return keyset_page(
                conn,
                query,
                kind="executions",
                cols=cols,
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
            ex = self.executor.runner.load(conn, execution_sid)
            if ex.status == "ended" or ex.state is None or ex.state.status == "ended":
                raise Conflict(f"Execution {execution_sid} has already ended")
            self.executor.run_in(conn, ex, EndExecution(reason))
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
        query, cols = steps_listing(execution_sid)
        with self.db.read() as conn:
            self._execution_exists(conn, account_sid, flow_sid, execution_sid)
            contexts = ContextReader(conn)
            return keyset_page(
                conn,
                query,
                kind="steps",
                cols=cols,
                types=[int],
                descending=False,
                page_size=page_size,
                page_token=page_token,
                convert=lambda row: step_record(
                    row, account_sid, flow_sid, context=contexts.context(row)
                ),
            )

    def _execution_exists(
        self, conn: Connection, account_sid: str, flow_sid: str, execution_sid: str
    ) -> None:
        if find_execution(conn, account_sid, flow_sid, execution_sid) is None:
            raise NotFound("Execution", execution_sid)

    def fetch_step(
        self, account_sid: str, flow_sid: str, execution_sid: str, step_sid: str
    ) -> Step:
        with self.db.read() as conn:
            self._execution_exists(conn, account_sid, flow_sid, execution_sid)
            row = find_step(conn, execution_sid, step_sid)
            if row is None:
                raise NotFound("Step", step_sid)
            return step_record(row, account_sid, flow_sid, context=ContextReader(conn).context(row))

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
        with self.db.read() as conn:
            rows = latest_messages(conn, account_sid, execution_sid=execution_sid, limit=limit)
        return [message_record(r) for r in reversed(rows)]
