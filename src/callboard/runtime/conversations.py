"""The simulator's answers to the Conversations and Flex effects
(:class:`~callboard.contract.io.OpenConversation`,
:class:`~callboard.contract.io.CreateFlexTask`), shaped as twilio-python's resources
(snake_case names, as the widgets' variables use them). The in-memory runner
(``callboard chat``) and the simulator channel (:mod:`callboard.channels.router`) both
answer with these; the Twilio channel asks Twilio."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from callboard.contract.io import CreateFlexTask, EffectResult, OpenConversation

__all__ = ["conversation_resource", "flex_interaction", "not_found", "participant_resource"]

CONVERSATIONS_URL = "https://conversations.twilio.com/v1"


def _stamp(now: datetime) -> str:
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")


def conversation_resource(
    effect: OpenConversation, sid: str, account_sid: str, now: datetime
) -> dict[str, Any]:
    """The Conversation a Start Conversation creates."""
    options = effect.options
    return {
        "sid": sid,
        "account_sid": account_sid,
        "chat_service_sid": str(options.get("ChatServiceSid") or "") or None,
        "messaging_service_sid": str(options.get("MessagingServiceSid") or "") or None,
        "friendly_name": str(options.get("FriendlyName") or "") or None,
        "unique_name": None,
        "attributes": str(options.get("Attributes") or "{}"),
        "state": "active",
        "date_created": _stamp(now),
        "date_updated": _stamp(now),
        "url": f"{CONVERSATIONS_URL}/Conversations/{sid}",
        "participants": [],
    }


def participant_resource(
    effect: OpenConversation, sid: str, conversation_sid: str, account_sid: str, now: datetime
) -> dict[str, Any]:
    """The one participant a Start Conversation adds."""
    p = effect.participant
    binding: dict[str, Any] | None = None
    if p.get("MessagingBinding.Address"):
        binding = {
            "address": p.get("MessagingBinding.Address"),
            "proxy_address": p.get("MessagingBinding.ProxyAddress"),
        }
    return {
        "sid": sid,
        "account_sid": account_sid,
        "conversation_sid": conversation_sid,
        "identity": str(p.get("Identity") or "") or None,
        "attributes": str(p.get("Attributes") or "{}"),
        "messaging_binding": binding,
        "role_sid": None,
        "date_created": _stamp(now),
        "date_updated": _stamp(now),
        "url": f"{CONVERSATIONS_URL}/Conversations/{conversation_sid}/Participants/{sid}",
    }


def flex_interaction(
    effect: CreateFlexTask, sid: str, task_sid: str, now: datetime
) -> dict[str, Any]:
    """The Flex Interaction (with its TaskRouter task, ``task_sid``) Send to Flex creates."""
    return {
        "sid": sid,
        "channel": dict(effect.channel),
        "routing": {
            **effect.routing,
            "properties": {
                **dict(effect.routing.get("properties") or {}),
                "task_sid": task_sid,
            },
        },
        "interaction_context_sid": None,
        "url": f"https://flex-api.twilio.com/v1/Interactions/{sid}",
        "date_created": _stamp(now),
    }


def not_found(token: str, what: str) -> EffectResult:
    """Twilio's 404 (20404) for a resource that does not exist, as a failed result."""
    message = f"The requested resource {what} was not found"
    return EffectResult(
        token,
        False,
        {"ErrorCode": 20404, "ErrorMessage": message, "error": f"Twilio answered 404: {message}"},
    )
