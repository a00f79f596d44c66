"""Inbound webhooks, processed once (a part of :class:`Callboard`).

Twilio retries webhooks, and a burst of messages from one contact arrives at once.
These methods are what the channel handlers (the Flow webhook
``/v1/Accounts/{AC}/Flows/{FW}``, the simulator) call; each runs in ONE write
transaction together with a row in ``processed_requests``:

* :meth:`InboundMixin.inbound_message` — an incoming SMS/MMS/WhatsApp message. Key
  ``msg:{AccountSid}:{MessageSid}``. Delivered to the contact's active execution of the
  flow (consumed by a waiting Send & Wait For Reply, or ignored with warning **81002**,
  recorded in ``notifications``), else it starts a new execution on
  ``incomingMessage``. A burst from a new contact starts exactly one execution: the
  losers of the race on the unique (flow, contact, flow address) index retry and are
  delivered to the winner's execution.
* :meth:`InboundMixin.call_event` — a voice call-back for a step (gather/dial/record
  action, redirect return, status). Key ``call:{AccountSid}:{CallSid}:{token}:{name}``.
* :meth:`InboundMixin.idempotent` — the primitive under both, for any other webhook:
  ``work(conn)`` runs inside the transaction and returns the JSON answer to store.

A repeated key returns the stored :class:`InboundResult` (``duplicate=True``, the same
TwiML) without running anything again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from callboard.contract.io import CallEvent, InboundMessage
from callboard.engine.core import Env
from callboard.runtime.executor import Executor, StartRequest
from callboard.runtime.flows import require_flow
from callboard.runtime.inbound_conversation import route_conversation_in
from callboard.runtime.inbound_results import (
    EMPTY_TWIML,
    InboundResult,
    Notification,
    RoutedCall,
)
from callboard.runtime.records import InvalidParameter, NotFound, RunResult
from callboard.runtime.routing import Refuse, Resume, route_call, route_message
from callboard.runtime.unit import Writes, transact
from callboard.store.db import Database
from callboard.store.executions import active_execution_sid, execution_owner_flow
from callboard.store.notifications import add_notifications, notifications_of
from callboard.store.requests import remember_request, stored_answer
from callboard.store.values import dumps, from_db_time, loads, to_db_time

__all__ = ["InboundService"]


def _twiml(result: RunResult) -> str:
    return result.responses[-1].twiml if result.responses else EMPTY_TWIML


class InboundService:
    """Inbound webhooks, each processed once: the inbound routing rule for messages,
    voice call-backs, and the notifications of ignored events."""

    def __init__(self, db: Database, env: Env, executor: Executor) -> None:
        self.db = db
        self.env = env
        self.executor = executor

    def _now(self) -> datetime:
        return to_db_time(self.env.now())

    # ------------------------------------------------------------------ primitive

    def idempotent(
        self,
        key: str,
        account_sid: str | None,
        work: Callable[[Connection], tuple[dict[str, Any], str | None]],
    ) -> tuple[dict[str, Any], bool]:
        """Run ``work(conn)`` once per ``key`` (≤ 255 chars), in one write transaction
        with the ``processed_requests`` row. ``work`` returns ``(answer, execution_sid)``;
        the answer (JSON) is stored. Returns ``(answer, duplicate)``: for a key seen
        before, the stored answer and True, and ``work`` does not run. ``work`` may
        raise IntegrityError for a race it lost (it is then run again, up to 8 times)."""
        return self.once(key, account_sid, lambda conn, _writes: work(conn), snapshot=False)

    def once(
        self,
        key: str,
        account_sid: str | None,
        work: Callable[[Connection, Writes], tuple[dict[str, Any], str | None]],
        *,
        snapshot: bool = True,
    ) -> tuple[dict[str, Any], bool]:
        """:meth:`idempotent` for a ``work(conn, writes)`` that writes only through
        ``writes`` (:mod:`callboard.runtime.unit`): with ``snapshot`` it computes on a
        read snapshot and holds SQLite's writer only for its writes."""
        if not key or len(key) > 255:
            raise InvalidParameter("key", "an idempotency key must be 1 to 255 characters")

        def unit(conn: Connection, writes: Writes) -> tuple[dict[str, Any], bool]:
            stored = self._stored(conn, key)
            if stored is not None:
                return stored, True
            answer, execution_sid = work(conn, writes)
            text, now = dumps(answer), self._now()
            writes.add(lambda c: remember_request(c, key, account_sid, text, execution_sid, now))
            return answer, False

        answer, duplicate = transact(
            self.db, unit, snapshot=snapshot, attempt=self.executor.begin_transaction
        )
        if not duplicate:
            self.executor.wake_after_commit()  # only when a timer or job was written
        return answer, duplicate

    def _stored(self, conn: Connection, key: str) -> dict[str, Any] | None:
        text = stored_answer(conn, key)
        if text is None:
            return None
        data = loads(text)
        return data if isinstance(data, dict) else {}

    # ------------------------------------------------------------------ messages

    def inbound_message(
        self,
        account_sid: str,
        flow_sid: str,
        params: Mapping[str, Any],
        *,
        test_user: bool = False,
    ) -> InboundResult:
        """An incoming message on the Flow webhook, processed once per MessageSid.

        ``params`` are Twilio's webhook parameters (``MessageSid``, ``From``, ``To``,
        ``Body``, ``NumMedia``...). ``From`` is the contact, ``To`` the flow's address.
        Raises :class:`NotFound` (no such flow in the account), :class:`NotRunnable`
        (nothing published), :class:`InvalidParameter` (no ``From``/``To``); nothing
        is recorded then, so Twilio's retry is processed normally."""
        data = {k: v for k, v in params.items()}
        contact = str(data.get("From") or "").strip()
        flow_address = str(data.get("To") or "").strip()
        if not contact or not flow_address:
            with self.db.read() as conn:
                require_flow(conn, account_sid, flow_sid)
        if not contact:
            raise InvalidParameter("From", "Missing required parameter From")
        if not flow_address:
            raise InvalidParameter("To", "Missing required parameter To")
        sid = str(data.get("MessageSid") or data.get("SmsMessageSid") or data.get("SmsSid") or "")
        key = f"msg:{account_sid}:{sid}"
        ran: list[InboundResult] = []

        def work(conn: Connection, writes: Writes) -> tuple[dict[str, Any], str | None]:
            ran.clear()
            result = self.route_message_in(
                conn,
                account_sid,
                flow_sid,
                contact,
                flow_address,
                data,
                test_user=test_user,
                writes=writes,
            )
            self.note_in(writes, account_sid, flow_sid, result, key)
            ran.append(result)
            return result.to_json(), result.execution_sid

        if not sid:  # cannot be deduplicated: process it
            transact(self.db, work, snapshot=True, attempt=self.executor.begin_transaction)
            self.executor.wake_after_commit()
            return ran[-1]
        answer, duplicate = self.once(key, account_sid, work)
        return InboundResult.from_json(answer, duplicate=True) if duplicate else ran[-1]

    def inbound_conversation(
        self,
        account_sid: str,
        flow_sid: str,
        params: Mapping[str, Any],
        *,
        test_user: bool = False,
    ) -> InboundResult:
        """A Conversations ``onMessageAdded`` webhook, processed once per MessageSid
        (key ``conv:{AccountSid}:{MessageSid}``); the routing is
        :func:`~callboard.runtime.inbound_conversation.route_conversation_in`."""
        data = dict(params)
        sid = str(data.get("MessageSid") or "")
        if not sid:
            raise InvalidParameter("MessageSid", "Missing required parameter MessageSid")
        key = f"conv:{account_sid}:{sid}"
        ran: list[InboundResult] = []

        def work(conn: Connection) -> tuple[dict[str, Any], str | None]:
            ran.clear()
            result = route_conversation_in(
                self.executor, conn, account_sid, flow_sid, data, test_user=test_user
            )
            self.note_in(conn, account_sid, flow_sid, result, key)
            ran.append(result)
            return result.to_json(), result.execution_sid

        answer, duplicate = self.idempotent(key, account_sid, work)
        return InboundResult.from_json(answer, duplicate=True) if duplicate else ran[-1]

    def route_message_in(
        self,
        conn: Connection,
        account_sid: str,
        flow_sid: str,
        contact: str,
        flow_address: str,
        data: dict[str, Any],
        *,
        test_user: bool = False,
        writes: Writes | None = None,
    ) -> InboundResult:
        """THE inbound routing rule for a message (``routing.route_message``), carried
        out on an open connection (the writes through ``writes``, by default at once on
        ``conn``): to the
        contact's active execution of the flow (loaded and locked once; a waiting Send &
        Wait For Reply consumes it, else it is ignored with 81002), else a new execution
        on ``incomingMessage`` (the latest revision when ``test_user``, else by the
        flow's test users). The slot is the To/From combination: the message's ``To`` or
        its ``MessagingServiceSid`` (an execution started by REST from the service). A
        lost race for the slot raises IntegrityError: the caller retries and the message
        goes to the winner."""
        addresses = [flow_address, str(data.get("MessagingServiceSid") or "")]
        route = route_message(
            self.executor.runner.load_active(conn, account_sid, flow_sid, contact, addresses)
        )
        if isinstance(route, Resume):
            ex = route.execution
            result = self.executor.run_in(conn, ex, InboundMessage(data), writes)
            started = False
        else:
            request = StartRequest(
                account_sid,
                flow_sid,
                trigger="incomingMessage",
                contact=contact,
                flow_address=flow_address,
                data=data,
                initiated_by=str(data.get("MessageSid") or "") or None,
                test_user=test_user,
            )
            ex, result = self.executor.start_in(conn, request, writes)
            started = True
        return InboundResult(
            execution_sid=ex.sid,
            started=started,
            accepted=True if started else result.accepted,
            twiml=_twiml(result),
            status=result.status,
            warnings=[{"code": w.code, "message": w.message} for w in result.warnings],
        )

    def route_call_in(
        self,
        conn: Connection,
        account_sid: str,
        flow_sid: str,
        contact: str,
        flow_address: str,
        data: dict[str, Any],
        *,
        initiated_by: str,
        test_user: bool = False,
    ) -> RoutedCall:
        """THE inbound routing rule for a call (``routing.route_call``), carried out on
        an open write connection: a new
        execution on ``incomingCall`` — one per call when the revision that would run
        has ``flags.allow_concurrent_calls``, else one per contact: while the contact
        has an active execution, the call is refused (``result`` None; the caller
        answers 81002 and ``<Hangup/>``)."""
        route = route_call(
            self._concurrent_calls(conn, account_sid, flow_sid, contact, test_user),
            lambda: active_execution_sid(conn, flow_sid, contact, None, [flow_address]),
        )
        if isinstance(route, Refuse):
            return RoutedCall(route.active, None)
        request = StartRequest(
            account_sid,
            flow_sid,
            trigger="incomingCall",
            contact=contact,
            flow_address=flow_address,
            data=data,
            initiated_by=initiated_by,
            exclusive=route.exclusive,
            test_user=test_user,
        )
        ex, result = self.executor.start_in(conn, request)
        return RoutedCall(ex.sid, result)

    def _concurrent_calls(
        self, conn: Connection, account_sid: str, flow_sid: str, contact: str, test_user: bool
    ) -> bool:
        row = require_flow(conn, account_sid, flow_sid)
        test = test_user or contact in (loads(row.test_users) or [])
        revision = row.latest_revision if test else row.latest_published
        if revision is None:
            return True
        try:
            definition = self.executor.runner.definition(conn, flow_sid, revision)
        except Exception:  # an unreadable revision: start_in says why
            return True
        return definition.allow_concurrent_calls

    def note_in(
        self,
        conn: Connection | Writes,
        account_sid: str,
        flow_sid: str | None,
        result: InboundResult,
        key: str | None,
    ) -> None:
        """Record an ignored event (81002...) in ``notifications`` (on a write
        connection, or through a unit's :class:`~callboard.runtime.unit.Writes`)."""
        if result.accepted:
            return
        rows = [
            {
                "account_sid": account_sid,
                "flow_sid": flow_sid,
                "execution_sid": result.execution_sid,
                "code": int(w.get("code") or 81002),
                "level": "warning",
                "message": str(w.get("message") or "Unexpected event ignored"),
                "request_key": key,
                "date_created": self._now(),
            }
            for w in result.warnings or [{"code": 81002, "message": "Unexpected event ignored"}]
        ]
        writes = conn if isinstance(conn, Writes) else Writes(conn)
        writes.add(lambda c: add_notifications(c, rows))

    # ------------------------------------------------------------------ voice

    def call_event(
        self, account_sid: str, execution_sid: str, call_sid: str, event: CallEvent
    ) -> InboundResult:
        """A voice call-back for the wait named by ``event.token``, processed once per
        (CallSid, token, name); a retry gets the same TwiML. An ignored call-back is
        recorded (81002) and answered with an empty ``<Response/>``."""
        key = f"call:{account_sid}:{call_sid}:{event.token}:{event.name}"

        def work(conn: Connection) -> tuple[dict[str, Any], str | None]:
            owner = execution_owner_flow(conn, account_sid, execution_sid)
            if owner is None:
                raise NotFound("Execution", execution_sid)
            result = self.executor.run_event_in(conn, execution_sid, event)
            out = InboundResult(
                execution_sid=execution_sid,
                started=False,
                accepted=result.accepted,
                twiml=_twiml(result),
                status=result.status,
                warnings=[{"code": w.code, "message": w.message} for w in result.warnings],
            )
            self.note_in(conn, account_sid, owner, out, key)
            return out.to_json(), execution_sid

        answer, duplicate = self.idempotent(key, account_sid, work)
        return InboundResult.from_json(answer, duplicate=duplicate)

    # ------------------------------------------------------------------ notifications

    def list_notifications(
        self,
        account_sid: str,
        *,
        execution_sid: str | None = None,
        flow_sid: str | None = None,
        limit: int = 100,
    ) -> list[Notification]:
        """Step-less warnings of the account, newest first (at most ``limit``, ≤ 1000)."""
        with self.db.read() as conn:
            rows = notifications_of(
                conn,
                account_sid,
                execution_sid=execution_sid,
                flow_sid=flow_sid,
                limit=max(1, min(limit, 1000)),
            )
        return [
            Notification(
                id=r.id,
                account_sid=r.account_sid,
                flow_sid=r.flow_sid,
                execution_sid=r.execution_sid,
                code=r.code,
                level=r.level,
                message=r.message,
                request_key=r.request_key,
                date_created=from_db_time(r.date_created),
            )
            for r in rows
        ]
