"""The simulator channel's Conversations (a part of
:class:`~callboard.channels.simulator.Simulator`): play a participant of a Conversation
without Twilio.

* :meth:`SimConversations.send_message` — an ``onMessageAdded`` in a Conversation (a new
  one when no ``ConversationSid`` is given), run as a **test user** through the one
  routing rule for conversation messages: to the conversation's active execution (or the
  execution whose Start / Resume Conversation attached it), else a new execution on
  ``incomingConversationMessage``. The flow's answers are ``messages`` rows addressed to
  the Conversation (``GET /callboard/v1/Simulator/Messages?Contact=CH…``);
* :meth:`SimConversations.list_objects` — the Conversations the flows started and the
  Flex tasks (Interactions) Send to Flex created (``sim_objects``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from callboard.channels.webhooks import Channels
from callboard.runtime.flows import require_flow
from callboard.runtime.inbound_conversation import route_conversation_in
from callboard.runtime.records import InvalidParameter
from callboard.store.messages import insert_messages
from callboard.store.sids import sid_regex
from callboard.store.sim_objects import sim_object, sim_objects_of
from callboard.store.values import from_db_time, loads, to_db_time

__all__ = ["SimConversations"]

_CH = sid_regex("CH")
KINDS = ("conversation", "flex_task")


class SimConversations:
    def __init__(self, channels: Channels) -> None:
        self.channels = channels
        self.service = channels.service

    def send_message(
        self,
        account_sid: str,
        flow_sid: str,
        conversation_sid: str,
        author: str,
        body: str,
    ) -> dict[str, Any]:
        svc = self.service
        conversation_sid = conversation_sid.strip() or svc.env.sid("CH")
        if not _CH.match(conversation_sid):
            raise InvalidParameter(
                "ConversationSid",
                f"ConversationSid {conversation_sid!r} is not a Conversation SID (CH…)",
            )
        author = author.strip() or "user"
        if len(author) > 255:
            raise InvalidParameter("Author", "Author must be at most 255 characters")
        with svc.db.read() as conn:
            require_flow(conn, account_sid, flow_sid)
            started = sim_object(conn, account_sid, conversation_sid)
        sid = svc.env.sid("IM")
        now = svc.env.now()
        params: dict[str, Any] = {
            "EventType": "onMessageAdded",
            "AccountSid": account_sid,
            "ConversationSid": conversation_sid,
            "MessageSid": sid,
            "Author": author,
            "Body": body,
            "Source": "SDK",
            "Attributes": "{}",
            "DateCreated": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if started is not None and started.execution_sid:  # its scoped webhook
            params["ExecutionSid"] = started.execution_sid
            chat_service = (loads(started.data) or {}).get("chat_service_sid")
            if chat_service:
                params["ChatServiceSid"] = chat_service

        def work(conn: Connection) -> tuple[dict[str, Any], str | None]:
            routed = route_conversation_in(
                svc.executor, conn, account_sid, flow_sid, params, test_user=True
            )
            execution_sid = str(routed.execution_sid)
            if not routed.accepted:
                self.channels.voice.warn(conn, account_sid, flow_sid, execution_sid, "message")
            row = {
                "sid": sid,
                "account_sid": account_sid,
                "execution_sid": execution_sid,
                "flow_sid": flow_sid,
                "direction": "inbound",
                "to_address": conversation_sid,
                "from_address": author,
                "body": body,
                "media_urls": "[]",
                "status": "received",
                "date_created": to_db_time(now),
                "token": None,
                "error_code": None,
            }
            insert_messages(conn, [row])
            out = {
                "sid": sid,
                "conversation_sid": conversation_sid,
                "author": author,
                "body": body,
                "execution_sid": execution_sid,
                "accepted": routed.accepted,
            }
            return out, execution_sid

        answer, _ = svc.idempotent(f"conv:{account_sid}:{sid}", account_sid, work)
        return answer

    def list_objects(self, account_sid: str, kind: str, flow_sid: str) -> list[dict[str, Any]]:
        """The Conversations (``conversation``) or Flex tasks (``flex_task``) of a flow."""
        if kind not in KINDS:
            raise InvalidParameter("Kind", f"kind must be one of {', '.join(KINDS)}")
        with self.service.db.read() as conn:
            require_flow(conn, account_sid, flow_sid)
            rows = sim_objects_of(conn, account_sid, kind, flow_sid=flow_sid)
        out = []
        for r in rows:
            when = from_db_time(r.date_created)
            out.append(
                {
                    "sid": r.sid,
                    "flow_sid": r.flow_sid,
                    "execution_sid": r.execution_sid,
                    "conversation_sid": r.conversation_sid,
                    "date_created": when.strftime("%Y-%m-%dT%H:%M:%SZ") if when else None,
                    "resource": loads(r.data) or {},
                }
            )
        return out
