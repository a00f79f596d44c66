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
import threading
import time
from typing import Any
from urllib.parse import quote, urlencode

from sqlalchemy import Connection

from callboard.channels.config import ChannelConfig
from callboard.channels.twilio_provider import TwilioChannel, TwilioError
from callboard.contract.io import (
    EffectResult,
    Event,
    PlaceCall,
    StartRecording,
    StopRecording,
    effect_from_json,
)
from callboard.engine.core import Env
from callboard.runtime.message_resource import simulated_send
from callboard.runtime.ports import OutboxHandler
from callboard.runtime.providers import OutboundMessage
from callboard.store.accounts import AccountSecrets, read_secrets, set_twilio
from callboard.store.calls import insert_call
from callboard.store.db import Database
from callboard.store.messages import update_message
from callboard.store.values import loads, to_db_time

__all__ = ["ChannelRouter", "SecretsCache", "flow_webhook_url"]

log = logging.getLogger("callboard.channels")

SECRETS_TTL_SECONDS = 2.0
"""How long an account's secrets are reused without reading them again. A change made by
this process (``accounts set-twilio``, a rotated Auth Token) is seen at once (the cache is
told); one made by another process within this many seconds."""


def flow_webhook_url(base: str, account_sid: str, flow_sid: str, **query: str) -> str:
    url = f"{base.rstrip('/')}/v1/Accounts/{quote(account_sid)}/Flows/{quote(flow_sid)}"
    return url + ("?" + urlencode(query) if query else "")


class SecretsCache:
    """Accounts' secrets (Auth Token, Twilio credentials), read at most once per request:
    a signed webhook needs the signing key, each message it sends asks which channel."""

    def __init__(self, ttl: float = SECRETS_TTL_SECONDS) -> None:
        self.ttl = ttl
        self._found: dict[str, tuple[float, AccountSecrets | None]] = {}
        self._lock = threading.Lock()

    def cached(self, account_sid: str) -> tuple[bool, AccountSecrets | None]:
        """``(True, secrets)`` while the account's secrets are cached, else
        ``(False, None)``: no transaction is needed for a hit."""
        hit = self._found.get(account_sid)
        if hit is not None and hit[0] > time.monotonic():
            return True, hit[1]
        return False, None

    def get(self, conn: Connection, account_sid: str) -> AccountSecrets | None:
        known, found = self.cached(account_sid)
        if known:
            return found
        found = read_secrets(conn, account_sid)
        with self._lock:
            if len(self._found) > 10_000:
                self._found.clear()
            self._found[account_sid] = (time.monotonic() + self.ttl, found)
        return found

    def forget(self, account_sid: str | None = None) -> None:
        """Drop one account's secrets (all with None): they changed."""
        with self._lock:
            if account_sid is None:
                self._found.clear()
            else:
                self._found.pop(account_sid, None)


