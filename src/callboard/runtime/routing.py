"""THE inbound routing rule, as a pure decision (no database, no engine).

Both the server (:class:`~callboard.runtime.inbound.InboundService` ``route_message_in`` /
``route_call_in``: Twilio webhooks and the simulator channel) and the in-memory runner
(:class:`~callboard.runtime.local.LocalRunner`: ``callboard chat`` / ``call`` and the
golden transcripts in memory) ask these functions what to do with an inbound message or
call, then carry the answer out their own way:

* a message goes to the contact's active execution of the flow (:class:`Resume`: a
  waiting Send & Wait For Reply consumes it, else the engine ignores it with 81002), or
  starts a new execution on ``incomingMessage`` (:class:`StartNew`);
* a conversation message (Twilio Conversations' ``onMessageAdded``) goes the same way
  as a message, keyed on its Conversation instead of a To/From pair
  (:func:`conversation_slot`: one active execution per conversation per flow): to the
  conversation's active execution, else a new one on ``incomingConversationMessage``;
  the flow's own messages (author ``system``) and other event types are ignored
  (:func:`conversation_ignored`);
* a call starts a new execution on ``incomingCall`` — one per call when the flow has
  ``flags.allow_concurrent_calls`` (:class:`StartNew`, not exclusive), else one per
  contact: while the contact has an active execution the call is refused
  (:class:`Refuse`, answered with 81002).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from callboard.contract.io import CONVERSATION_AUTHOR

__all__ = [
    "CONVERSATION_EVENT",
    "REFUSED_CALL_CODE",
    "Refuse",
    "Resume",
    "StartNew",
    "conversation_ignored",
    "conversation_slot",
    "route_call",
    "route_message",
]

T = TypeVar("T")

REFUSED_CALL_CODE = 81002
CONVERSATION_EVENT = "onMessageAdded"


@dataclass(frozen=True, slots=True)
class Resume(Generic[T]):
    """Deliver the event to ``execution``, the contact's active execution."""

    execution: T


@dataclass(frozen=True, slots=True)
class StartNew:
    """Start a new execution; ``exclusive``: it takes the contact's one slot."""

    exclusive: bool = True


@dataclass(frozen=True, slots=True)
class Refuse(Generic[T]):
    """Refuse the event (81002): ``active`` already holds the contact's slot."""

    active: T


def route_message(active: T | None) -> Resume[T] | StartNew:
    """A message: to the contact's ``active`` execution, else a new one."""
    if active is not None:
        return Resume(active)
    return StartNew()


def route_call(concurrent_calls: bool, find_active: Callable[[], T | None]) -> StartNew | Refuse[T]:
    """A call: a new execution per call when ``concurrent_calls``; else one per contact
    (``find_active`` is only asked then), refused while the contact has one."""
    if concurrent_calls:
        return StartNew(exclusive=False)
    active = find_active()
    if active is not None:
        return Refuse(active)
    return StartNew(exclusive=True)


def conversation_slot(params: Mapping[str, Any]) -> tuple[str, str]:
    """A conversation message's ``(ConversationSid, ChatServiceSid)``: the conversation
    is the slot on its own (the execution's contact, with no flow address: a
    ConversationSid is unique); the service ("" when the webhook does not say) goes into
    ``flow.channel.ChatServiceSid``."""
    return (
        str(params.get("ConversationSid") or "").strip(),
        str(params.get("ChatServiceSid") or "").strip(),
    )


def conversation_ignored(params: Mapping[str, Any]) -> str | None:
    """Why a Conversations webhook starts and resumes nothing (None: route it): another
    event type than ``onMessageAdded``, or a message the flow posted itself."""
    event = str(params.get("EventType") or "")
    if event != CONVERSATION_EVENT:
        return f"event type {event!r} is acknowledged and ignored"
    if str(params.get("Author") or "") == CONVERSATION_AUTHOR:
        return "a message the flow posted"
    return None
