"""Which channel an account uses, and the outbound work done through it.

:class:`ChannelRouter` is the service's :class:`~callboard.runtime.providers.MessageProvider`:

* an account with Twilio credentials (its own, set with ``callboard accounts
  set-twilio``, else the server-wide ``CALLBOARD_TWILIO_*``) is on the **twilio**
  channel: ``SendMessage`` goes through the outbox and the worker calls the Messages API
  (:mod:`callboard.channels.twilio_provider`) with a status call-back to the flow webhook;
* every other account is on the **simulator** channel: messages are stored (``messages``)
  and accepted inside the delivery transaction, calls are rows of ``calls`` that the
  simulator API (:mod:`callboard.channels.simulator`) answers.

Outbox handlers for ``place_call``, ``start_recording`` and ``stop_recording`` live here
too. Call-back URLs are absolute (Twilio needs them): the public URL
(``CALLBOARD_PUBLIC_URL``), else the base URL of the last signed webhook the server got.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from sqlalchemy import Connection, bindparam, select, update

from callboard.channels.config import ChannelConfig
from callboard.channels.twilio_provider import TwilioChannel, TwilioError
from callboard.engine.io import (
    EffectResult,
    Event,
    PlaceCall,
    StartRecording,
    StopRecording,
    effect_from_json,
)
from callboard.runtime.local import message_resource
from callboard.runtime.providers import OutboundMessage
from callboard.runtime.rows import loads, to_db_time
from callboard.store import tables as t
from callboard.store.db import insert_rows

if TYPE_CHECKING:
    from callboard.runtime.service import Callboard

__all__ = ["ChannelRouter", "flow_webhook_url", "set_twilio_credentials"]

log = logging.getLogger("callboard.channels")

# Every message an execution sends asks for the account's credentials: built once
# (and on SQLite sent to the driver as it is, SQLAlchemy's overhead being most of its cost).
_CREDENTIALS = select(t.accounts.c.twilio_account_sid, t.accounts.c.twilio_auth_token).where(
    t.accounts.c.sid == bindparam("sid")
)
_CREDENTIALS_SQL = "SELECT twilio_account_sid, twilio_auth_token FROM accounts WHERE sid = ?"


def flow_webhook_url(base: str, account_sid: str, flow_sid: str, **query: str) -> str:
    url = f"{base.rstrip('/')}/v1/Accounts/{quote(account_sid)}/Flows/{quote(flow_sid)}"
    return url + ("?" + urlencode(query) if query else "")


class ChannelRouter:
    name = "channels"
    in_transaction = True  # the default; the runner asks in_transaction_for per account

    def __init__(self, service: Callboard, config: ChannelConfig) -> None:
        self.service = service
        self.config = config
        # Without a public URL: the listen address (``callboard serve`` sets it). Never
        # learnt from a request, which would let one account steer another's call-backs.
        self.listen_base: str | None = None
        self._clients: dict[tuple[str, str], TwilioChannel] = {}

    # ------------------------------------------------------------------ accounts
    def credentials(self, conn: Connection, account_sid: str) -> tuple[str, str] | None:
        if conn.dialect.name == "sqlite":  # straight to the driver: two TEXT columns
            driver = conn.connection.driver_connection
            row = driver.execute(_CREDENTIALS_SQL, (account_sid,)).fetchone()  # type: ignore[union-attr]
            if row is not None and row[0] and row[1]:
                return str(row[0]), str(row[1])
            return self.config.default_credentials
        row = conn.execute(_CREDENTIALS, {"sid": account_sid}).first()
        if row is not None and row.twilio_account_sid and row.twilio_auth_token:
            return str(row.twilio_account_sid), str(row.twilio_auth_token)
        return self.config.default_credentials

    def read_credentials(self, account_sid: str) -> tuple[str, str] | None:
        with self.service.db.read() as conn:
            return self.credentials(conn, account_sid)

    def channel_name(self, account_sid: str) -> str:
        return "twilio" if self.read_credentials(account_sid) else "simulator"

    def twilio(self, creds: tuple[str, str]) -> TwilioChannel:
        client = self._clients.get(creds)
        if client is None:
            client = TwilioChannel(creds[0], creds[1], self.config.twilio_api_url)
            self._clients[creds] = client
        return client

    @property
    def base(self) -> str | None:
        return self.config.public_url or self.listen_base

    def callback(self, account_sid: str, flow_sid: str, **query: str) -> str | None:
        base = self.base
        if base is None:
            log.warning(
                "no public URL known (set CALLBOARD_PUBLIC_URL): sending without a call-back"
            )
            return None
        return flow_webhook_url(base, account_sid, flow_sid, **query)

    # ------------------------------------------------------------------ messages
    def in_transaction_for(self, conn: Connection, account_sid: str) -> bool:
        return self.credentials(conn, account_sid) is None

    def send_in_transaction(self, message: OutboundMessage) -> EffectResult:
        data = message_resource(message.effect, message.sid, message.account_sid, message.now)
        return EffectResult(message.effect.token, True, data)

    def send(self, message: OutboundMessage) -> EffectResult:
        creds = self.read_credentials(message.account_sid)
        if creds is None:  # credentials removed meanwhile: the simulator takes it
            return self.send_in_transaction(message)
        effect = message.effect
        status_callback = self.callback(
            message.account_sid,
            message.flow_sid,
            FlowEvent="callback",
            Callback="message-status",
            ExecutionSid=message.execution_sid,
            Token=effect.token,
        )
        try:
            data = self.twilio(creds).send_message(
                to=effect.to,
                from_=effect.from_,
                body=effect.body,
                media_urls=list(effect.media_urls),
                status_callback=status_callback,
                content_sid=effect.content_sid,
                content_variables=_json(effect.content_variables),
                shorten_urls=effect.shorten_urls,
            )
        except TwilioError as exc:
            self._message_row(message.sid, None, "failed", str(exc.code or ""))
            return EffectResult(effect.token, False, exc.data())
        self._message_row(message.sid, str(data.get("Sid") or ""), str(data.get("Status") or ""))
        return EffectResult(effect.token, True, data)

    def _message_row(self, sid: str, new_sid: str | None, status: str, error: str = "") -> None:
        values: dict[str, Any] = {"status": status or "queued"}
        if new_sid:
            values["sid"] = new_sid
        if error:
            values["error_code"] = error
        with self.service.db.write() as conn:
            conn.execute(update(t.messages).where(t.messages.c.sid == sid).values(values))

    # ------------------------------------------------------------------ outbox jobs
    def handlers(self) -> dict[str, Any]:
        return {
            "place_call": self._place_call,
            "start_recording": self._recording,
            "stop_recording": self._recording,
        }

    def _job(self, job: dict[str, Any]) -> tuple[Any, str, str]:
        payload = loads(job["payload"]) or {}
        payload.pop("_meta", None)
        return (
            effect_from_json(payload),
            str(job.get("account_sid") or ""),
            str(job.get("flow_sid") or ""),
        )

    def _place_call(self, service: Callboard, job: dict[str, Any]) -> Event | None:
        effect, account_sid, flow_sid = self._job(job)
        assert isinstance(effect, PlaceCall)
        execution_sid = str(job["execution_sid"])
        creds = self.read_credentials(account_sid)
        now = service.env.now()
        if creds is None:  # simulator: the call rings until the simulator API answers it
            sid = service.env.sid("CA")
            self._insert_call(sid, account_sid, flow_sid, execution_sid, effect, "simulator")
            data = {
                "Sid": sid,
                "CallSid": sid,
                "AccountSid": account_sid,
                "To": effect.to,
                "From": effect.from_,
                "Status": "queued",
                "Direction": "outbound-api",
                "DateCreated": now.isoformat(),
            }
            return EffectResult(effect.token, True, data)
        query = {"FlowEvent": "callback", "ExecutionSid": execution_sid, "Token": effect.token}
        url = self.callback(account_sid, flow_sid, **query, Callback="answered")
        if url is None:
            return EffectResult(
                effect.token, False, {"error": "no public URL: set CALLBOARD_PUBLIC_URL"}
            )
        status = self.callback(account_sid, flow_sid, **query, Callback="status")
        try:
            data = self.twilio(creds).place_call(
                to=effect.to,
                from_=effect.from_,
                url=url,
                status_callback=status,
                options=dict(effect.options),
            )
        except TwilioError as exc:
            return EffectResult(effect.token, False, exc.data())
        sid = str(data.get("Sid") or "")
        if sid:
            self._insert_call(sid, account_sid, flow_sid, execution_sid, effect, "twilio")
        return EffectResult(effect.token, True, data)

    def _insert_call(
        self,
        sid: str,
        account_sid: str,
        flow_sid: str,
        execution_sid: str,
        effect: PlaceCall,
        channel: str,
    ) -> None:
        now = to_db_time(self.service.env.now())
        with self.service.db.write() as conn:
            insert_rows(
                conn,
                t.calls,
                [
                    {
                        "sid": sid,
                        "account_sid": account_sid,
                        "flow_sid": flow_sid,
                        "execution_sid": execution_sid,
                        "token": effect.token,
                        "channel": channel,
                        "direction": "outbound-api",
                        "to_address": effect.to,
                        "from_address": effect.from_,
                        "status": "queued",
                        "twiml": None,
                        "twiml_seq": 0,
                        "sim_state": None,
                        "date_created": now,
                        "date_updated": now,
                    }
                ],
            )

    def _recording(self, service: Callboard, job: dict[str, Any]) -> Event | None:
        effect, account_sid, _ = self._job(job)
        assert isinstance(effect, StartRecording | StopRecording)
        creds = self.read_credentials(account_sid)
        starting = isinstance(effect, StartRecording)
        if creds is None:
            data = {
                "Sid": service.env.sid("RE"),
                "CallSid": effect.call_sid,
                "AccountSid": account_sid,
                "Status": "in-progress" if starting else "stopped",
            }
            return EffectResult(effect.token, True, data)
        try:
            client = self.twilio(creds)
            if isinstance(effect, StartRecording):
                data = client.start_recording(effect.call_sid, dict(effect.options))
            else:
                data = client.stop_recording(effect.call_sid)
        except TwilioError as exc:
            return EffectResult(effect.token, False, exc.data())
        return EffectResult(effect.token, True, data)


def _json(value: dict[str, str]) -> str:
    if not value:
        return ""
    import json

    return json.dumps(value)


def set_twilio_credentials(
    service: Callboard, account_sid: str, twilio_sid: str | None, auth_token: str | None
) -> bool:
    """Set (or, with None, clear) the Twilio account ``account_sid`` uses. Returns False
    when there is no such Callboard account."""
    values = {
        "twilio_account_sid": twilio_sid,
        "twilio_auth_token": auth_token,
        "date_updated": to_db_time(service.env.now()),
    }
    with service.db.write() as conn:
        done = conn.execute(
            update(t.accounts).where(t.accounts.c.sid == account_sid).values(values)
        )
    return bool(done.rowcount)
