"""Start Conversation: create a Twilio Conversation with one participant, so that the
execution (started by the REST API) goes on as a conversation execution.

The Conversation is created in ``conversation_service_sid`` (or ``chat_service_sid``)
with ``friendly_name``, ``attributes`` and ``messaging_service_sid``; its participant is
the first of ``participants``: ``{"type": "chat", "identity": …}`` or ``{"type": "sms",
"messaging_binding_address": …, "messaging_binding_proxy_address": …}`` (Liquid in every
value). A conversation-scoped ``onMessageAdded`` webhook back to the flow makes the
participant's messages resume this execution; from then on Send Message and Send & Wait
For Reply post to the Conversation.

Events: ``created`` (variables ``conversation`` — the Conversation resource with its
``participants`` — ``webhook_sid``, ``close_channel_on_execution_end``; merged into
``flow.channel`` too), ``failed`` (the API refused, or the execution already has a
channel: warning 81020).
"""

from __future__ import annotations

import json
from typing import Any

from callboard.contract.io import Event
from callboard.contract.widget import OFFSET, EventSpec, Outcome, Prop, Run, Widget
from callboard.widgets.conversation_common import (
    conversation_done,
    open_conversation,
    refuse_channel,
)

__all__ = ["WIDGET", "StartConversation"]

PARTICIPANT_KEYS = {
    "identity": "Identity",
    "messaging_binding_address": "MessagingBinding.Address",
    "messaging_binding_proxy_address": "MessagingBinding.ProxyAddress",
    "attributes": "Attributes",
}


class StartConversation(Widget):
    type = "start-conversation"
    label = "Start Conversation"
    group = "Messaging"
    description = "Creates a Conversation with the contact (REST API executions)."
    channel = "messaging"
    events = (
        EventSpec("created", "Created"),
        EventSpec("failed", "Failed"),
    )
    props = (
        OFFSET,
        Prop("conversation_service_sid", label="Conversation Service SID"),
        Prop(
            "participants",
            kind="any",
            label="Participants",
            editor="textarea",
            help='JSON: [{"type": "chat", "identity": "…"}] or [{"type": "sms", '
            '"messaging_binding_address": "…", "messaging_binding_proxy_address": "…"}]',
        ),
        Prop("friendly_name", label="Friendly name"),
        Prop("attributes", editor="textarea", label="Attributes (JSON)"),
        Prop("chat_service_sid", label="Chat Service SID"),
        Prop("messaging_service_sid", label="Messaging Service SID"),
    )
    variables = ("conversation.sid", "conversation.participants", "webhook_sid")

    def start(self, run: Run) -> Outcome:
        refused = refuse_channel(run, "Start Conversation", "failed")
        if refused is not None:
            return refused
        service = (
            run.render("conversation_service_sid").strip() or run.render("chat_service_sid").strip()
        )
        options = {
            "ChatServiceSid": service,
            "FriendlyName": run.render("friendly_name").strip(),
            "Attributes": run.render("attributes").strip(),
            "MessagingServiceSid": run.render("messaging_service_sid").strip(),
        }
        return open_conversation(run, "start", options, _participant(run))

    def resume(self, run: Run, event: Event) -> Outcome | None:
        return conversation_done(run, event, "created", "failed")


def _participant(run: Run) -> dict[str, Any]:
    """The first participant, with Twilio's parameter names (Liquid rendered)."""
    items: Any = run.prop("participants") or []
    if isinstance(items, str):  # JSON typed in the editor's text box
        try:
            items = json.loads(items)
        except ValueError:
            items = []
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not items or not isinstance(items[0], dict):
        return {}
    out: dict[str, Any] = {}
    for key, name in PARTICIPANT_KEYS.items():
        value = items[0].get(key)
        if value not in (None, ""):
            text = run.render_text(str(value), f"properties.participants.0.{key}").strip()
            if text:
                out[name] = text
    return out


WIDGET = StartConversation()
