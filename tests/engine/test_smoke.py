from __future__ import annotations

import itertools
from datetime import UTC, datetime

from callboard.contract.io import EffectResult, SendMessage, Start
from callboard.engine import Bundle, FlowRef, advance
from callboard.flow.model import FlowDefinition
from callboard.widgets.registry import WIDGETS


class FakeEnv:
    def __init__(self) -> None:
        self._ids = itertools.count(1)

    def now(self) -> datetime:
        return datetime(2026, 1, 1, tzinfo=UTC)

    def sid(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):032x}"


def test_send_message_then_end() -> None:
    flow = FlowDefinition.from_json(
        {
            "initial_state": "Trigger",
            "states": [
                {
                    "name": "Trigger",
                    "type": "trigger",
                    "transitions": [{"event": "incomingRequest", "next": "hi"}],
                    "properties": {},
                },
                {
                    "name": "hi",
                    "type": "send-message",
                    "transitions": [{"event": "sent"}, {"event": "failed"}],
                    "properties": {"body": "Hi {{flow.data.name}}"},
                },
            ],
        }
    )
    bundle = Bundle(FlowRef("FW1", 1, flow), widgets=WIDGETS)
    env = FakeEnv()
    start = Start("incomingRequest", "FN1", "FW1", "+15551", "+15552", {}, {"name": "Zeke"})
    first = advance(bundle, None, start, env)
    (effect,) = first.effects
    assert isinstance(effect, SendMessage)
    assert effect.body == "Hi Zeke"
    assert effect.to == "+15551"
    second = advance(bundle, first.state, EffectResult(effect.token, True, {"Sid": "SM1"}), env)
    assert second.state.status == "ended"
    assert [(s.transitioned_from, s.name, s.transitioned_to) for s in second.steps] == [
        ("hi", "sent", "Ended")
    ]
    assert second.state.context["widgets"]["hi"] == {"outbound": {"Sid": "SM1"}}
