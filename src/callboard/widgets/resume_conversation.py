"""Resume Conversation: attach the execution (started by the REST API) to an existing
Twilio Conversation ``conversation_sid`` in ``conversation_service_sid``: a
conversation-scoped ``onMessageAdded`` webhook back to the flow makes its messages resume
this execution, and Send Message / Send & Wait For Reply post to it.

Events: ``resumed`` (variables ``conversation``, ``webhook_sid``,
``close_channel_on_execution_end``; merged into ``flow.channel``), ``failed`` (no such
conversation, the API refused, or the execution already has a channel: 81020).
"""

from __future__ import annotations

from callboard.contract.io import Event
from callboard.contract.widget import OFFSET, Done, EventSpec, Outcome, Prop, Run, Widget
from callboard.widgets.conversation_common import (
    FAILED,
    conversation_done,
    open_conversation,
    refuse_channel,
)

__all__ = ["WIDGET", "ResumeConversation"]


class ResumeConversation(Widget):
    type = "resume-conversation"
    label = "Resume Conversation"
    group = "Messaging"
    description = "Attaches the execution to an existing Conversation (REST API executions)."
    channel = "messaging"
    events = (
        EventSpec("resumed", "Resumed"),
        EventSpec("failed", "Failed"),
    )
    props = (
        OFFSET,
        Prop("conversation_service_sid", label="Conversation Service SID"),
        Prop("conversation_sid", label="Conversation SID"),
        Prop("webhook_filters", kind="any", label="Webhook filters"),
        Prop("attributes", editor="textarea", label="Attributes (JSON)"),
    )
    variables = ("conversation.sid", "conversation.participants", "webhook_sid")

    def start(self, run: Run) -> Outcome:
        refused = refuse_channel(run, "Resume Conversation", "failed")
        if refused is not None:
            return refused
        sid = run.render("conversation_sid").strip()
        if not sid:
            run.warn(FAILED, "Resume Conversation needs a conversation_sid")
            return Done("failed", variables={})
        options = {
            "ChatServiceSid": run.render("conversation_service_sid").strip(),
            "ConversationSid": sid,
        }
        return open_conversation(run, "resume", options, {})

    def resume(self, run: Run, event: Event) -> Outcome | None:
        return conversation_done(run, event, "resumed", "failed")


WIDGET = ResumeConversation()
