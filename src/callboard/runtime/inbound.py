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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError, OperationalError

from callboard.engine.io import CallEvent, Event, InboundMessage
from callboard.runtime.base import ServiceBase
from callboard.runtime.delivery import ExecRow
from callboard.runtime.records import DeliveryResult, InvalidParameter, NotFound
from callboard.runtime.rows import active_slot, dumps, from_db_time, loads
from callboard.store import tables as t
from callboard.store.db import insert_rows

__all__ = ["EMPTY_TWIML", "InboundMixin", "InboundResult", "Notification"]

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
RACE_RETRIES = 8


@dataclass(frozen=True, slots=True)
class InboundResult:
    """What a webhook did (and what to answer).

    ``execution_sid``: the execution it went to (None: no execution); ``started``: it
    started that execution; ``accepted``: the engine took it (False: ignored, 81002 in
    ``warnings``); ``duplicate``: the request was seen before and nothing ran again;
    ``twiml``: the body to answer Twilio with (``text/xml``)."""

    execution_sid: str | None
    started: bool
    accepted: bool
    duplicate: bool = False
    twiml: str = EMPTY_TWIML
    status: str | None = None  # the execution's status afterwards
    warnings: list[dict[str, Any]] = field(default_factory=list)  # {"code", "message"}

    def to_json(self) -> dict[str, Any]:
        return {
            "execution_sid": self.execution_sid,
            "started": self.started,
            "accepted": self.accepted,
            "twiml": self.twiml,
            "status": self.status,
            "warnings": self.warnings,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, duplicate: bool) -> InboundResult:
        return cls(
            execution_sid=data.get("execution_sid"),
            started=bool(data.get("started")),
            accepted=bool(data.get("accepted")),
            duplicate=duplicate,
            twiml=str(data.get("twiml") or EMPTY_TWIML),
            status=data.get("status"),
            warnings=list(data.get("warnings") or []),
        )


@dataclass(frozen=True, slots=True)
class Notification:
    """A warning that belongs to no step (e.g. 81002, an inbound message ignored)."""

    id: int
    account_sid: str
    flow_sid: str | None
    execution_sid: str | None
    code: int
    level: str
    message: str
    request_key: str | None
    date_created: Any  # aware datetime


def _retryable(exc: OperationalError) -> bool:
    """PostgreSQL deadlock / serialisation failures (SQLSTATE 40P01 / 40001)."""
    code = getattr(exc.orig, "sqlstate", None)
    return code in ("40P01", "40001")


def _twiml(result: DeliveryResult) -> str:
    return result.responses[-1].twiml if result.responses else EMPTY_TWIML


