"""The simulator channel: talk to a flow without Twilio.

Accounts with no Twilio credentials are on this channel: what their flows send is kept in
the database (``messages``, ``calls``) with SIDs, and this module lets a client play the
contact (the API is :mod:`callboard.api.simulator_routes`, documented in
``docs/simulator.md``; the editor's simulator drawer uses it):

* :meth:`Simulator.send_message` — an inbound SMS from a contact, run as a **test user**
  (the flow's latest revision, saved or published);
* :meth:`Simulator.list_messages` — the conversation (inbound and outbound) of a contact;
* :attr:`Simulator.conversations` — Twilio Conversations without Twilio
  (:mod:`callboard.channels.sim_conversations`);
* :meth:`Simulator.start_call` / :meth:`Simulator.call_input` — a voice call: the server
  plays Twilio's part with :class:`~callboard.channels.call_driver.CallDriver` (following
  redirects and call-backs itself) and answers what the caller heard, up to the next
  ``<Gather>``/``<Record>`` or the end of the call. Calls a flow places (Make Outgoing
  Call) ring until a client answers them (``Answer=true``) or gives their fate
  (``CallStatus=busy|no-answer|failed``).
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit
from xml.sax.saxutils import escape

from sqlalchemy import Connection

from callboard.channels.call_driver import CallDriver, CallError, Heard
from callboard.channels.hangup import ENDED
from callboard.channels.router import flow_webhook_url
from callboard.channels.sim_conversations import SimConversations
from callboard.channels.sim_fetch import ExternalFetch
from callboard.channels.webhooks import Channels
from callboard.runtime.flows import require_flow
from callboard.runtime.records import InvalidParameter, NotFound
from callboard.runtime.simulated import DEFAULT_CONTACT, DEFAULT_FLOW_ADDRESS
from callboard.store.calls import call_row, calls_of, update_call
from callboard.store.messages import conversation, insert_messages
from callboard.store.values import dumps, from_db_time, loads, to_db_time

__all__ = ["SIM_BASE", "Simulator"]

SIM_BASE = "http://simulator.callboard"  # the base URL simulated calls resolve against


def _iso(value: Any) -> str | None:
    when = from_db_time(value)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ") if when is not None else None


class Simulator:
    def __init__(self, channels: Channels) -> None:
        self.channels = channels
        self.service = channels.service
        self.conversations = SimConversations(channels)

    # ------------------------------------------------------------------ messages
    def send_message(
        self, account_sid: str, flow_sid: str, from_: str, to: str, body: str
    ) -> dict[str, Any]:
        from_, to = from_.strip(), to.strip()
        if not from_:
            raise InvalidParameter("From", "Missing required parameter From")
        if not to:
            raise InvalidParameter("To", "Missing required parameter To")
        svc = self.service
        with svc.db.read() as conn:
            require_flow(conn, account_sid, flow_sid)
        sid = svc.env.sid("SM")
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "SmsMessageSid": sid,
            "AccountSid": account_sid,
            "From": from_,
            "To": to,
            "Body": body,
            "NumMedia": "0",
            "NumSegments": "1",
            "SmsStatus": "received",
            "ApiVersion": "2010-04-01",
        }
        now = to_db_time(svc.env.now())

        def work(conn: Connection) -> tuple[dict[str, Any], str | None]:
            # the one inbound routing rule; the simulator's contact is a test user
            routed = svc.inbound.route_message_in(
                conn, account_sid, flow_sid, from_, to, dict(params), test_user=True
            )
            execution_sid, accepted = str(routed.execution_sid), routed.accepted
            if not accepted:
                self.channels.voice.warn(conn, account_sid, flow_sid, execution_sid, "message")
            row = {
                "sid": sid,
                "account_sid": account_sid,
                "execution_sid": execution_sid,
                "flow_sid": flow_sid,
                "direction": "inbound",
                "to_address": to,
                "from_address": from_,
                "body": body,
                "media_urls": "[]",
                "status": "received",
                "date_created": now,
                "token": None,
                "error_code": None,
            }
            insert_messages(conn, [row])
            out = _message_json(row)
            out["execution_sid"], out["accepted"] = execution_sid, accepted
            return out, execution_sid

        answer, _ = svc.idempotent(f"msg:{account_sid}:{sid}", account_sid, work)
        return answer

    def list_messages(
        self, account_sid: str, flow_sid: str, contact: str, limit: int = 200
    ) -> list[dict[str, Any]]:
        with self.service.db.read() as conn:
            rows = conversation(conn, account_sid, flow_sid, contact, limit)
        return [_message_json(dict(r._mapping)) for r in reversed(rows)]

    # ------------------------------------------------------------------ calls
    def start_call(self, account_sid: str, flow_sid: str, from_: str, to: str) -> dict[str, Any]:
        """A simulated inbound call from ``from_`` to the flow's number ``to``."""
        svc = self.service
        call_sid = svc.env.sid("CA")
        url = flow_webhook_url(SIM_BASE, account_sid, flow_sid)
        driver = self._driver(
            account_sid, call_sid, from_ or DEFAULT_CONTACT, to or DEFAULT_FLOW_ADDRESS, url
        )
        params = {**driver.base, "CallStatus": "ringing"}
        answer = self.channels.incoming_call(
            account_sid, flow_sid, params, test_user=True, channel="simulator"
        )
        heard = driver.play(answer.body, url)
        return self._save(account_sid, call_sid, driver, heard)

    def list_calls(self, account_sid: str, flow_sid: str, contact: str) -> list[dict[str, Any]]:
        with self.service.db.read() as conn:
            rows = calls_of(conn, account_sid, flow_sid, contact)
        return [_call_json(dict(r._mapping)) for r in rows]

    def call_input(
        self,
        account_sid: str,
        call_sid: str,
        *,
        digits: str | None = None,
        speech: str | None = None,
        recording: str | None = None,
        hangup: bool = False,
        answer: bool = False,
        call_status: str | None = None,
        answered_by: str | None = None,
    ) -> dict[str, Any]:
        with self.service.db.read() as conn:
            row = call_row(conn, call_sid, account_sid)
        if row is None:
            raise NotFound("Call", call_sid)
        state = loads(row.sim_state) if row.sim_state else None
        url = flow_webhook_url(SIM_BASE, account_sid, row.flow_sid or "")
        if state is None and row.direction == "outbound-api" and row.status in ENDED:
            out = _call_json(dict(row._mapping))  # e.g. its execution ended meanwhile
            hung_up = [Heard("hangup", "the call has ended")]
            out.update(twiml=heard_twiml(hung_up), actions=[h.to_json() for h in hung_up])
            return {**out, "waiting_for": None}
        if state is None:  # a call the flow placed, still ringing
            if row.direction != "outbound-api" or row.status not in ("queued", "ringing"):
                raise InvalidParameter("CallSid", f"call {call_sid} is not a simulated call")
            query = {
                "FlowEvent": "callback",
                "ExecutionSid": row.execution_sid or "",
                "Token": row.token or "",
            }
            status_url = f"{url}?{urlencode({**query, 'Callback': 'status'})}"
            # From/Caller: the flow's number; To/Called: the contact (Twilio's parameters
            # for an outbound-api call)
            driver = self._driver(
                account_sid,
                call_sid,
                row.from_address,
                row.to_address,
                status_url,
                direction="outbound-api",
            )
            if call_status and call_status != "in-progress":
                driver.status = call_status
                with suppress(CallError):  # like Twilio: a failing call-back changes nothing
                    self._fetch(account_sid)(
                        status_url, "POST", {**driver.base, "CallStatus": call_status}
                    )
                return self._save(account_sid, call_sid, driver, [Heard("hangup", call_status)])
            if not answer:
                raise InvalidParameter("Answer", "the call is ringing: answer it with Answer=true")
            extra = _machine_detection(row.machine_detection, answered_by)
            heard = driver.answer(
                f"{url}?{urlencode({**query, 'Callback': 'answered'})}", extra=extra
            )
            return self._save(account_sid, call_sid, driver, heard)
        driver = self._driver(account_sid, call_sid, "", "", None).load(state)
        try:
            if hangup:
                heard = driver.hangup()
            elif driver.ended:
                heard = [Heard("hangup", "the call has ended")]
            elif driver.waiting is not None and type(driver.waiting).__name__ == "Record":
                heard = driver.record(recording or speech or digits)
            else:
                heard = driver.gather(digits or None, speech or None)
        except CallError as exc:
            raise InvalidParameter("Digits", str(exc)) from None
        return self._save(account_sid, call_sid, driver, heard)

    # ------------------------------------------------------------------ plumbing
    def _driver(
        self,
        account_sid: str,
        call_sid: str,
        from_: str,
        to: str,
        status_url: str | None,
        direction: str = "inbound",
    ) -> CallDriver:
        return CallDriver(
            self._fetch(account_sid),
            call_sid=call_sid,
            account_sid=account_sid,
            from_=from_,
            to=to,
            direction=direction,
            status_url=status_url,
        )

    def _fetch(self, account_sid: str) -> Any:
        prefix = f"{SIM_BASE}/v1/Accounts/{account_sid}/Flows/"
        external = ExternalFetch()  # egress-checked, bounded in count and time

        def fetch(url: str, method: str, params: dict[str, str]) -> str:
            if url.startswith(prefix):
                parts = urlsplit(url)
                flow_sid = parts.path.rsplit("/", 1)[-1]
                merged = dict(parse_qsl(parts.query, keep_blank_values=True))
                merged.update(params)
                return self.channels.flow_webhook(account_sid, flow_sid, merged).body
            return external(url, method, params)

        return fetch

    def _save(
        self, account_sid: str, call_sid: str, driver: CallDriver, heard: list[Heard]
    ) -> dict[str, Any]:
        values: dict[str, Any] = {
            "sim_state": dumps(driver.to_json()),
            "date_updated": to_db_time(self.service.env.now()),
        }
        if driver.ended:
            values["status"] = driver.status
        with self.service.db.write() as conn:
            update_call(conn, call_sid, values)
            row = call_row(conn, call_sid)
        out: dict[str, Any] = (
            _call_json(dict(row._mapping)) if row is not None else {"call_sid": call_sid}
        )
        waiting = driver.waiting
        out.update(
            status=driver.status,
            twiml=heard_twiml(heard),
            actions=[h.to_json() for h in heard],
            waiting_for=type(waiting).__name__.lower() if waiting is not None else None,
        )
        return out


