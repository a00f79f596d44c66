"""Start Conversation (newer widget, REST-triggered only): known so that flows containing it
load, validate and export.

It creates a Twilio Conversation and registers a webhook so replies resume the execution;
Callboard has no Conversations service to do that. ``runnable = False``: an execution that
reaches this widget records warning 81020 and ends. Events: ``created``, ``failed``. Its
property names are not confirmed by any export or schema (spec §2.21), so only ``offset`` is
declared; other properties are kept as they are.
"""

from __future__ import annotations

from callboard.contract.widget import OFFSET, Done, EventSpec, Outcome, Run, Widget

__all__ = ["WIDGET", "StartConversation"]


class StartConversation(Widget):
    type = "start-conversation"
    label = "Start Conversation"
    group = "Messaging"
    description = "Creates a Conversation with the contact (not supported by Callboard)."
    channel = "messaging"
    runnable = False
    events = (
        EventSpec("created", "Created"),
        EventSpec("failed", "Failed"),
    )
    props = (OFFSET,)

    def start(self, run: Run) -> Outcome:  # pragma: no cover - never run (runnable False)
        return Done("failed", variables={})


WIDGET = StartConversation()
