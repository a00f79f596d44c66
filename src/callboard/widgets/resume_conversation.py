"""Resume Conversation (newer widget): known so that flows containing it load, validate and
export.

It resumes a Twilio Conversation handed off earlier; Callboard has no Conversations service.
``runnable = False``: an execution that reaches this widget records warning 81020 and ends.
Events: ``resumed``, ``failed``. Its property names are not confirmed by any export or
schema (spec §2.21), so only ``offset`` is declared; other properties are kept as they are.
"""

from __future__ import annotations

from callboard.contract.widget import OFFSET, Done, EventSpec, Outcome, Run, Widget

__all__ = ["WIDGET", "ResumeConversation"]


class ResumeConversation(Widget):
    type = "resume-conversation"
    label = "Resume Conversation"
    group = "Messaging"
    description = "Resumes a Conversation (not supported by Callboard)."
    channel = "messaging"
    runnable = False
    events = (
        EventSpec("resumed", "Resumed"),
        EventSpec("failed", "Failed"),
    )
    props = (OFFSET,)

    def start(self, run: Run) -> Outcome:  # pragma: no cover - never run (runnable False)
        return Done("failed", variables={})


WIDGET = ResumeConversation()