class InboundMixin(ServiceBase):
    if TYPE_CHECKING:  # provided by Callboard and ExecutionsMixin

        def _deliver_in(
            self, conn: Connection, execution_sid: str, event: Event
        ) -> DeliveryResult: ...

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
        ) -> tuple[ExecRow, DeliveryResult]: ...

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
        if not key or len(key) > 255:
            raise InvalidParameter("key", "an idempotency key must be 1 to 255 characters")
        last: Exception | None = None
        for _ in range(RACE_RETRIES):
            try:
                with self.db.write() as conn:
                    stored = self._stored(conn, key)
                    if stored is not None:
                        return stored, True
                    answer, execution_sid = work(conn)
                    insert_rows(
                        conn,
                        t.processed_requests,
                        [
                            {
                                "key": key,
                                "account_sid": account_sid,
                                "result": dumps(answer),
                                "date_created": self._now(),
                                "execution_sid": execution_sid,
                            }
                        ],
                    )
                self.wakeup.set()
                return answer, False
            except (IntegrityError, OperationalError) as exc:  # a concurrent twin won
                if isinstance(exc, OperationalError) and not _retryable(exc):
                    raise
                last = exc
        assert last is not None
        raise last

    def _stored(self, conn: Connection, key: str) -> dict[str, Any] | None:
        row = conn.execute(
            select(t.processed_requests.c.result).where(t.processed_requests.c.key == key)
        ).first()
        if row is None:
            return None
        data = loads(row.result)
        return data if isinstance(data, dict) else {}

    # ------------------------------------------------------------------ messages

    def inbound_message(
        self, account_sid: str, flow_sid: str, params: Mapping[str, Any]
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
        if not contact:
            raise InvalidParameter("From", "Missing required parameter From")
        if not flow_address:
            raise InvalidParameter("To", "Missing required parameter To")
        sid = str(data.get("MessageSid") or data.get("SmsMessageSid") or data.get("SmsSid") or "")

        def work(conn: Connection) -> tuple[dict[str, Any], str | None]:
            result = self._message_in(conn, account_sid, flow_sid, contact, flow_address, data)
            self._note(conn, account_sid, flow_sid, result, f"msg:{account_sid}:{sid}")
            return result.to_json(), result.execution_sid

        if not sid:  # cannot be deduplicated: process it
            for _ in range(RACE_RETRIES):
                try:
                    with self.db.write() as conn:
                        answer, _ = work(conn)
                    break
                except (IntegrityError, OperationalError) as exc:
                    if isinstance(exc, OperationalError) and not _retryable(exc):
                        raise
                    continue
            else:
                raise RuntimeError("could not deliver the message (too many concurrent starts)")
            self.wakeup.set()
            return InboundResult.from_json(answer, duplicate=False)
        answer, duplicate = self.idempotent(f"msg:{account_sid}:{sid}", account_sid, work)
        return InboundResult.from_json(answer, duplicate=duplicate)

    def _message_in(
        self,
        conn: Connection,
        account_sid: str,
        flow_sid: str,
        contact: str,
        flow_address: str,
        data: dict[str, Any],
    ) -> InboundResult:
        e = t.executions
        addresses = [flow_address, str(data.get("MessagingServiceSid") or "")]
        query = select(e.c.sid).where(
            *active_slot(e, flow_sid, contact, addresses), e.c.account_sid == account_sid
        )
        if self.db.for_update():  # PostgreSQL re-checks the row once locked: if it ended
            query = query.with_for_update()  # meanwhile, the message starts a new one
        active = conn.execute(query).scalar_one_or_none()
        if active is not None:
            result = self._deliver_in(conn, active, InboundMessage(data))
            return InboundResult(
                execution_sid=active,
                started=False,
                accepted=result.accepted,
                twiml=_twiml(result),
                status=result.status,
                warnings=[{"code": w.code, "message": w.message} for w in result.warnings],
            )
        ex, result = self._start_in(
            conn,
            account_sid,
            flow_sid,
            trigger="incomingMessage",
            contact=contact,
            flow_address=flow_address,
            data=data,
            initiated_by=str(data.get("MessageSid") or "") or None,
        )
        return InboundResult(
            execution_sid=ex.sid,
            started=True,
            accepted=True,
            twiml=_twiml(result),
            status=result.status,
            warnings=[{"code": w.code, "message": w.message} for w in result.warnings],
        )

    def _note(
        self,
        conn: Connection,
        account_sid: str,
        flow_sid: str | None,
        result: InboundResult,
        key: str | None,
    ) -> None:
        """Record an ignored event (81002...) in ``notifications``."""
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
        insert_rows(conn, t.notifications, rows)

    # ------------------------------------------------------------------ voice

    def call_event(
        self, account_sid: str, execution_sid: str, call_sid: str, event: CallEvent
    ) -> InboundResult:
        """A voice call-back for the wait named by ``event.token``, processed once per
        (CallSid, token, name); a retry gets the same TwiML. An ignored call-back is
        recorded (81002) and answered with an empty ``<Response/>``."""
        key = f"call:{account_sid}:{call_sid}:{event.token}:{event.name}"

        def work(conn: Connection) -> tuple[dict[str, Any], str | None]:
            owner = conn.execute(
                select(t.executions.c.flow_sid).where(
                    t.executions.c.sid == execution_sid, t.executions.c.account_sid == account_sid
                )
            ).scalar_one_or_none()
            if owner is None:
                raise NotFound("Execution", execution_sid)
            result = self._deliver_in(conn, execution_sid, event)
            out = InboundResult(
                execution_sid=execution_sid,
                started=False,
                accepted=result.accepted,
                twiml=_twiml(result),
                status=result.status,
                warnings=[{"code": w.code, "message": w.message} for w in result.warnings],
            )
            self._note(conn, account_sid, owner, out, key)
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
        n = t.notifications
        query = select(n).where(n.c.account_sid == account_sid)
        if execution_sid is not None:
            query = query.where(n.c.execution_sid == execution_sid)
        if flow_sid is not None:
            query = query.where(n.c.flow_sid == flow_sid)
        query = query.order_by(n.c.id.desc()).limit(max(1, min(limit, 1000)))
        with self.db.read() as conn:
            rows = conn.execute(query).all()
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
