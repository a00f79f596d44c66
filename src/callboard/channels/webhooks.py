"""The Flow webhook's logic: inbound messages and calls, voice call-backs, status call-backs.

:class:`Channels` is installed on the service by :func:`install` (``callboard serve`` and
``callboard worker`` do it): it makes :class:`~callboard.channels.router.ChannelRouter` the
message provider, registers the outbox handlers for calls and recordings, and a runner
hook that keeps, for each call, the last TwiML its execution answered (``calls.twiml``).

:meth:`Channels.flow_webhook` takes the parameters of one request to
``/v1/Accounts/{AC}/Flows/{FW}`` (query and form merged; the signature was checked by
the HTTP layer) and dispatches on ``FlowEvent``:

* absent — an inbound message (``MessageSid``/``Body``): to the contact's active
  execution, else a new one on ``incomingMessage``; an inbound call (``CallSid``): a new
  execution on ``incomingCall`` (one per call when ``flags.allow_concurrent_calls``, else
  one per contact: a second call while one is active is refused with 81002 and a
  ``<Hangup/>``); a call status call-back (``CallStatus`` final, or ``CallbackSource``
  ``call-progress-events``): the caller hung up;
* ``callback`` — Callboard's own call-back URLs (``ExecutionSid``, ``Token``, ``Callback``
  = ``gather``/``dial``/``record``/``answered``/``status``/``message-status``/``poll``...);
* ``return`` — a TwiML Redirect coming back (to the call's, or the contact's, execution).

Every request that changes something runs once (``processed_requests``): a retried or
repeated request gets the first answer. A call-back whose token is stale changes nothing
and is answered with the TwiML the execution currently waits on (``<Hangup/>`` when the
execution has ended). When the flow has nothing to say yet (a Make HTTP Request between
two voice widgets runs in the worker), the answer waits up to :data:`WAIT_SECONDS` for it,
then holds the call with ``<Pause/>`` and a ``<Redirect>`` that polls again.

The voice half (incoming calls, TwiML answers, call status) is
:class:`~callboard.channels.webhooks_voice.CallWebhooks`, mixed into :class:`Channels`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select, update

from callboard.channels.config import ChannelConfig
from callboard.channels.hangup import HANG_UP_JOB, answering, hang_up_job
from callboard.channels.router import ChannelRouter
from callboard.channels.webhooks_voice import (
    HANGUP_TWIML,
    TERMINAL,
    WAIT_SECONDS,
    Answer,
    CallWebhooks,
    _ended,
)
from callboard.engine.io import CallEvent, MessageStatus
from callboard.runtime.inbound import EMPTY_TWIML
from callboard.runtime.records import InvalidParameter, NotFound
from callboard.runtime.rows import active_slot
from callboard.store import tables as t

if TYPE_CHECKING:
    from callboard.runtime.service import Callboard

__all__ = ["HANGUP_TWIML", "TERMINAL", "Answer", "Channels", "install"]


def install(service: Callboard, config: ChannelConfig | None = None) -> Channels:
    """Install the channels on ``service`` (once); returns them."""
    existing = getattr(service, "channels", None)
    if isinstance(existing, Channels):
        return existing
    channels = Channels(service, config or ChannelConfig.from_env())
    service.provider = channels.router
    service.runner.provider = channels.router
    service.runner.hooks.append(channels._hook)
    service.outbox_handlers.update(channels.router.handlers())
    service.outbox_handlers[HANG_UP_JOB] = hang_up_job(channels.router)
    service.channels = channels  # type: ignore[attr-defined]
    return channels


class Channels(CallWebhooks):
    def __init__(self, service: Callboard, config: ChannelConfig) -> None:
        self.service = service
        self.config = config
        self.router = ChannelRouter(service, config)
        self.wait_seconds = WAIT_SECONDS

    # ------------------------------------------------------------------ keys
    def signing_key(self, account_sid: str) -> str | None:
        """The Auth Token webhooks for ``account_sid`` are signed with: its Twilio
        account's, else (simulator channel) the Callboard account's own."""
        creds = self.router.read_credentials(account_sid)
        if creds is not None:
            return creds[1]
        try:
            return self.service.fetch_account(account_sid).auth_token
        except NotFound:
            return None

    # ------------------------------------------------------------------ dispatch
    def flow_webhook(
        self, account_sid: str, flow_sid: str, params: dict[str, str], *, test_user: bool = False
    ) -> Answer:
        with answering(params.get("CallSid")):
            return self._dispatch(account_sid, flow_sid, params, test_user)

    def _dispatch(
        self, account_sid: str, flow_sid: str, params: dict[str, str], test_user: bool
    ) -> Answer:
        with self.service.db.read() as conn:
            self.service._flow_row(conn, account_sid, flow_sid)  # NotFound
        event = params.get("FlowEvent", "")
        if event == "callback":
            return self._callback(account_sid, flow_sid, params)
        if event == "return":
            return self._return(account_sid, flow_sid, params)
        if event:
            raise InvalidParameter("FlowEvent", f"unknown FlowEvent {event!r}")
        if params.get("CallSid") and not params.get("MessageSid"):
            status = params.get("CallStatus", "")
            if status in TERMINAL or params.get("CallbackSource") == "call-progress-events":
                return self._call_status(account_sid, params, None, None)
            return self.incoming_call(account_sid, flow_sid, params, test_user=test_user)
        if params.get("MessageStatus") and "Body" not in params:
            return self._message_status(account_sid, params, None, None)
        if params.get("MessageSid") or params.get("SmsSid") or "Body" in params:
            result = self.service.inbound_message(account_sid, flow_sid, params)
            return Answer(result.twiml, result.execution_sid)
        raise InvalidParameter(
            "CallSid", "not a Twilio message or call webhook (no MessageSid, CallSid or Body)"
        )

    # ------------------------------------------------------------------ call-backs
    def _callback(self, account_sid: str, flow_sid: str, params: dict[str, str]) -> Answer:
        name = params.get("Callback", "")
        execution_sid = params.get("ExecutionSid", "")
        token = params.get("Token", "")
        if not name or not execution_sid:
            raise InvalidParameter("Callback", "a call-back needs Callback and ExecutionSid")
        with self.service.db.read() as conn:
            self._owned(conn, account_sid, flow_sid, execution_sid)
        if name == "poll":
            seq = int(params.get("Seq") or 0) if (params.get("Seq") or "").isdigit() else 0
            return self._finish({"twiml": None, "execution_sid": execution_sid, "seq": seq})
        if name == "message-status":
            return self._message_status(account_sid, params, execution_sid, token)
        if name == "status":
            return self._call_status(account_sid, params, execution_sid, token)
        call_sid = params.get("CallSid", "")
        event = CallEvent(token, name, dict(params))
        key = f"call:{account_sid}:{call_sid or execution_sid}:{token}:{name}"
        svc = self.service

        def work(conn: Connection) -> tuple[dict[str, Any], str | None]:
            ex = svc.runner.load(conn, execution_sid)
            if _ended(ex):
                return {"twiml": HANGUP_TWIML, "execution_sid": execution_sid}, execution_sid
            result = svc._deliver_in(conn, execution_sid, event)
            if name == "answered" and call_sid:
                self._call_row(conn, call_sid, status="in-progress")
            return self._answer(conn, account_sid, flow_sid, ex, result), execution_sid

        answer, _ = svc.idempotent(key, account_sid, work)
        return self._finish(answer)

    def _return(self, account_sid: str, flow_sid: str, params: dict[str, str]) -> Answer:
        call_sid = params.get("CallSid", "")
        svc = self.service
        with svc.db.read() as conn:
            execution_sid = self._execution_for(conn, account_sid, flow_sid, params)
            if execution_sid is None:
                return Answer(HANGUP_TWIML if call_sid else EMPTY_TWIML)
            ex = svc.runner.load(conn, execution_sid)
        waiting = ex.state.waiting if ex.state is not None else None
        token = waiting.token if waiting is not None else ""
        what = call_sid or params.get("MessageSid") or params.get("From", "")

        def work(conn: Connection) -> tuple[dict[str, Any], str | None]:
            ex = svc.runner.load(conn, execution_sid)
            if _ended(ex):
                body = HANGUP_TWIML if call_sid else EMPTY_TWIML
                return {"twiml": body, "execution_sid": execution_sid}, execution_sid
            result = svc._deliver_in(conn, execution_sid, CallEvent(token, "return", params))
            return self._answer(conn, account_sid, flow_sid, ex, result), execution_sid

        answer, _ = svc.idempotent(f"ret:{account_sid}:{what}:{token}", account_sid, work)
        return self._finish(answer)

    def _execution_for(
        self, conn: Connection, account_sid: str, flow_sid: str, params: dict[str, str]
    ) -> str | None:
        call_sid = params.get("CallSid", "")
        if call_sid:
            sid = conn.execute(
                select(t.calls.c.execution_sid).where(
                    t.calls.c.sid == call_sid, t.calls.c.account_sid == account_sid
                )
            ).scalar_one_or_none()
            return str(sid) if sid else None
        contact, address = params.get("From", ""), params.get("To", "")
        sid = conn.execute(
            select(t.executions.c.sid).where(
                *active_slot(t.executions, flow_sid, contact, [address])
            )
        ).first()
        sid = sid[0] if sid else None
        return str(sid) if sid else None

    # ------------------------------------------------------------------ messages
    def _message_status(
        self,
        account_sid: str,
        params: dict[str, str],
        execution_sid: str | None,
        token: str | None,
    ) -> Answer:
        sid = params.get("MessageSid") or params.get("SmsSid") or ""
        status = (params.get("MessageStatus") or params.get("SmsStatus") or "").lower()
        svc = self.service

        def work(conn: Connection) -> tuple[dict[str, Any], str | None]:
            m = t.messages
            ex_sid, tok = execution_sid, token
            if sid:
                row = conn.execute(
                    select(m.c.execution_sid, m.c.token).where(
                        m.c.sid == sid, m.c.account_sid == account_sid
                    )
                ).first()
                if row is not None:
                    ex_sid, tok = ex_sid or row.execution_sid, tok or row.token
                    values: dict[str, Any] = {"status": status or "unknown"}
                    if params.get("ErrorCode"):
                        values["error_code"] = str(params["ErrorCode"])[:16]
                    conn.execute(update(m).where(m.c.sid == sid).values(values))
            if ex_sid and tok and status:
                ex = svc.runner.load(conn, ex_sid)
                if not _ended(ex):
                    svc._deliver_in(conn, ex_sid, MessageStatus(tok, status, dict(params)))
            return {"twiml": EMPTY_TWIML, "execution_sid": ex_sid}, ex_sid

        key = f"msgstatus:{account_sid}:{sid or execution_sid}:{token or ''}:{status}"
        answer, _ = svc.idempotent(key, account_sid, work)
        return Answer(EMPTY_TWIML, answer.get("execution_sid"))

    # ------------------------------------------------------------------ helpers
    def _owned(self, conn: Connection, account_sid: str, flow_sid: str, execution_sid: str) -> None:
        found = conn.execute(
            select(t.executions.c.sid).where(
                t.executions.c.sid == execution_sid,
                t.executions.c.account_sid == account_sid,
                t.executions.c.flow_sid == flow_sid,
            )
        ).first()
        if found is None:
            raise NotFound("Execution", execution_sid)
