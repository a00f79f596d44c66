"""Send to Autopilot (retired): known so that old flows load, validate and export.

Twilio retired Autopilot, so there is nothing to send to: ``runnable = False``. An
execution that reaches this widget records warning 81020 and ends.
Events: ``sessionEnded``, ``failure``, ``timeout``.
"""

from __future__ import annotations

from callboard.contract.widget import OFFSET, Done, EventSpec, Outcome, Prop, Run, Widget

__all__ = ["WIDGET", "SendToAutoPilot"]


class SendToAutoPilot(Widget):
    type = "send-to-auto-pilot"
    label = "Send to Autopilot"
    group = "Connect Other Products"
    description = "Autopilot was retired by Twilio; Callboard cannot run this widget."
    runnable = False
    events = (
        EventSpec("sessionEnded", "Session Ended"),
        EventSpec("failure", "Failure"),
        EventSpec("timeout", "Timeout"),
    )
    props = (
        OFFSET,
        Prop("autopilot_assistant_sid", required=True, label="Autopilot assistant SID"),
        Prop("from", required=True, default="{{flow.channel.address}}"),
        Prop("body", required=True, default="{{trigger.message.Body}}"),
        Prop("chat_attributes", label="Chat attributes"),
        Prop("chat_service", label="Chat service"),
        Prop("chat_channel", label="Chat channel"),
        Prop("target_task", label="Target task"),
        Prop("memory_parameters", kind="key_values", editor="key_values"),
        Prop("timeout", kind="integer", required=True, default=14400, editor="number"),
    )

    def start(self, run: Run) -> Outcome:  # pragma: no cover - never run (runnable False)
        return Done("failure", variables={})


WIDGET = SendToAutoPilot()
