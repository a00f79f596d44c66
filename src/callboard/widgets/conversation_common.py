"""Helpers shared by Start Conversation and Resume Conversation (not a widget)."""

from __future__ import annotations

from typing import Any

from callboard.contract.io import EffectResult, Event, OpenConversation
from callboard.contract.widget import Done, Outcome, Run, Wait
from callboard.widgets.common import conversation_sid

__all__ = ["FAILED", "conversation_done", "open_conversation", "refuse_channel"]

FAILED = 81016  # the request to Twilio's Conversations API failed (an HTTP error)
UNSUPPORTED = 81020


def refuse_channel(run: Run, what: str, failure: str) -> Done | None:
    """Both widgets are for REST-triggered executions only: an execution that already
    has a channel (a message, call or conversation) takes ``failure`` (warning 81020)."""
    trigger = run.context.get("trigger", {})
    has = conversation_sid(run) or any(k in trigger for k in ("message", "call", "conversation"))
    if not has:
        return None
    run.warn(UNSUPPORTED, f"{what} needs an execution without a channel (REST API trigger)")
    return Done(failure, variables={})


def open_conversation(
    run: Run, action: str, options: dict[str, Any], participant: dict[str, Any]
) -> Outcome:
    """Wait for the Conversations API (or the simulator) to start / resume it."""
    token = run.new_token()
    effect = OpenConversation(token, action, options, participant)
    return Wait(token, (effect,))


def conversation_done(run: Run, event: Event, success: str, failure: str) -> Outcome | None:
    """``success`` with ``conversation`` / ``webhook_sid`` (also merged into
    ``flow.channel``: the execution is now a conversation execution), else ``failure``."""
    if not isinstance(event, EffectResult):
        return None
    data = dict(event.data)
    if not event.ok:
        run.warn(FAILED, f"Conversation could not be opened: {data.get('error', 'failed')}")
        return Done(failure, variables={})  # Studio: failed exposes no variables
    conversation = dict(data.get("conversation") or {})
    variables = {
        "conversation": conversation,
        "webhook_sid": data.get("webhook_sid"),
        "close_channel_on_execution_end": False,
    }
    channel = {
        **variables,
        "ConversationSid": str(conversation.get("sid") or ""),
        "ChatServiceSid": str(conversation.get("chat_service_sid") or ""),
    }
    return Done(success, variables=variables, channel=channel)
