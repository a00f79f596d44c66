"""Run ConversationRelay (newer widget): known so that flows containing it load, validate and
export.

It connects the call to a ConversationRelay (AI voice) session whose JSON properties are
unknown, so Callboard cannot build honest TwiML for it. ``runnable = False``: an execution
that reaches this widget records warning 81020 and ends. Events: ``success``, ``failed``.
Its property names are not confirmed by any export or schema (spec §2.21), so only
``offset`` is declared; other properties are kept as they are.
"""

from __future__ import annotations

from callboard.contract.widget import OFFSET, Done, EventSpec, Outcome, Run, Widget

__all__ = ["WIDGET", "RunConversationRelay"]


class RunConversationRelay(Widget):
    type = "run-conversation-relay"
    label = "Run ConversationRelay"
    group = "Voice"
    description = "Connects the call to a ConversationRelay session (not supported by Callboard)."
    channel = "voice"
    runnable = False
    events = (
        EventSpec("success", "Success"),
        EventSpec("failed", "Failed"),
    )
    props = (OFFSET,)

    def start(self, run: Run) -> Outcome:  # pragma: no cover - never run (runnable False)
        return Done("failed", variables={})


WIDGET = RunConversationRelay()
