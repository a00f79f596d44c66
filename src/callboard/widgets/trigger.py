"""Trigger (Start): where every execution begins.

It has no properties but its canvas offset and takes the transition named after what
started the execution: an inbound message, call or conversation message, a REST API
request, or a parent flow's Run Subflow.
"""

from __future__ import annotations

from callboard.contract.widget import OFFSET, Done, EventSpec, Outcome, Run, Widget

__all__ = ["WIDGET", "Trigger"]


class Trigger(Widget):
    type = "trigger"
    label = "Trigger"
    group = "Flow Control"
    description = (
        "Starts the flow on an incoming message, call, conversation, REST request or parent flow."
    )
    events = (
        EventSpec("incomingMessage", "Incoming Message"),
        EventSpec("incomingCall", "Incoming Call"),
        EventSpec("incomingConversationMessage", "Incoming Conversation"),
        EventSpec("incomingRequest", "REST API"),
        EventSpec("incomingParent", "Subflow"),
    )
    props = (OFFSET,)

    def start(self, run: Run) -> Outcome:
        trigger = str(run.memo.get("trigger") or "incomingRequest")
        return Done(trigger)


WIDGET = Trigger()
