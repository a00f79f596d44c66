"""Voice for the Flow webhook: incoming calls, call-backs' TwiML answers, call status.

:class:`CallWebhooks` is the voice half of :class:`~callboard.channels.webhooks.Channels`
(a mixin: ``Channels`` provides ``service``, ``router`` and ``wait_seconds``). It starts
an execution for an incoming call (refusing a second call of the same contact with 81002
and a ``<Hangup/>`` unless ``flags.allow_concurrent_calls``), answers call status
call-backs (the caller hung up), turns deliveries into TwiML answers, and keeps, per
call, the last TwiML its execution answered (``calls.twiml``, by the runner hook
:meth:`CallWebhooks._hook`). When the flow has nothing to say yet, the answer waits
up to :data:`WAIT_SECONDS` for it, then holds the call with ``<Pause/>`` and a
``<Redirect>`` that polls again. :mod:`callboard.channels.webhooks` re-exports
:class:`Answer`, :data:`HANGUP_TWIML` and :data:`TERMINAL`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from sqlalchemy import Connection, func, select, update

from callboard.channels.hangup import answering, hang_up_live_calls
from callboard.engine.io import CallEvent, EndExecution
from callboard.runtime.delivery import ExecRow
from callboard.runtime.inbound import EMPTY_TWIML
from callboard.runtime.records import DeliveryResult, InvalidParameter, NotFound
from callboard.runtime.rows import active_slot, loads, to_db_time
from callboard.store import tables as t
from callboard.store.db import insert_rows

if TYPE_CHECKING:
    from callboard.channels.router import ChannelRouter
    from callboard.runtime.service import Callboard

__all__ = ["HANGUP_TWIML", "TERMINAL", "WAIT_SECONDS", "Answer", "CallWebhooks"]

HANGUP_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup /></Response>'
TERMINAL = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
WAIT_SECONDS = 8.0


@dataclass(frozen=True, slots=True)
class Answer:
    body: str
    execution_sid: str | None = None
    status: int = 200


class CallWebhooks:
    """The voice methods of :class:`~callboard.channels.webhooks.Channels`."""

    service: Callboard
    router: ChannelRouter
    wait_seconds: float

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
            exclusive = not self._concurrent(conn, account_sid, flow_sid, contact, test_user)
            if exclusive:
                active = conn.execute(
                    select(t.executions.c.sid).where(
                        *active_slot(t.executions, flow_sid, contact, [address])
                    )
                ).scalar_one_or_none()
                if active is not None:
                    self._warn(conn, account_sid, flow_sid, active, f"call {call_sid}")
                    return {"twiml": HANGUP_TWIML, "execution_sid": active}, active
            ex, result = svc._start_in(
                conn,
                account_sid,
                flow_sid,
                trigger="incomingCall",
                contact=contact,
                flow_address=address,
                data=dict(params),
                initiated_by=call_sid,
                exclusive=exclusive,
                test_user=test_user,
            )
            twiml = _twiml_of(result)
            now = to_db_time(svc.env.now())
            insert_rows(
                conn,
                t.calls,
                [
                    {
                        "sid": call_sid,
                        "account_sid": account_sid,
                        "flow_sid": flow_sid,
                        "execution_sid": ex.sid,
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
                    }
                ],
            )
            return {"twiml": twiml, "execution_sid": ex.sid, "seq": 0}, ex.sid

        with answering(call_sid):
            answer, _ = svc.idempotent(f"call:{account_sid}:{call_sid}:start", account_sid, work)
        return self._finish(answer)

    def _concurrent(
        self, conn: Connection, account_sid: str, flow_sid: str, contact: str, test_user: bool
    ) -> bool:
        row = self.service._flow_row(conn, account_sid, flow_sid)
        test = test_user or contact in (loads(row.test_users) or [])
        revision = row.latest_revision if test else row.latest_published
        if revision is None:
            return True
        try:
            return self.service.runner.definition(conn, flow_sid, revision).allow_concurrent_calls
        except Exception:  # an unreadable revision: _start_in says why
            return True

    def _call_status(
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
                sid = conn.execute(
                    select(t.calls.c.execution_sid).where(
                        t.calls.c.sid == call_sid, t.calls.c.account_sid == account_sid
                    )
                ).scalar_one_or_none()
            ex = None
            if sid:  # lock the execution before the call's row, as a delivery does (PG)
                try:
                    ex = svc.runner.load(conn, sid)
                except NotFound:  # deleted by retention; the call row outlives it
                    sid = None
            if call_sid and status:
                self._call_row(conn, call_sid, status=status)
            if not sid or ex is None:
                return {"twiml": EMPTY_TWIML}, None
            if _ended(ex):
                return {"twiml": EMPTY_TWIML, "execution_sid": sid}, sid
            accepted = False
            if token:
                accepted = svc._deliver_in(conn, sid, CallEvent(token, "status", params)).accepted
            if status in TERMINAL and not accepted:
                ex = svc.runner.load(conn, sid)
                waiting = ex.state.waiting if ex.state is not None else None
                done = False
                if waiting is not None:
                    event = CallEvent(waiting.token, "hangup", params)
                    done = svc._deliver_in(conn, sid, event).accepted
                if not done:
                    svc._deliver_in(conn, sid, EndExecution("hangup"))
            return {"twiml": EMPTY_TWIML, "execution_sid": sid}, sid

        key = f"call:{account_sid}:{call_sid or execution_sid}:status:{token or ''}:{status}"
        answer, _ = svc.idempotent(key, account_sid, work)
        return Answer(EMPTY_TWIML, answer.get("execution_sid"))

    # ------------------------------------------------------------------ answers
    def _answer(
        self,
        conn: Connection,
        account_sid: str,
        flow_sid: str,
        ex: ExecRow,
        result: DeliveryResult,
    ) -> dict[str, Any]:
        if not result.accepted:  # stale or repeated: change nothing, repeat the current
            self._warn(conn, account_sid, flow_sid, ex.sid, "call-back", result)
            twiml = self._current(conn, ex.sid)
            return {"twiml": twiml or EMPTY_TWIML, "execution_sid": ex.sid}
        twiml = _twiml_of(result)
        if twiml is not None:
            return {"twiml": twiml, "execution_sid": ex.sid}
        return {"twiml": None, "execution_sid": ex.sid, "seq": self._seq(conn, ex.sid)}

    def _finish(self, answer: dict[str, Any]) -> Answer:
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
                row = conn.execute(
                    select(t.executions.c.status).where(t.executions.c.sid == execution_sid)
                ).first()
                if row is None or row.status == "ended":
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
        row = conn.execute(
            select(t.calls.c.twiml, t.calls.c.twiml_seq)
            .where(t.calls.c.execution_sid == execution_sid)
            .order_by(t.calls.c.twiml_seq.desc())
            .limit(1)
        ).first()
        if row is not None and row.twiml and int(row.twiml_seq) > seq:
            return str(row.twiml)
        return None

    def _seq(self, conn: Connection, execution_sid: str) -> int:
        value = conn.execute(
            select(func.max(t.calls.c.twiml_seq)).where(t.calls.c.execution_sid == execution_sid)
        ).scalar_one_or_none()
        return int(value or 0)

    def _current(self, conn: Connection, execution_sid: str) -> str | None:
        return self._latest(conn, execution_sid, -1)

    def _hook(self, conn: Connection, ex: ExecRow, result: DeliveryResult) -> None:
        """Runner hook: remember the TwiML a call execution answered; when the execution
        has just ended, hang up its calls (but the one whose webhook is being answered)."""
        if result.accepted and result.status == "ended":
            hang_up_live_calls(conn, self.service, self.router, ex.sid)
        if not result.responses:
            return
        conn.execute(
            update(t.calls)
            .where(t.calls.c.execution_sid == ex.sid)
            .values(
                twiml=result.responses[-1].twiml,
                twiml_seq=t.calls.c.twiml_seq + 1,
                date_updated=to_db_time(self.service.env.now()),
            )
        )

    # ------------------------------------------------------------------ helpers
    def _call_row(self, conn: Connection, call_sid: str, **values: Any) -> None:
        values["date_updated"] = to_db_time(self.service.env.now())
        conn.execute(update(t.calls).where(t.calls.c.sid == call_sid).values(values))

    def _warn(
        self,
        conn: Connection,
        account_sid: str,
        flow_sid: str,
        execution_sid: str,
        what: str,
        result: DeliveryResult | None = None,
    ) -> None:
        warnings = result.warnings if result is not None else []
        message = (
            warnings[0].message
            if warnings
            else f"Unexpected event ({what}): execution {execution_sid} is active for this contact"
        )
        insert_rows(
            conn,
            t.notifications,
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


def _ended(ex: ExecRow) -> bool:
    return ex.status == "ended" or ex.state is None or ex.state.status == "ended"


def _twiml_of(result: DeliveryResult) -> str | None:
    if result.responses:
        return result.responses[-1].twiml
    if result.status == "ended":
        return HANGUP_TWIML
    return None
