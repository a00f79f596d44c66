"""The context a new execution starts with, as Studio lays it out."""

from __future__ import annotations

from typing import Any

from callboard.contract.io import Start
from callboard.engine.state import copy_json

__all__ = ["ENDED", "TRIGGER_KEYS", "initial_context"]

ENDED = "Ended"

TRIGGER_KEYS = {
    "incomingMessage": "message",
    "incomingCall": "call",
    "incomingConversationMessage": "conversation",
    "incomingRequest": "request",
    "incomingParent": "parent",
}


def initial_context(event: Start) -> dict[str, Any]:
    """The context of a new execution, as Studio lays it out."""
    key = TRIGGER_KEYS.get(event.trigger, "request")
    data = copy_json(event.data)
    if event.trigger == "incomingRequest":
        data.setdefault("parameters", copy_json(event.parameters))
    channel: dict[str, Any] = {"address": event.flow_address}
    if event.trigger == "incomingConversationMessage":
        # a conversation execution: its messages go to this Conversation
        channel["ConversationSid"] = str(data.get("ConversationSid") or event.contact_address)
        if data.get("ChatServiceSid"):
            channel["ChatServiceSid"] = str(data["ChatServiceSid"])
    return {
        "contact": {"channel": {"address": event.contact_address}},
        "trigger": {key: data},
        "widgets": {},
        "flow": {
            "flow_sid": event.flow_sid,
            "sid": event.execution_sid,
            "channel": channel,
            "data": copy_json(event.parameters),
            "variables": {},
        },
    }
