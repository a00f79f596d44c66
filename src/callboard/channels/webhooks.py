"""The Flow webhook's logic: inbound messages and calls, voice call-backs, status call-backs.

:class:`Channels` is built by the composition root
(:func:`callboard.commands.compose.build_services`), which also makes its
:class:`~callboard.channels.router.ChannelRouter` the runtime's message provider and plugs
the outbox handlers for calls and recordings and the runner hook
(:class:`~callboard.channels.hangup.CallRunHook`) into the runtime's ports.

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
:class:`~callboard.channels.webhooks_voice.CallWebhooks`, held by :class:`Channels`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from callboard.channels.config import ChannelConfig
from callboard.channels.router import ChannelRouter
from callboard.channels.webhooks_voice import (
    HANGUP_TWIML,
    TERMINAL,
    Answer,
    CallWebhooks,
    ended,
)
from callboard.contract.io import CallEvent, MessageStatus
from callboard.runtime.flows import require_flow
from callboard.runtime.inbound_results import EMPTY_TWIML
from callboard.runtime.records import InvalidParameter, NotFound
from callboard.runtime.routing import conversation_ignored
from callboard.runtime.service import Callboard
from callboard.store.calls import call_execution
from callboard.store.executions import active_execution_sid, find_execution
from callboard.store.messages import message_of, update_message

__all__ = ["HANGUP_TWIML", "TERMINAL", "Answer", "Channels"]


class Channels:
    """The Flow webhook's logic over the runtime service, the router (provider and
    credentials) and the voice half (:class:`CallWebhooks`)."""

    def __init__(self, service: Callboard, router: ChannelRouter, config: ChannelConfig) -> None:
        self.service = service
        self.config = config
        self.router = router
        self.voice = CallWebhooks(service, router)

    @property
    def wait_seconds(self) -> float:
        """How long a call-back waits for the worker's TwiML before holding the call."""
        return self.voice.wait_seconds

    @wait_seconds.setter
    def wait_seconds(self, value: float) -> None:
        self.voice.wait_seconds = value

    def signing_key(self, account_sid: str) -> str | None:
        """The Auth Token webhooks for ``account_sid`` are signed with."""
        return self.router.signing_key(account_sid)

    def incoming_call(
        self,
        account_sid: str,
        flow_sid: str,
        params: dict[str, str],
        *,
        test_user: bool = False,
        channel: str = "twilio",
    ) -> Answer:
        return self.voice.incoming_call(
            account_sid, flow_sid, params, test_user=test_user, channel=channel
        )

    # ------------------------------------------------------------------ dispatch
    @staticmethod
    def commit_bound(params: dict[str, str]) -> bool:
        """Whether :meth:`flow_webhook` waits for nothing but its commit with these
        parameters: an inbound message (a voice call-back may wait for the worker's
        TwiML). It may then run on the event loop (:mod:`callboard.store.suspend`)."""
        return not params.get("FlowEvent") and not params.get("EventType") and _is_message(params)

    def flow_webhook(
        self, account_sid: str, flow_sid: str, params: dict[str, str], *, test_user: bool = False
    ) -> Answer:
        event = params.get("FlowEvent", "")
        if not event and params.get("EventType"):  # Twilio Conversations
            return self.conversation_event(account_sid, flow_sid, params, test_user=test_user)
        if not event and _is_message(params):  # the routing rule reads the flow itself
            result = self.service.inbound.inbound_message(account_sid, flow_sid, params)
            return Answer(result.twiml, result.execution_sid)
        with self.service.db.read() as conn:
            require_flow(conn, account_sid, flow_sid)  # NotFound
        if event == "callback":
            return self._callback(account_sid, flow_sid, params)
        if event == "return":
            return self._return(account_sid, flow_sid, params)
        if event:
            raise InvalidParameter("FlowEvent", f"unknown FlowEvent {event!r}")
        if params.get("CallSid") and not params.get("MessageSid"):
            status = params.get("CallStatus", "")
            if status in TERMINAL or params.get("CallbackSource") == "call-progress-events":
                return self.voice.call_status(account_sid, params, None, None)
            return self.voice.incoming_call(account_sid, flow_sid, params, test_user=test_user)
        if params.get("MessageStatus") and "Body" not in params:
            return self._message_status(account_sid, params, None, None)
        raise InvalidParameter(
            "CallSid", "not a Twilio message or call webhook (no MessageSid, CallSid or Body)"
        )

    def conversation_event(
        self, account_sid: str, flow_sid: str, params: dict[str, str], *, test_user: bool = False
    ) -> Answer:
        """A Conversations webhook: ``onMessageAdded`` starts or resumes the
        conversation's execution (the routing rule); other event types and the flow's own
        messages are acknowledged and ignored."""
        if conversation_ignored(params) is not None:
            with self.service.db.read() as conn:
                require_flow(conn, account_sid, flow_sid)  # NotFound
            return Answer(EMPTY_TWIML)
        result = self.service.inbound.inbound_conversation(
            account_sid, flow_sid, params, test_user=test_user
        )
        return Answer(EMPTY_TWIML, result.execution_sid)

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
            return self.voice.finish({"twiml": None, "execution_sid": execution_sid, "seq": seq})
        if name == "message-status":
            return self._message_status(account_sid, params, execution_sid, token)
        if name == "status":
            return self.voice.call_status(account_sid, params, execution_sid, token)
        call_sid = params.get("CallSid", "")
        event = CallEvent(token, name, dict(params))
        key = f"call:{account_sid}:{call_sid or execution_sid}:{token}:{name}"
        svc = self.service

        def work(conn: Connection) -> tuple[dict[str, Any], str | None]:
            ex = svc.runner.load(conn, execution_sid)
            if ended(ex):
                return {"twiml": HANGUP_TWIML, "execution_sid": execution_sid}, execution_sid
            result = svc.executor.run_in(conn, ex, event)
            if name == "answered" and call_sid:
                self.voice.call_row(conn, call_sid, status="in-progress")
            return self.voice.answer(conn, account_sid, flow_sid, ex, result), execution_sid

        answer, _ = svc.idempotent(key, account_sid, work)
        return self.voice.finish(answer)

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
            if ended(ex):
                body = HANGUP_TWIML if call_sid else EMPTY_TWIML
                return {"twiml": body, "execution_sid": execution_sid}, execution_sid
            result = svc.executor.run_in(conn, ex, CallEvent(token, "return", params))
            return self.voice.answer(conn, account_sid, flow_sid, ex, result), execution_sid

        answer, _ = svc.idempotent(f"ret:{account_sid}:{what}:{token}", account_sid, work)
        return self.voice.finish(answer)

    def _execution_for(
        self, conn: Connection, account_sid: str, flow_sid: str, params: dict[str, str]
    ) -> str | None:
        call_sid = params.get("CallSid", "")
        if call_sid:
            return call_execution(conn, account_sid, call_sid)
        return active_execution_sid(
            conn, flow_sid, params.get("From", ""), None, [params.get("To", "")]
        )

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
            ex_sid, tok = execution_sid, token
            if sid:
                row = message_of(conn, account_sid, sid)
                if row is not None:
                    ex_sid, tok = ex_sid or row.execution_sid, tok or row.token
                    values: dict[str, Any] = {"status": status or "unknown"}
                    if params.get("ErrorCode"):
                        values["error_code"] = str(params["ErrorCode"])[:16]
                    update_message(conn, sid, values)
            if ex_sid and tok and status:
                ex = svc.runner.load(conn, ex_sid)
                if not ended(ex):
                    svc.executor.run_in(conn, ex, MessageStatus(tok, status, dict(params)))
            return {"twiml": EMPTY_TWIML, "execution_sid": ex_sid}, ex_sid

        key = f"msgstatus:{account_sid}:{sid or execution_sid}:{token or ''}:{status}"
        answer, _ = svc.idempotent(key, account_sid, work)
        return Answer(EMPTY_TWIML, answer.get("execution_sid"))

    # ------------------------------------------------------------------ helpers
    def _owned(self, conn: Connection, account_sid: str, flow_sid: str, execution_sid: str) -> None:
        if find_execution(conn, account_sid, flow_sid, execution_sid) is None:
            raise NotFound("Execution", execution_sid)


def _is_message(params: dict[str, str]) -> bool:
    """An inbound message (not a call, a call status or a message status)."""
    if params.get("CallSid") and not params.get("MessageSid"):
        return False
    if params.get("MessageStatus") and "Body" not in params:
        return False
    return bool(params.get("MessageSid") or params.get("SmsSid") or "Body" in params)
