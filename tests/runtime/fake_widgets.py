"""Minimal widgets for runner tests, independent of the real widget modules.

``install(monkeypatch)`` adds them to the registry for one test.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from callboard.contract.io import (
    EffectResult,
    Event,
    HttpRequest,
    InboundMessage,
    PlaceCall,
    Respond,
    StartTimer,
    TimerFired,
)
from callboard.contract.widget import Done, EventSpec, Outcome, Run, Wait, Widget
from callboard.widgets import registry


class AskWidget(Widget):
    """Waits for a reply, with a timer of ``seconds`` (default 60)."""

    type = "test-ask"
    label = "Ask"
    group = "Test"
    events = (EventSpec("reply", "Reply"), EventSpec("timeout", "Timeout"))

    def start(self, run: Run) -> Outcome:
        token = run.new_token()
        seconds = int(run.prop("seconds") or 60)
        timer = StartTimer(token, run.now + timedelta(seconds=seconds))
        return Wait(token, (timer,), accepts_messages=True)

    def resume(self, run: Run, event: Event) -> Outcome | None:
        if isinstance(event, InboundMessage):
            return Done("reply", variables={"inbound": dict(event.params)})
        if isinstance(event, TimerFired):
            return Done("timeout", variables={"at": run.now.isoformat()})
        return None


class FetchWidget(Widget):
    type = "test-fetch"
    label = "Fetch"
    group = "Test"
    events = (EventSpec("ok", "OK"), EventSpec("fail", "Fail"))

    def start(self, run: Run) -> Outcome:
        token = run.new_token()
        request = HttpRequest(
            token,
            str(run.prop("method") or "GET"),
            run.render("url"),
            headers={"X-Test": "1"},
            body=run.prop("body"),
        )
        return Wait(token, (request,))

    def resume(self, run: Run, event: Event) -> Outcome | None:
        if not isinstance(event, EffectResult):
            return None
        return Done("ok" if event.ok else "fail", variables=dict(event.data))


class VoiceWidget(Widget):
    type = "test-voice"
    label = "Voice"
    group = "Test"
    events = (EventSpec("done", "Done"),)

    def start(self, run: Run) -> Outcome:
        token = run.new_token()
        if run.prop("call"):
            return Wait(token, (PlaceCall(token, "+1", "+2"),))
        return Wait(token, (Respond("<Response><Say>hi</Say></Response>", token),))


class HoldWidget(Widget):
    """Waits for an event only the outside world could send (never a message)."""

    type = "test-hold"
    label = "Hold"
    group = "Test"
    events = (EventSpec("done", "Done"),)

    def start(self, run: Run) -> Outcome:
        return Wait(run.new_token())


class BoomWidget(Widget):
    type = "test-boom"
    label = "Boom"
    group = "Test"
    events = (EventSpec("next", "Next"),)

    def start(self, run: Run) -> Outcome:
        raise RuntimeError("widget exploded")


def install(monkeypatch: pytest.MonkeyPatch) -> None:
    table = registry._load()
    for widget in (AskWidget(), FetchWidget(), VoiceWidget(), HoldWidget(), BoomWidget()):
        monkeypatch.setitem(table, widget.type, widget)


def flow(*states: dict[str, Any], first: str = "") -> dict[str, Any]:
    """A flow whose Trigger sends incomingMessage and incomingRequest to ``first``."""
    start = first or states[0]["name"]
    trigger = {
        "name": "Trigger",
        "type": "trigger",
        "transitions": [
            {"event": "incomingMessage", "next": start},
            {"event": "incomingRequest", "next": start},
        ],
        "properties": {},
    }
    return {"initial_state": "Trigger", "states": [trigger, *states]}


def state(
    name: str, wtype: str, props: dict[str, Any] | None = None, **nexts: str
) -> dict[str, Any]:
    return {
        "name": name,
        "type": wtype,
        "transitions": [{"event": e, "next": n} for e, n in nexts.items()],
        "properties": props or {},
    }
