"""The event-delivery core: one event in, the engine run, everything saved in ONE transaction.

:class:`Runner` works on an open write connection (the caller owns the transaction):

1. the execution row is loaded (``SELECT … FOR UPDATE`` on PostgreSQL);
2. the :class:`~callboard.engine.Bundle` is built: the revision the execution runs plus
   the subflows its Run Subflow widgets name (revision per widget's ``flow_revision``
   and the test-user rule), parsed definitions coming from a shared LRU
   (:mod:`callboard.runtime.bundles`);
3. :func:`callboard.engine.advance` runs; effects are applied: simulator messages are
   stored and their results fed straight back into the engine (loop), timers become
   timer rows, HTTP requests and other network work become outbox rows, ``Respond``
   is handed back to the caller (:mod:`callboard.runtime.effects`);
4. the new state, the steps (with their contexts), timers, outbox jobs and the status
   fields are written. An exception anywhere rolls the whole transaction back.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update

from callboard.engine.core import Env, advance
from callboard.engine.io import EndExecution, Event
from callboard.engine.state import Bundle, ExecutionState
from callboard.events.recording import record_events
from callboard.flow.model import FlowDefinition
from callboard.runtime.bundles import load_bundle, load_definition
from callboard.runtime.definitions import DefinitionCache
from callboard.runtime.effects import Batch, apply_effects, step_row
from callboard.runtime.providers import MessageProvider
from callboard.runtime.records import DeliveryResult, Execution, NotFound
from callboard.runtime.rows import dumps, loads, to_db_time
from callboard.store import tables as t
from callboard.store.db import insert_rows

__all__ = ["MAX_EVENTS_PER_DELIVERY", "ExecRow", "Runner"]

MAX_EVENTS_PER_DELIVERY = 10_000


@dataclass(slots=True)
class ExecRow:
    """The fields of an execution the runner needs."""

    sid: str
    account_sid: str
    flow_sid: str
    flow_version: int
    contact: str
    flow_address: str
    status: str
    test_user: bool
    state: ExecutionState | None
    new: bool = False  # not inserted yet
    exclusive: bool = True
    initiated_by: str = ""
    date_created: datetime | None = None
    date_updated: datetime | None = None
    ended_at: datetime | None = None

    def record(self) -> Execution:
        """The execution as the API shows it (after :meth:`Runner.run`)."""
        state = self.state
        waiting = state.waiting if state is not None else None
        return Execution(
            sid=self.sid,
            account_sid=self.account_sid,
            flow_sid=self.flow_sid,
            flow_version=self.flow_version,
            contact_channel_address=self.contact,
            flow_address=self.flow_address,
            contact_sid=None,
            status="ended" if self.status == "ended" else "active",
            context=state.context if state is not None and state.frames else {},
            initiated_by=self.initiated_by,
            date_created=self.date_created or datetime.now(UTC),
            date_updated=self.date_updated,
            ended_at=self.ended_at,
            ended_reason=(state.ended_reason or "completed")
            if state is not None and self.status == "ended"
            else None,
            waiting_for=waiting.widget if waiting is not None else None,
        )


class Runner:
    def __init__(
        self,
        env: Env,
        provider: MessageProvider,
        definitions: DefinitionCache,
        *,
        for_update: bool,
    ) -> None:
        self.env = env
        self.provider = provider
        self.definitions = definitions
        self.for_update = for_update
        # Called after every run, in its transaction (issue 4: the voice channel keeps
        # the TwiML a call execution answered): hook(conn, execution, result).
        self.hooks: list[Callable[[Connection, ExecRow, DeliveryResult], None]] = []

    # ------------------------------------------------------------------ loading
    def load(self, conn: Connection, execution_sid: str) -> ExecRow:
        q = select(
            t.executions.c.sid,
            t.executions.c.account_sid,
            t.executions.c.flow_sid,
            t.executions.c.flow_version,
            t.executions.c.contact_channel_address,
            t.executions.c.flow_address,
            t.executions.c.status,
            t.executions.c.test_user,
            t.executions.c.state,
            t.executions.c.active_contact,
        ).where(t.executions.c.sid == execution_sid)
        if self.for_update:
            q = q.with_for_update()
        row = conn.execute(q).first()
        if row is None:
            raise NotFound("Execution", execution_sid)
        data = loads(row.state)
        return ExecRow(
            sid=row.sid,
            account_sid=row.account_sid,
            flow_sid=row.flow_sid,
            flow_version=row.flow_version,
            contact=row.contact_channel_address,
            flow_address=row.flow_address,
            status=row.status,
            test_user=bool(row.test_user),
            state=ExecutionState.from_json(data) if data else None,
            exclusive=row.active_contact is not None or row.status != "active",
        )

    def definition(self, conn: Connection, flow_sid: str, revision: int) -> FlowDefinition:
        return load_definition(conn, self.definitions, flow_sid, revision)

    def bundle(self, conn: Connection, ex: ExecRow) -> Bundle:
        return load_bundle(conn, ex, self.definition)

    # ------------------------------------------------------------------ running
    def run(self, conn: Connection, ex: ExecRow, event: Event) -> DeliveryResult:
        """Apply ``event`` (and the results of in-transaction effects) and save."""
        bundle = self.bundle(conn, ex)
        started = ex.new  # for the execution.started event (issue 7)
        batch = Batch()
        queue: deque[Event] = deque([event])
        state = ex.state
        accepted: bool | None = None
        step_count = 0
        count = 0
        while queue:
            ev = queue.popleft()
            count += 1
            if count > MAX_EVENTS_PER_DELIVERY:
                queue.clear()
                if state is None or state.status == "ended":
                    break
                ev = EndExecution("failed")
            before = state.step_count if state is not None else 0
            result = advance(bundle, state, ev, self.env)
            if accepted is None:
                accepted = result.accepted
            batch.warnings.extend(result.warnings)
            if not result.accepted:
                continue
            state = result.state
            for i, step in enumerate(result.steps):
                batch.steps.append(step_row(ex, step, before + i + 1))
            step_count += len(result.steps)
            queue.extend(apply_effects(conn, self.env, self.provider, ex, result.effects, batch))
        if state is None:  # a Start that was refused cannot happen; guard anyway
            raise RuntimeError("the engine returned no state")
        self._save(conn, ex, state, batch, changed=bool(accepted))
        if accepted:  # Event Streams: recorded in this same transaction (issue 7)
            ended = state.status == "ended" and ex.status != "ended"
            reason = state.ended_reason or "completed"
            record_events(
                conn,
                ex,
                batch.steps,
                started=started,
                ended=ended,
                now=self.env.now(),
                reason=reason,
            )
        if accepted:
            ex.state = state
            if state.status == "ended" and ex.status != "ended":
                ex.status = "ended"
                ex.ended_at = self.env.now()
            ex.date_updated = self.env.now()
        delivered = DeliveryResult(
            execution_sid=ex.sid,
            accepted=bool(accepted),
            status="ended" if state.status == "ended" else "active",
            ended_reason=state.ended_reason or None if state.status == "ended" else None,
            steps=step_count,
            responses=batch.responses,
            messages=batch.messages,
            warnings=batch.warnings,
            outbox_jobs=len(batch.outbox),
            timer_due=min((d for d in batch.timers.values() if d is not None), default=None)
            if state.status != "ended"
            else None,
            started=started,
        )
        for hook in self.hooks:
            hook(conn, ex, delivered)
        return delivered

    # ------------------------------------------------------------------ saving
    def _insert(self, conn: Connection, ex: ExecRow, state: ExecutionState | None = None) -> None:
        now = to_db_time(self.env.now())
        ended = state is not None and state.status == "ended"
        insert_rows(
            conn,
            t.executions,
            [
                {
                    "sid": ex.sid,
                    "account_sid": ex.account_sid,
                    "flow_sid": ex.flow_sid,
                    "flow_version": ex.flow_version,
                    "contact_channel_address": ex.contact,
                    "flow_address": ex.flow_address,
                    "active_contact": None if ended else (ex.contact if ex.exclusive else ex.sid),
                    "status": "ended" if ended else "active",
                    "state": dumps(state.to_json()) if state is not None else "{}",
                    "initiated_by": ex.initiated_by,
                    "test_user": ex.test_user,
                    "date_created": to_db_time(ex.date_created) if ex.date_created else now,
                    "date_updated": now,
                    "ended_at": now if ended else None,
                    "ended_reason": (state.ended_reason or "completed")
                    if ended and state
                    else None,
                }
            ],
        )
        ex.new = False

    def _save(
        self, conn: Connection, ex: ExecRow, state: ExecutionState, batch: Batch, changed: bool
    ) -> None:
        was_new = ex.new
        if ex.new:
            self._insert(conn, ex, state)
        elif changed:
            now = to_db_time(self.env.now())
            values: dict[str, Any] = {"state": dumps(state.to_json()), "date_updated": now}
            if state.status == "ended" and ex.status != "ended":
                values.update(
                    status="ended",
                    active_contact=None,
                    ended_at=now,
                    ended_reason=state.ended_reason or "completed",
                )
            conn.execute(update(t.executions).where(t.executions.c.sid == ex.sid).values(values))
        if batch.steps:
            insert_rows(conn, t.steps, batch.steps)
        if batch.message_rows:
            insert_rows(conn, t.messages, batch.message_rows)
        if state.status == "ended":
            if not was_new:
                conn.execute(delete(t.timers).where(t.timers.c.execution_sid == ex.sid))
        elif batch.timers:
            tokens = list(batch.timers)
            if not was_new:
                conn.execute(
                    delete(t.timers).where(
                        t.timers.c.execution_sid == ex.sid, t.timers.c.token.in_(tokens)
                    )
                )
            now = to_db_time(self.env.now())
            rows = [
                {
                    "execution_sid": ex.sid,
                    "token": tok,
                    "due_at": to_db_time(due),
                    "date_created": now,
                }
                for tok, due in batch.timers.items()
                if due is not None
            ]
            if rows:
                insert_rows(conn, t.timers, rows)
        if batch.outbox:
            insert_rows(conn, t.outbox, batch.outbox)
