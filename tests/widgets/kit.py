"""Small inline flows driven through the real engine (shared by widget and engine tests).

``w("ask", "send-and-wait-for-reply", {"incomingMessage": "next"}, body="Hi")`` builds a
state whose transitions list every event of the widget type in its declared order;
``Harness(states).start()`` starts an execution and ``feed(event)`` applies events,
keeping the state, the steps and the effects of the last call.
"""

from __future__ import annotations

import json
from typing import Any

from callboard.contract.io import Effect, Event, Start
from callboard.engine import Advance, Bundle, ExecutionState, FlowRef, advance
from callboard.engine.env import FakeEnv
from callboard.flow.model import FlowDefinition
from callboard.widgets import registry
from callboard.widgets.registry import WIDGETS

MAIN = "FW" + "a" * 32
SUB = "FW" + "b" * 32
CONTACT = "+15551230001"
FLOW_ADDRESS = "+15559990000"


def trigger(first: str | None, event: str = "incomingRequest") -> dict[str, Any]:
    transitions: list[dict[str, Any]] = []
    for name in ("incomingMessage", "incomingCall", "incomingRequest", "incomingParent"):
        t: dict[str, Any] = {"event": name}
        if name == event and first:
            t["next"] = first
        transitions.append(t)
    return {"name": "Trigger", "type": "trigger", "transitions": transitions, "properties": {}}


def w(name: str, wtype: str, nexts: dict[str, str] | None = None, **props: Any) -> dict[str, Any]:
    widget = registry.get(wtype)
    assert widget is not None, wtype
    nexts = nexts or {}
    unknown = set(nexts) - {e.name for e in widget.events}
    assert not unknown, f"{wtype} has no event {unknown}"
    transitions = []
    for spec in widget.events:
        t: dict[str, Any] = {"event": spec.name}
        if nexts.get(spec.name):
            t["next"] = nexts[spec.name]
        transitions.append(t)
    return {"name": name, "type": wtype, "transitions": transitions, "properties": props}


def set_vars(name: str, nxt: str | None = None, **values: Any) -> dict[str, Any]:
    items = [{"key": k, "value": v} for k, v in values.items()]
    return w(name, "set-variables", {"next": nxt} if nxt else {}, variables=items)


def flow(states: list[dict[str, Any]]) -> FlowDefinition:
    return FlowDefinition.from_json({"initial_state": "Trigger", "states": states})


class Harness:
    """One execution of an inline flow."""

    def __init__(
        self,
        states: list[dict[str, Any]],
        subflows: dict[str, list[dict[str, Any]]] | None = None,
        *,
        roundtrip: bool = False,
    ) -> None:
        self.bundle = Bundle(
            FlowRef(MAIN, 1, flow(states)),
            {sid: FlowRef(sid, 3, flow(s)) for sid, s in (subflows or {}).items()},
            widgets=WIDGETS,
        )
        self.env = FakeEnv()
        self.state: ExecutionState | None = None
        self.last: Advance | None = None
        self.steps: list[Any] = []
        self.roundtrip = roundtrip  # serialise the state between events

    def start(
        self,
        trigger: str = "incomingRequest",
        data: dict[str, Any] | None = None,
        parameters: dict[str, Any] | None = None,
    ) -> Advance:
        event = Start(
            trigger, "FN" + "1" * 32, MAIN, CONTACT, FLOW_ADDRESS, data or {}, parameters or {}
        )
        return self.feed(event)

    def feed(self, event: Event) -> Advance:
        state = self.state
        if state is not None and self.roundtrip:
            state = ExecutionState.from_json(json.loads(json.dumps(state.to_json())))
        result = advance(self.bundle, state, event, self.env)
        self.last = result
        self.state = result.state
        self.steps.extend(result.steps)
        return result

    # ------------------------------------------------------------------ views
    @property
    def effects(self) -> list[Effect]:
        assert self.last is not None
        return self.last.effects

    def effect(self, kind: type[Any]) -> Any:
        """The one effect of type ``kind`` produced by the last event."""
        found = [e for e in self.effects if isinstance(e, kind)]
        assert len(found) == 1, f"expected one {kind.__name__}, got {self.effects}"
        return found[0]

    @property
    def context(self) -> dict[str, Any]:
        assert self.state is not None
        return self.state.context

    @property
    def path(self) -> list[tuple[str, str, str]]:
        return [(s.transitioned_from, s.name, s.transitioned_to) for s in self.steps]

    @property
    def codes(self) -> list[int]:
        assert self.last is not None
        return [x.code for x in self.last.warnings]

    @property
    def token(self) -> str:
        assert self.state is not None and self.state.waiting is not None
        return self.state.waiting.token
