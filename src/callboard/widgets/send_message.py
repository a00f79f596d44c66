"""Send Message: send one SMS/MMS/WhatsApp/chat message and go on at once.

``sent`` when the provider accepted the message, ``failed`` when the request failed.
Variables: ``widgets.<name>.outbound.*`` = the provider's message resource.
"""

from __future__ import annotations

from callboard.contract.io import EffectResult, Event, SendMessage
from callboard.contract.widget import OFFSET, Done, EventSpec, Outcome, Prop, Run, Wait, Widget
from callboard.widgets.common import message_effect

__all__ = ["WIDGET", "SendMessageWidget"]


class SendMessageWidget(Widget):
    type = "send-message"
    label = "Send Message"
    group = "Messaging"
    description = "Sends a message to the contact and continues without waiting."
    channel = "messaging"
    events = (EventSpec("sent", "Sent"), EventSpec("failed", "Failed"))
    props = (
        OFFSET,
        Prop("body", required=True, editor="textarea", label="Message body"),
        Prop("from", default="{{flow.channel.address}}", label="Send message from"),
        Prop("to", default="{{contact.channel.address}}", label="Send message to"),
        Prop("media_url", label="Media URL"),
        Prop("service", default="{{trigger.message.InstanceSid}}", label="Chat service"),
        Prop("channel", default="{{trigger.message.ChannelSid}}", label="Chat channel"),
        Prop("attributes", editor="textarea", label="Message attributes (JSON)"),
        Prop(
            "message_type",
            enum=("custom", "content_template"),
            liquid=False,
            editor="select",
            label="Message type",
        ),
        Prop("content_sid", label="Content template SID"),
        Prop("content_variables", kind="key_values", editor="key_values"),
        Prop("shorten_urls", kind="boolean", liquid=False, editor="checkbox"),
    )
    variables = ("outbound.Sid", "outbound.Status", "outbound.Body", "outbound.To", "outbound.From")

    def start(self, run: Run) -> Outcome:
        token = run.new_token()
        effect: SendMessage = message_effect(run, token, to=run.render("to"))
        return Wait(token, (effect,))

    def resume(self, run: Run, event: Event) -> Outcome | None:
        if not isinstance(event, EffectResult):
            return None
        outbound = dict(event.data)
        if not event.ok:
            run.warn(81011, f"Message could not be sent: {outbound.get('error', 'failed')}")
            return Done("failed", variables={"outbound": outbound} if outbound else {})
        return Done("sent", variables={"outbound": outbound})


WIDGET = SendMessageWidget()
