"""The durable runner: one event in, the engine loop run, everything saved in ONE transaction.

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

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from callboard.contract.io import Effect, Event
from callboard.engine.core import Env
from callboard.engine.state import Advance, Bundle, ExecutionState
from callboard.flow.model import FlowDefinition
from callboard.runtime.bundles import load_bundle, load_definition
from callboard.runtime.definitions import DefinitionCache
from callboard.runtime.effects import Batch, apply_effects, step_row
from callboard.runtime.loaded import LoadedExecution
from callboard.runtime.loop import run_until_wait
from callboard.runtime.ports import RunHook, RunRecorder
from callboard.runtime.providers import MessageProvider
from callboard.runtime.records import NotFound, RunResult
from callboard.runtime.unit import Write, Writes
from callboard.store.executions import (
    insert_execution,
    load_active_for_run,
    load_for_run,
    update_execution,
)
from callboard.store.messages import insert_messages
from callboard.store.notify import WORK_HORIZON_SECONDS, notify_run
from callboard.store.outbox import insert_jobs
from callboard.store.packed_json import pack_state, unpack_state
from callboard.store.steps import insert_packed_steps, pack_steps
from callboard.store.timers import cancel_timers, insert_timers
from callboard.store.values import from_db_time, to_db_time

__all__ = ["Runner"]


class Runner:
    """Runs one event (and the results of in-transaction effects) through the engine on
    an open write connection, and saves what it did. ``recorder`` and ``hooks`` are the
    ports other packages plug into (see :mod:`callboard.runtime.ports`)."""

    def __init__(
        self,
        env: Env,
        provider: MessageProvider,
        definitions: DefinitionCache,
        *,
        for_update: bool,
        recorder: RunRecorder | None = None,
        hooks: Sequence[RunHook] = (),
    ) -> None:
        self.env = env
        self.provider = provider
        self.definitions = definitions
        self.for_update = for_update
        self.recorder = recorder
        self.hooks: tuple[RunHook, ...] = tuple(hooks)

    # ------------------------------------------------------------------ loading
    def load(self, conn: Connection, execution_sid: str) -> LoadedExecution:
        """The execution, locked for this transaction (``FOR UPDATE`` on PostgreSQL;
        SQLite's writer lock is the transaction's)."""
        row = load_for_run(conn, execution_sid, lock=self.for_update)
        if row is None:
            raise NotFound("Execution", execution_sid)
        return _loaded(row)

    def load_active(
        self,
        conn: Connection,
        account_sid: str,
        flow_sid: str,
        contact: str,
        flow_addresses: Sequence[str | None] = (),
    ) -> LoadedExecution | None:
        """The execution holding the (flow, contact, flow address) slot, locked; None
        when none does (see :func:`~callboard.store.executions.active_slot`)."""
        row = load_active_for_run(
            conn, account_sid, flow_sid, contact, flow_addresses, lock=self.for_update
        )
        return None if row is None else _loaded(row)

    def definition(self, conn: Connection, flow_sid: str, revision: int) -> FlowDefinition:
        return load_definition(conn, self.definitions, flow_sid, revision)

    def bundle(self, conn: Connection, ex: LoadedExecution) -> Bundle:
        return load_bundle(conn, ex, self.definition)

    # ------------------------------------------------------------------ running
    def run(
        self,
        conn: Connection,
        ex: LoadedExecution,
        event: Event,
        writes: Writes | None = None,
    ) -> RunResult:
        """Apply ``event`` (and the results of in-transaction effects) and save: the
        reads on ``conn``, the writes through ``writes`` (:mod:`callboard.runtime.unit`;
        by default done at once on ``conn``). Everything the writes store is computed
        here, so deferred writes hold a writer's lock only for the SQL."""
        writes = Writes(conn) if writes is None else writes
        bundle = self.bundle(conn, ex)
        started = ex.new  # for the execution.started event (issue 7)
        batch = Batch()
        steps = 0

        def saw(result: Advance, before: int) -> None:
            nonlocal steps
            batch.warnings.extend(result.warnings)
            if result.accepted:
                for i, step in enumerate(result.steps):
                    batch.steps.append(step_row(ex, step, before + i + 1))
                steps += len(result.steps)

        def perform(state: ExecutionState, effects: Sequence[Effect]) -> list[Event]:
            return apply_effects(conn, self.env, self.provider, ex, effects, batch)

        outcome = run_until_wait(bundle, ex.state, event, self.env, perform, on_advance=saw)
        state, accepted, step_count = outcome.state, outcome.accepted, steps
        if state is None:  # a Start that was refused cannot happen; guard anyway
            raise RuntimeError("the engine returned no state")
        self._save(writes, ex, state, batch, changed=bool(accepted))
        recorder = self.recorder
        if accepted and recorder is not None:  # Event Streams, in this transaction
            ended = state.status == "ended" and ex.status != "ended"
            reason = state.ended_reason or "completed"
            now = self.env.now()
            writes.add(
                recorder(ex, batch.steps, started=started, ended=ended, now=now, reason=reason)
            )
        if accepted:
            ex.state = state
            if state.status == "ended" and ex.status != "ended":
                ex.status = "ended"
                ex.ended_at = self.env.now()
            ex.date_updated = self.env.now()
        delivered = RunResult(
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
            writes.add(_hook_write(hook, ex, event, delivered))
        if accepted or batch.outbox:  # PostgreSQL: every process hears of it at commit
            work = _work_for_worker(delivered, self.env.now())
            writes.add(lambda c: notify_run(c, ex.flow_sid, work=work))
        return delivered

    # ------------------------------------------------------------------ saving
    def _insert(
        self, writes: Writes, ex: LoadedExecution, state: ExecutionState | None = None
    ) -> None:
        now = to_db_time(self.env.now())
        ended = state is not None and state.status == "ended"
        row = {
            "sid": ex.sid,
            "account_sid": ex.account_sid,
            "flow_sid": ex.flow_sid,
            "flow_version": ex.flow_version,
            "contact_channel_address": ex.contact,
            "flow_address": ex.flow_address,
            "active_contact": None if ended else (ex.contact if ex.exclusive else ex.sid),
            "status": "ended" if ended else "active",
            "state": "" if state is not None else "{}",
            "state_z": pack_state(state.to_json()) if state is not None else None,
            "initiated_by": ex.initiated_by,
            "test_user": ex.test_user,
            "date_created": to_db_time(ex.date_created) if ex.date_created else now,
            "date_updated": now,
            "ended_at": now if ended else None,
            "ended_reason": (state.ended_reason or "completed") if ended and state else None,
            "version": 0,
        }
        writes.add(lambda c: insert_execution(c, row))
        ex.new = False
        ex.version = 0

    def _save(
        self,
        writes: Writes,
        ex: LoadedExecution,
        state: ExecutionState,
        batch: Batch,
        changed: bool,
    ) -> None:
        was_new = ex.new
        if ex.new:
            self._insert(writes, ex, state)
        elif changed:
            now = to_db_time(self.env.now())
            values: dict[str, Any] = {
                "state": "",
                "state_z": pack_state(state.to_json()),
                "date_updated": now,
            }
            if state.status == "ended" and ex.status != "ended":
                values.update(
                    status="ended",
                    active_contact=None,
                    ended_at=now,
                    ended_reason=state.ended_reason or "completed",
                )
            sid, version = ex.sid, ex.version
            writes.add(lambda c: update_execution(c, sid, values, version=version))
            ex.version = version + 1
        if batch.steps:
            packed = pack_steps(batch.steps)
            writes.add(lambda c: insert_packed_steps(c, packed))
        if batch.message_rows:
            messages = batch.message_rows
            writes.add(lambda c: insert_messages(c, messages))
        if state.status == "ended":
            if not was_new:
                writes.add(lambda c: cancel_timers(c, ex.sid))
        elif batch.timers:
            tokens = list(batch.timers)
            if not was_new:
                writes.add(lambda c: cancel_timers(c, ex.sid, tokens))
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
                writes.add(lambda c: insert_timers(c, rows))
        if batch.outbox:
            jobs = batch.outbox
            writes.add(lambda c: insert_jobs(c, jobs))


def _hook_write(hook: RunHook, ex: LoadedExecution, event: Event, result: RunResult) -> Write:
    return lambda conn: hook(conn, ex, event, result)


def _work_for_worker(result: RunResult, now: datetime) -> bool:
    """Whether the run left work a sleeping worker must wake for: outbox jobs, or a
    timer due before the worker's fallback poll would notice it."""
    if result.outbox_jobs:
        return True
    due = result.timer_due
    return due is not None and (due - now).total_seconds() < WORK_HORIZON_SECONDS


def _loaded(row: Any) -> LoadedExecution:
    data = unpack_state(row.state, row.state_z)
    return LoadedExecution(
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
        initiated_by=row.initiated_by or "",
        date_created=from_db_time(row.date_created),
        version=row.version,
    )