class ChannelRouter:
    name = "channels"
    in_transaction = True  # the default; the runner asks in_transaction_for per account

    def __init__(
        self, db: Database, env: Env, config: ChannelConfig, wakeup: threading.Event
    ) -> None:
        self.db = db
        self.env = env
        self.config = config
        self.wakeup = wakeup
        self.secrets = SecretsCache()
        self._clients: dict[tuple[str, str], TwilioChannel] = {}

    # ------------------------------------------------------------------ accounts
    def credentials(self, conn: Connection, account_sid: str) -> tuple[str, str] | None:
        found = self.secrets.get(conn, account_sid)
        if found is not None and found.twilio_account_sid and found.twilio_auth_token:
            return found.twilio_account_sid, found.twilio_auth_token
        return self.config.default_credentials

    def read_credentials(self, account_sid: str) -> tuple[str, str] | None:
        with self.db.read() as conn:
            return self.credentials(conn, account_sid)

    def signing_key(self, account_sid: str) -> str | None:
        """The Auth Token webhooks for ``account_sid`` are signed with: its Twilio
        account's, else (simulator channel) the Callboard account's own."""
        known, found = self.secrets.cached(account_sid)
        if not known:
            with self.db.read() as conn:
                found = self.secrets.get(conn, account_sid)
        if found is not None and found.twilio_account_sid and found.twilio_auth_token:
            return found.twilio_auth_token
        if self.config.default_credentials is not None:
            return self.config.default_credentials[1]
        return found.auth_token if found is not None else None

    def set_twilio_credentials(
        self, account_sid: str, twilio_sid: str | None, auth_token: str | None
    ) -> bool:
        """Set (or, with None, clear) the Twilio account ``account_sid`` uses. Returns
        False when there is no such Callboard account."""
        with self.db.write() as conn:
            done = set_twilio(conn, account_sid, twilio_sid, auth_token, to_db_time(self.env.now()))
        self.secrets.forget(account_sid)
        return done

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
        return self.config.callback_base

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
        return simulated_send(message.effect, message.sid, message.account_sid, message.now)

    def send(self, message: OutboundMessage) -> EffectResult:
        creds = self.read_credentials(message.account_sid)
        if creds is None:  # credentials removed meanwhile: the simulator takes it
            return self.send_in_transaction(message)
        effect = message.effect
        if effect.conversation_sid:  # a conversation execution: post to the Conversation
            return self._conversation_message(creds, message)
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
            self.message_row(message.sid, None, "failed", str(exc.code or ""))
            return EffectResult(effect.token, False, exc.data())
        self.message_row(message.sid, str(data.get("Sid") or ""), str(data.get("Status") or ""))
        return EffectResult(effect.token, True, data)

    def _conversation_message(
        self, creds: tuple[str, str], message: OutboundMessage
    ) -> EffectResult:
        effect = message.effect
        try:
            data = self.twilio(creds).conversation_message(
                effect.conversation_sid,
                author=effect.author,
                body=effect.body,
                attributes=effect.attributes,
            )
        except TwilioError as exc:
            self.message_row(message.sid, None, "failed", str(exc.code or ""))
            return EffectResult(effect.token, False, exc.data())
        data.setdefault("Status", "sent")
        self.message_row(message.sid, str(data.get("Sid") or ""), "sent")
        return EffectResult(effect.token, True, data)

    def message_row(self, sid: str, new_sid: str | None, status: str, error: str = "") -> None:
        values: dict[str, Any] = {"status": status or "queued"}
        if new_sid:
            values["sid"] = new_sid
        if error:
            values["error_code"] = error
        with self.db.write() as conn:
            update_message(conn, sid, values)

    # ------------------------------------------------------------------ outbox jobs
    def handlers(self) -> dict[str, OutboxHandler]:
        return {
            "place_call": self._place_call,
            "start_recording": self._recording,
            "stop_recording": self._recording,
        }

    def job_effect(self, job: dict[str, Any]) -> tuple[Any, str, str]:
        payload = loads(job["payload"]) or {}
        payload.pop("_meta", None)
        return (
            effect_from_json(payload),
            str(job.get("account_sid") or ""),
            str(job.get("flow_sid") or ""),
        )

    def _place_call(self, job: dict[str, Any]) -> Event | None:
        effect, account_sid, flow_sid = self.job_effect(job)
        assert isinstance(effect, PlaceCall)
        execution_sid = str(job["execution_sid"])
        creds = self.read_credentials(account_sid)
        now = self.env.now()
        if creds is None:  # simulator: the call rings until the simulator API answers it
            sid = self.env.sid("CA")
            self.record_outbound_call(
                sid, account_sid, flow_sid, execution_sid, effect, "simulator"
            )
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
            self.record_outbound_call(sid, account_sid, flow_sid, execution_sid, effect, "twilio")
        return EffectResult(effect.token, True, data)

    def record_outbound_call(
        self,
        sid: str,
        account_sid: str,
        flow_sid: str,
        execution_sid: str,
        effect: PlaceCall,
        channel: str,
    ) -> None:
        """The ``calls`` row of an outbound call ``effect`` placed as ``sid`` (queued)."""
        now = to_db_time(self.env.now())
        with self.db.write() as conn:
            insert_call(
                conn,
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
                    "machine_detection": _machine_detection(effect) or None,
                    "date_created": now,
                    "date_updated": now,
                },
            )

    def _recording(self, job: dict[str, Any]) -> Event | None:
        effect, account_sid, _ = self.job_effect(job)
        assert isinstance(effect, StartRecording | StopRecording)
        creds = self.read_credentials(account_sid)
        starting = isinstance(effect, StartRecording)
        if creds is None:
            data = {
                "Sid": self.env.sid("RE"),
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


def _machine_detection(effect: PlaceCall) -> str:
    """The ``MachineDetection`` mode the flow asked for (empty: none)."""
    return str(dict(effect.options).get("MachineDetection") or "")[:32]


def _json(value: dict[str, str]) -> str:
    if not value:
        return ""
    import json

    return json.dumps(value)
