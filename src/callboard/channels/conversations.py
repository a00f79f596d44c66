"""The Conversations and Flex outbox jobs (``open_conversation``, ``create_flex_task``)
and the message posts of conversation executions, for both channels:

* **twilio** (the account has Twilio credentials): twilio-python's Conversations API
  (``POST /v1/Conversations``, ``…/Participants``, ``…/Webhooks``, ``…/Messages``) and
  Flex's Interactions API (``POST /v1/Interactions``), at ``CALLBOARD_TWILIO_API_URL``
  when set. The conversation-scoped webhook points at the flow's webhook URL with
  ``ExecutionSid`` in its query, so the conversation's messages resume that execution;
* **simulator**: the Conversation and the Flex task are rows of ``sim_objects`` (the
  simulator API lists them) and the results come back at once.

A 4xx from Twilio is final (the widget takes ``failed`` / ``failedToEnqueue`` with
``ErrorCode``/``ErrorMessage``); 5xx and network errors are retried by the outbox.
"""

from __future__ import annotations

from typing import Any

from callboard.channels.router import ChannelRouter
from callboard.channels.twilio_provider import TwilioError
from callboard.contract.io import CreateFlexTask, EffectResult, Event, OpenConversation
from callboard.runtime.conversations import (
    conversation_resource,
    flex_interaction,
    not_found,
    participant_resource,
)
from callboard.runtime.ports import OutboxHandler
from callboard.store.sim_objects import insert_sim_object, sim_object
from callboard.store.values import dumps, loads, to_db_time

__all__ = ["ConversationJobs"]


class ConversationJobs:
    """The Conversations / Flex work of the channels (see the module's description)."""

    def __init__(self, router: ChannelRouter) -> None:
        self.router = router

    def handlers(self) -> dict[str, OutboxHandler]:
        return {"open_conversation": self.open_conversation, "create_flex_task": self.flex_task}

    # ------------------------------------------------------------------ jobs
    def open_conversation(self, job: dict[str, Any]) -> Event | None:
        effect, account_sid, flow_sid = self.router.job_effect(job)
        assert isinstance(effect, OpenConversation)
        execution_sid = str(job["execution_sid"])
        creds = self.router.read_credentials(account_sid)
        if creds is None:
            return self._simulated_conversation(effect, account_sid, flow_sid, execution_sid)
        url = self.router.callback(account_sid, flow_sid, ExecutionSid=execution_sid)
        if url is None:
            return EffectResult(
                effect.token, False, {"error": "no public URL: set CALLBOARD_PUBLIC_URL"}
            )
        try:
            data = self.router.twilio(creds).open_conversation(
                effect.action, dict(effect.options), dict(effect.participant), url
            )
        except TwilioError as exc:
            return EffectResult(effect.token, False, exc.data())
        return EffectResult(effect.token, True, data)

    def flex_task(self, job: dict[str, Any]) -> Event | None:
        effect, account_sid, flow_sid = self.router.job_effect(job)
        assert isinstance(effect, CreateFlexTask)
        creds = self.router.read_credentials(account_sid)
        if creds is None:
            env = self.router.env
            data = flex_interaction(effect, env.sid("KD"), env.sid("WT"), env.now())
            conversation = dict(effect.channel.get("properties") or {}).get("media_channel_sid")
            self._insert(
                data["sid"],
                account_sid,
                flow_sid,
                str(job["execution_sid"]),
                "flex_task",
                str(conversation or "") or None,
                data,
            )
            return EffectResult(effect.token, True, data)
        try:
            data = self.router.twilio(creds).flex_interaction(
                dict(effect.channel), dict(effect.routing)
            )
        except TwilioError as exc:
            return EffectResult(effect.token, False, exc.data())
        return EffectResult(effect.token, True, data)

    # ------------------------------------------------------------------ simulator
    def _simulated_conversation(
        self, effect: OpenConversation, account_sid: str, flow_sid: str, execution_sid: str
    ) -> Event:
        env = self.router.env
        now = env.now()
        if effect.action == "resume":
            sid = str(effect.options.get("ConversationSid") or "")
            with self.router.db.read() as conn:
                row = sim_object(conn, account_sid, sid) if sid else None
            if row is None or row.kind != "conversation":
                return not_found(effect.token, f"Conversation {sid or '(none)'}")
            conversation = loads(row.data) or {}
        else:
            sid = env.sid("CH")
            conversation = conversation_resource(effect, sid, account_sid, now)
            if effect.participant:
                conversation["participants"] = [
                    participant_resource(effect, env.sid("MB"), sid, account_sid, now)
                ]
            self._insert(
                sid, account_sid, flow_sid, execution_sid, "conversation", sid, conversation
            )
        data = {"conversation": conversation, "webhook_sid": env.sid("WH")}
        return EffectResult(effect.token, True, data)

    def _insert(
        self,
        sid: str,
        account_sid: str,
        flow_sid: str,
        execution_sid: str,
        kind: str,
        conversation_sid: str | None,
        data: dict[str, Any],
    ) -> None:
        with self.router.db.write() as conn:
            insert_sim_object(
                conn,
                {
                    "sid": sid,
                    "account_sid": account_sid,
                    "flow_sid": flow_sid or None,
                    "execution_sid": execution_sid or None,
                    "kind": kind,
                    "conversation_sid": conversation_sid,
                    "data": dumps(data),
                    "date_created": to_db_time(self.router.env.now()),
                },
            )
