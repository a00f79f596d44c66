"""The inbound routing rule for a conversation message, on an open write connection
(:meth:`~callboard.runtime.inbound.InboundService.inbound_conversation` runs it once
per ``MessageSid``; the simulator channel runs it in its own transaction).

Twilio Conversations' ``onMessageAdded`` webhook (``ConversationSid``, ``MessageSid``,
``Author``, ``Body``, ``ParticipantSid``, ``Source``, ``ChatServiceSid``...) goes:

* to the execution named by ``ExecutionSid`` in the webhook's URL — the
  conversation-scoped webhook Start / Resume Conversation created for it — while that
  execution is active;
* else to the conversation's active execution of the flow (:func:`conversation_slot`);
* else it starts a new execution on ``incomingConversationMessage`` whose contact is the
  Conversation (``contact.channel.address`` = ``ConversationSid``, ``flow.channel`` holds
  ``ConversationSid`` / ``ChatServiceSid``) and ``trigger.conversation`` = the webhook's
  parameters (plus ``From`` = ``Author`` and ``ChannelSid`` = ``ConversationSid``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from callboard.contract.io import InboundMessage
from callboard.runtime.executor import Executor, StartRequest
from callboard.runtime.inbound_results import EMPTY_TWIML, InboundResult
from callboard.runtime.loaded import LoadedExecution
from callboard.runtime.records import InvalidParameter
from callboard.runtime.routing import Resume, conversation_slot, route_message
from callboard.store.executions import find_execution
from callboard.store.sids import sid_regex

__all__ = ["conversation_data", "route_conversation_in"]

_CH = sid_regex("CH")
_IS = sid_regex("IS")


def conversation_data(params: dict[str, Any]) -> dict[str, Any]:
    """``trigger.conversation`` / ``inbound``: the webhook's parameters, with Studio's
    ``From`` (the author) and ``ChannelSid`` (the conversation) added when absent."""
    data = {k: v for k, v in params.items() if k not in ("ExecutionSid", "FlowEvent")}
    data.setdefault("From", str(params.get("Author") or ""))
    data.setdefault("ChannelSid", str(params.get("ConversationSid") or ""))
    return data


def _scoped(
    executor: Executor, conn: Connection, account_sid: str, flow_sid: str, execution_sid: str
) -> LoadedExecution | None:
    """The execution a conversation-scoped webhook names, while it is active."""
    if not execution_sid or find_execution(conn, account_sid, flow_sid, execution_sid) is None:
        return None
    ex = executor.runner.load(conn, execution_sid)
    return ex if ex.status == "active" and ex.state is not None else None


def route_conversation_in(
    executor: Executor,
    conn: Connection,
    account_sid: str,
    flow_sid: str,
    params: dict[str, Any],
    *,
    test_user: bool = False,
) -> InboundResult:
    """THE routing rule for a conversation message (``routing.route_message`` on the
    conversation's slot), carried out on ``conn``. A lost race for the slot raises
    IntegrityError: the caller retries and the message goes to the winner."""
    contact, service = conversation_slot(params)  # service: only checked
    if not contact:
        raise InvalidParameter("ConversationSid", "Missing required parameter ConversationSid")
    if not _CH.fullmatch(contact):
        raise InvalidParameter("ConversationSid", f"ConversationSid {contact!r} is not a CH… SID")
    if service and not _IS.fullmatch(service):
        raise InvalidParameter("ChatServiceSid", f"ChatServiceSid {service!r} is not an IS… SID")
    data = conversation_data(params)
    active = _scoped(executor, conn, account_sid, flow_sid, str(params.get("ExecutionSid") or ""))
    if active is None:
        # a ConversationSid is unique on its own: the slot is found whatever the
        # webhook says of the service (a scoped webhook may leave ChatServiceSid out)
        active = executor.runner.load_active(conn, account_sid, flow_sid, contact)
    route = route_message(active)
    if isinstance(route, Resume):
        ex = route.execution
        result = executor.run_in(conn, ex, InboundMessage(data))
        started = False
    else:
        request = StartRequest(
            account_sid,
            flow_sid,
            trigger="incomingConversationMessage",
            contact=contact,
            # the slot is the conversation alone, in the database's unique index too
            # (flow.channel.ChatServiceSid still names the service)
            flow_address="",
            data=data,
            initiated_by=str(params.get("MessageSid") or "") or None,
            test_user=test_user,
        )
        ex, result = executor.start_in(conn, request)
        started = True
    return InboundResult(
        execution_sid=ex.sid,
        started=started,
        accepted=True if started else result.accepted,
        twiml=EMPTY_TWIML,
        status=result.status,
        warnings=[{"code": w.code, "message": w.message} for w in result.warnings],
    )