ANSWERED_BY = frozenset(
    {
        "human",
        "machine_start",
        "machine_end_beep",
        "machine_end_silence",
        "machine_end_other",
        "fax",
        "unknown",
    }
)


def _machine_detection(asked: str | None, answered_by: str | None) -> dict[str, str]:
    """``AnsweredBy`` (and ``MachineDetectionDuration``) for the answered call-back, as
    Twilio adds them when the call was placed with ``MachineDetection``; nothing when it
    was not (Twilio sends no ``AnsweredBy`` then)."""
    if not asked:
        if answered_by:
            raise InvalidParameter(
                "AnsweredBy", "the flow placed this call without answering machine detection"
            )
        return {}
    value = (answered_by or "human").strip()
    if value not in ANSWERED_BY:
        raise InvalidParameter(
            "AnsweredBy", f"AnsweredBy must be one of {', '.join(sorted(ANSWERED_BY))}"
        )
    return {"AnsweredBy": value, "MachineDetectionDuration": "1500"}


def heard_twiml(heard: list[Heard]) -> str:
    """What the caller heard, as one TwiML document (the editor renders it)."""
    parts: list[str] = []
    for h in heard:
        text = escape(h.text)
        if h.kind == "say":
            parts.append(f"<Say>{text}</Say>")
        elif h.kind == "play":
            parts.append(f"<Play>{text}</Play>")
        elif h.kind == "pause":
            parts.append('<Pause length="1" />')
        elif h.kind == "gather":
            parts.append(f'<Gather input="{escape(h.text)}" />')
        elif h.kind == "record":
            parts.append("<Record />")
        elif h.kind == "hangup":
            parts.append("<Hangup />")
        elif h.kind in ("dial", "enqueue", "pay", "connect"):
            tag = h.kind.capitalize()
            parts.append(f"<{tag}>{text}</{tag}>")
    return '<?xml version="1.0" encoding="UTF-8"?><Response>' + "".join(parts) + "</Response>"


def _message_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "sid": row["sid"],
        "account_sid": row["account_sid"],
        "flow_sid": row.get("flow_sid"),
        "execution_sid": row.get("execution_sid"),
        "direction": row["direction"],
        "from": row["from_address"],
        "to": row["to_address"],
        "body": row["body"],
        "media_urls": loads(row.get("media_urls")) or [],
        "status": row["status"],
        "date_created": _iso(row["date_created"]),
    }


def _call_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "call_sid": row["sid"],
        "account_sid": row["account_sid"],
        "flow_sid": row.get("flow_sid"),
        "execution_sid": row.get("execution_sid"),
        "direction": row["direction"],
        "from": row["from_address"],
        "to": row["to_address"],
        "status": row["status"],
        "channel": row["channel"],
        "date_created": _iso(row["date_created"]),
    }
