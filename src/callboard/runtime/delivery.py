"""The event-delivery core: one event in, the engine run, everything saved in ONE transaction.

:class:`Runner` works on an open write connection (the caller owns the transaction):

1. the execution row is loaded (``SELECT … FOR UPDATE`` on PostgreSQL);
2. the :class:`~callboard.engine.Bundle` is built: the revision the execution runs plus
   the subflows its Run Subflow widgets name (revision per widget's ``flow_revision``
   and the test-user rule), parsed definitions coming from a shared LRU;
3. :func:`callboard.engine.advance` runs; effects are applied: simulator messages are
   stored and their results fed straight back into the engine (loop), timers become
   timer rows, HTTP requests and other network work become outbox rows, ``Respond``
   is handed back to the caller;
4. the new state, the steps (with their contexts), timers, outbox jobs and the status
   fields are written. An exception anywhere rolls the whole transaction back.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update

from callboard.engine.core import Env, advance
from callboard.engine.io import (
    CancelTimer,
    Effect,
    EndExecution,
    Event,
    HttpRequest,
    PlaceCall,
    Respond,
    SendMessage,
    StartRecording,
    StartTimer,
    StopRecording,
    effect_to_json,
)
from callboard.engine.state import Bundle, ExecutionState, FlowRef, StepRecord, Warning
from callboard.events.recording import record_events
from callboard.flow.model import FlowDefinition
from callboard.runtime.definitions import DefinitionCache
from callboard.runtime.providers import MessageProvider, OutboundMessage, message_row
from callboard.runtime.records import DeliveryResult, Execution, Message, NotFound
from callboard.runtime.rows import dumps, loads, to_db_time
from callboard.store import tables as t
from callboard.store.db import insert_rows

__all__ = ["MAX_EVENTS_PER_DELIVERY", "ExecRow", "Runner"]

MAX_EVENTS_PER_DELIVERY = 10_000
LATEST_DRAFT = ("LatestRevision", "LatestDraft", "latest_revision", "latest")


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


@dataclass(slots=True)
class _Batch:
    steps: list[dict[str, Any]] = field(default_factory=list)
    timers: dict[str, datetime | None] = field(default_factory=dict)  # token → due / cancel
    outbox: list[dict[str, Any]] = field(default_factory=list)
    responses: list[Respond] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    message_rows: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[Warning] = field(default_factory=list)


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
        def text() -> str:
            value = conn.execute(
                select(t.flow_revisions.c.definition).where(
                    t.flow_revisions.c.flow_sid == flow_sid,
                    t.flow_revisions.c.revision == revision,
                )
            ).scalar_one_or_none()
            if value is None:
                raise NotFound("Flow revision", f"{flow_sid}/{revision}")
            return str(value)

        return self.definitions.get(flow_sid, revision, text)

    def bundle(self, conn: Connection, ex: ExecRow) -> Bundle:
        main = FlowRef(
            ex.flow_sid, ex.flow_version, self.definition(conn, ex.flow_sid, ex.flow_version)
        )
        wanted: dict[str, str] = {}
        for state in main.definition.states:
            if state.type != "run-subflow":
                continue
            sid = state.properties.get("flow_sid")
            if isinstance(sid, str) and sid.startswith("FW") and sid != ex.flow_sid:
                wanted.setdefault(sid, str(state.properties.get("flow_revision") or ""))
        if not wanted:
            return Bundle(main)
        pinned: dict[str, int] = {}
        if ex.state is not None:
            for frame in ex.state.frames[1:]:
                pinned[frame.flow_sid] = frame.revision
        rows = conn.execute(
            select(t.flows.c.sid, t.flows.c.latest_revision, t.flows.c.latest_published).where(
                t.flows.c.sid.in_(list(wanted)), t.flows.c.account_sid == ex.account_sid
            )
        ).all()
        subflows: dict[str, FlowRef] = {}
        for row in rows:
            spec = wanted[row.sid]
            revision: int | None
            if row.sid in pinned:
                revision = pinned[row.sid]
            elif spec.isdigit():
                revision = int(spec)
            elif spec in LATEST_DRAFT and ex.test_user:
                revision = row.latest_revision
            else:
                revision = row.latest_published
            if revision is None:
                continue
            try:
                definition = self.definition(conn, row.sid, revision)
            except NotFound:
                continue
            subflows[row.sid] = FlowRef(row.sid, revision, definition)
        return Bundle(main, subflows)

    # ------------------------------------------------------------------ running
    def run(self, conn: Connection, ex: ExecRow, event: Event) -> DeliveryResult:
        """Apply ``event`` (and the results of in-transaction effects) and save."""
        bundle = self.bundle(conn, ex)
        started = ex.new  # for the execution.started event (issue 7)
        batch = _Batch()
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
                batch.steps.append(self._step_row(ex, step, before + i + 1))
            step_count += len(result.steps)
            queue.extend(self._effects(conn, ex, result.effects, batch))
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
        )
        for hook in self.hooks:
            hook(conn, ex, delivered)
        return delivered

    def _step_row(self, ex: ExecRow, step: StepRecord, seq: int) -> dict[str, Any]:
        return {
            "sid": step.sid,
            "execution_sid": ex.sid,
            "seq": seq,
            "name": step.name,
            "transitioned_from": step.transitioned_from,
            "transitioned_to": step.transitioned_to,
            "type": step.type,
            "subflow_sid": step.flow_sid if step.flow_sid != ex.flow_sid else None,
            "parent_step_sid": None,
            "context": dumps(step.context),
            "warnings": dumps([w.to_json() for w in step.warnings]) if step.warnings else None,
            "date_created": to_db_time(step.date),
        }

    def _effects(
        self, conn: Connection, ex: ExecRow, effects: list[Effect], batch: _Batch
    ) -> list[Event]:
        events: list[Event] = []
        now = self.env.now()
        for effect in effects:
            if isinstance(effect, SendMessage):
                message = OutboundMessage(
                    ex.account_sid, ex.flow_sid, ex.sid, effect, self.env.sid("SM"), now
                )
                inline = self._inline(conn, ex.account_sid)
                if inline:
                    events.append(self.provider.send_in_transaction(message))
                    batch.message_rows.append(message_row(message, "sent"))
                else:
                    batch.outbox.append(self._job(ex, effect, now, {"sid": message.sid}))
                    batch.message_rows.append(message_row(message, "queued"))
                batch.messages.append(_message(message, "sent" if inline else "queued"))
            elif isinstance(effect, StartTimer):
                batch.timers[effect.token] = effect.due
            elif isinstance(effect, CancelTimer):
                batch.timers[effect.token] = None
            elif isinstance(effect, Respond):
                batch.responses.append(effect)
            elif isinstance(effect, HttpRequest | PlaceCall | StartRecording | StopRecording):
                batch.outbox.append(self._job(ex, effect, now))
        return events

    def _inline(self, conn: Connection, account_sid: str) -> bool:
        """Whether the account's provider sends inside the transaction (issue 4: a
        provider may decide per account, with ``in_transaction_for(conn, account_sid)``)."""
        decide = getattr(self.provider, "in_transaction_for", None)
        if callable(decide):
            return bool(decide(conn, account_sid))
        return self.provider.in_transaction

    def _job(
        self, ex: ExecRow, effect: Effect, now: datetime, extra: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        payload = effect_to_json(effect)
        if extra:
            payload["_meta"] = extra
        return {
            "execution_sid": ex.sid,
            "kind": effect.kind,
            "token": getattr(effect, "token", ""),
            "payload": dumps(payload),
            "status": "pending",
            "attempts": 0,
            "available_at": to_db_time(now),
            "date_created": to_db_time(now),
        }

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
        self, conn: Connection, ex: ExecRow, state: ExecutionState, batch: _Batch, changed: bool
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


def _message(message: OutboundMessage, status: str = "sent") -> Message:
    effect = message.effect
    return Message(
        sid=message.sid,
        account_sid=message.account_sid,
        execution_sid=message.execution_sid,
        flow_sid=message.flow_sid,
        direction="outbound-api",
        to=effect.to,
        from_=effect.from_,
        body=effect.body,
        media_urls=list(effect.media_urls),
        status=status,
        date_created=message.now,
    )
