"""Voice for the Flow webhook: incoming calls, call-backs' TwiML answers, call status.

:class:`CallWebhooks` is the voice half of :class:`~callboard.channels.webhooks.Channels`
(which holds one). It starts an execution for an incoming call (refusing a second call
of the same contact with 81002 and a ``<Hangup/>`` unless ``flags.allow_concurrent_calls``),
answers call status call-backs (the caller hung up) and turns runs into TwiML answers,
from the last TwiML each call's execution answered (``calls.twiml``, kept by the runner
hook :class:`callboard.channels.hangup.CallRunHook`). When the flow has nothing to say
yet, the answer waits up to :data:`WAIT_SECONDS` for it, then holds the call with ``<Pause/>`` and a
``<Redirect>`` that polls again. :mod:`callboard.channels.webhooks` re-exports
:class:`Answer`, :data:`HANGUP_TWIML` and :data:`TERMINAL`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from sqlalchemy import Connection

from callboard.contract.io import CallEvent, EndExecution
from callboard.runtime.inbound_results import EMPTY_TWIML
from callboard.runtime.loaded import LoadedExecution
from callboard.runtime.records import InvalidParameter, NotFound, RunResult
from callboard.store.calls import (
    call_execution,
    insert_call,
    latest_twiml,
    twiml_seq,
    update_call,
)
from callboard.store.executions import execution_status
from callboard.store.notifications import add_notifications
from callboard.store.values import to_db_time

if TYPE_CHECKING:
    from callboard.channels.router import ChannelRouter
    from callboard.runtime.service import Callboard

__all__ = ["HANGUP_TWIML", "TERMINAL", "WAIT_SECONDS", "Answer", "CallWebhooks", "ended"]

HANGUP_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup /></Response>'
TERMINAL = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
WAIT_SECONDS = 8.0


@dataclass(frozen=True, slots=True)
class Answer:
    body: str
    execution_sid: str | None = None
    status: int = 200


class CallWebhooks:
    """The voice half of the Flow webhook (a part of
    :class:`~callboard.channels.webhooks.Channels`): incoming calls, call status, the
    TwiML answers, and what both halves share (the answer of a call-back, warnings)."""

    def __init__(self, service: Callboard, router: ChannelRouter) -> None:
        self.service = service
        self.router = router
        self.wait_seconds = WAIT_SECONDS

    # ------------------------------------------------------------------ calls
    def incoming_call(
        self,
        account_sid: str,
        flow_sid: str,
        params: dict[str, str],
        *,
        test_user: bool = False,
        channel: str = "twilio",
    ) -> Answer:
        call_sid = params.get("CallSid", "")
        contact = (params.get("From") or "").strip()
        address = (params.get("To") or "").strip()
        if not contact or not address:
            raise InvalidParameter("From", "an incoming call needs From and To")
        svc = self.service

        def work(conn: Connection) -> tuple[dict[str, Any], str | None]:
            routed = svc.inbound.route_call_in(
                conn,
                account_sid,
                flow_sid,
                contact,
                address,
                dict(params),
                initiated_by=call_sid,
                test_user=test_user,
            )
            if routed.result is None:  # the contact's active execution refuses it
                active = routed.execution_sid
                self.warn(conn, account_sid, flow_sid, active, f"call {call_sid}")
                return {"twiml": HANGUP_TWIML, "execution_sid": active}, active
            ex_sid = routed.execution_sid
            twiml = _twiml_of(routed.result)
            now = to_db_time(svc.env.now())
            insert_call(
                conn,
                {
                    "sid": call_sid,
                    "account_sid": account_sid,
                    "flow_sid": flow_sid,
                    "execution_sid": ex_sid,
                    "token": None,
                    "channel": channel,
                    "direction": "inbound",
                    "to_address": address,
                    "from_address": contact,
                    "status": "in-progress",
                    "twiml": twiml,
                    "twiml_seq": 1 if twiml else 0,
                    "sim_state": None,
                    "date_created": now,
                    "date_updated": now,
                },
            )
            return {"twiml": twiml, "execution_sid": ex_sid, "seq": 0}, ex_sid

        answer, _ = svc.idempotent(f"call:{account_sid}:{call_sid}:start", account_sid, work)
        return self.finish(answer)

    def call_status(
        self,
        account_sid: str,
        params: dict[str, str],
        execution_sid: str | None,
        token: str | None,
    ) -> Answer:
        call_sid = params.get("CallSid", "")
        status = params.get("CallStatus", "")
        svc = self.service

        def work(conn: Connection) -> tuple[dict[str, Any], str | None]:
            sid = execution_sid
            if sid is None:
                sid = call_execution(conn, account_sid, call_sid)
            ex = None
            if sid:  # lock the execution before the call's row, as a delivery does (PG)
                try:
                    ex = svc.runner.load(conn, sid)
                except NotFound:  # deleted by retention; the call row outlives it
                    sid = None
            if call_sid and status:
                self.call_row(conn, call_sid, status=status)
            if not sid or ex is None:
                return {"twiml": EMPTY_TWIML}, None
            if ended(ex):
                return {"twiml": EMPTY_TWIML, "execution_sid": sid}, sid
            accepted = False
            if token:
                status_event = CallEvent(token, "status", params)
                accepted = svc.executor.run_in(conn, ex, status_event).accepted
            if status in TERMINAL and not accepted:
                waiting = ex.state.waiting if ex.state is not None else None
                done = False
                if waiting is not None:
                    event = CallEvent(waiting.token, "hangup", params)
                    done = svc.executor.run_in(conn, ex, event).accepted
                if not done:
                    svc.executor.run_in(conn, ex, EndExecution("hangup"))
            return {"twiml": EMPTY_TWIML, "execution_sid": sid}, sid

        key = f"call:{account_sid}:{call_sid or execution_sid}:status:{token or ''}:{status}"
        answer, _ = svc.idempotent(key, account_sid, work)
        return Answer(EMPTY_TWIML, answer.get("execution_sid"))

    # ------------------------------------------------------------------ answers
    def answer(
        self,
        conn: Connection,
        account_sid: str,
        flow_sid: str,
        ex: LoadedExecution,
        result: RunResult,
    ) -> dict[str, Any]:
        if not result.accepted:  # stale or repeated: change nothing, repeat the current
            self.warn(conn, account_sid, flow_sid, ex.sid, "call-back", result)
            twiml = self.current(conn, ex.sid)
            return {"twiml": twiml or EMPTY_TWIML, "execution_sid": ex.sid}
        twiml = _twiml_of(result)
        if twiml is not None:
            return {"twiml": twiml, "execution_sid": ex.sid}
        return {"twiml": None, "execution_sid": ex.sid, "seq": self._seq(conn, ex.sid)}

    def finish(self, answer: dict[str, Any]) -> Answer:
        execution_sid = answer.get("execution_sid")
        if answer.get("twiml"):
            return Answer(str(answer["twiml"]), execution_sid)
        if not execution_sid:
            return Answer(EMPTY_TWIML)
        return Answer(self._await(str(execution_sid), int(answer.get("seq") or 0)), execution_sid)

    def _await(self, execution_sid: str, seq: int) -> str:
        """The TwiML the execution answers after ``seq`` (the worker may be running a
        job first), or a hold that polls again."""
        deadline = time.monotonic() + self.wait_seconds
        while True:
            with self.service.db.read() as conn:
                status = execution_status(conn, execution_sid)
                if status is None or status == "ended":
                    later = self._latest(conn, execution_sid, seq)
                    return later or HANGUP_TWIML
                later = self._latest(conn, execution_sid, seq)
            if later:
                return later
            if time.monotonic() >= deadline:
                break
            self.service.wakeup.set()
            time.sleep(0.05)
        query = urlencode(
            {
                "FlowEvent": "callback",
                "ExecutionSid": execution_sid,
                "Callback": "poll",
                "Seq": str(seq),
            }
        ).replace("&", "&amp;")
        return (
            '<?xml version="1.0" encoding="UTF-8"?><Response><Pause length="1" />'
            f'<Redirect method="POST">?{query}</Redirect></Response>'
        )

    def _latest(self, conn: Connection, execution_sid: str, seq: int) -> str | None:
        return latest_twiml(conn, execution_sid, seq)

    def _seq(self, conn: Connection, execution_sid: str) -> int:
        return twiml_seq(conn, execution_sid)

    def current(self, conn: Connection, execution_sid: str) -> str | None:
        return self._latest(conn, execution_sid, -1)

    # ------------------------------------------------------------------ helpers
    def call_row(self, conn: Connection, call_sid: str, **values: Any) -> None:
        values["date_updated"] = to_db_time(self.service.env.now())
        update_call(conn, call_sid, values)

    def warn(
        self,
        conn: Connection,
        account_sid: str,
        flow_sid: str,
        execution_sid: str,
        what: str,
        result: RunResult | None = None,
    ) -> None:
        warnings = result.warnings if result is not None else []
        message = (
            warnings[0].message
            if warnings
            else f"Unexpected event ({what}): execution {execution_sid} is active for this contact"
        )
        add_notifications(
            conn,
            [
                {
                    "account_sid": account_sid,
                    "flow_sid": flow_sid,
                    "execution_sid": execution_sid,
                    "code": warnings[0].code if warnings else 81002,
                    "level": "warning",
                    "message": message,
                    "request_key": None,
                    "date_created": to_db_time(self.service.env.now()),
                }
            ],
        )


def ended(ex: LoadedExecution) -> bool:
    return ex.status == "ended" or ex.state is None or ex.state.status == "ended"


def _twiml_of(result: RunResult) -> str | None:
    if result.responses:
        return result.responses[-1].twiml
    if result.status == "ended":
        return HANGUP_TWIML
    return None
