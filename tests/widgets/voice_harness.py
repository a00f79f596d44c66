"""Drive the real engine through one voice widget (shared by tests/widgets/test_voice_*)."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from callboard.contract.io import CallEvent, Event, Respond, Start
from callboard.engine import Advance, Bundle, ExecutionState, FlowRef, advance
from callboard.flow.model import FlowDefinition
from callboard.widgets import registry
from callboard.widgets.registry import WIDGETS

NOW = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
CALL = {
    "CallSid": "CA0001",
    "AccountSid": "AC0001",
    "From": "+15550001",
    "To": "+15559999",
    "CallStatus": "ringing",
    "Direction": "inbound",
}


class FakeEnv:
    def __init__(self) -> None:
        self._ids = itertools.count(1)

    def now(self) -> datetime:
        return NOW

    def sid(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):032x}"


def widget_state(
    name: str, wtype: str, properties: dict[str, Any], nexts: dict[str, str] | None = None
) -> dict[str, Any]:
    """A state listing every event of ``wtype`` (wired per ``nexts``, else unwired)."""
    widget = registry.get(wtype)
    assert widget is not None, wtype
    transitions: list[dict[str, Any]] = []
    for spec in widget.events:
        t: dict[str, Any] = {"event": spec.name}
        if nexts and spec.name in nexts:
            t["next"] = nexts[spec.name]
        transitions.append(t)
    return {"name": name, "type": wtype, "transitions": transitions, "properties": properties}


@dataclass
class Session:
    """One execution: ``bundle`` plus the latest state; ``send`` feeds events."""

    bundle: Bundle
    env: FakeEnv
    state: ExecutionState
    last: Advance

    def send(self, event: Event) -> Advance:
        result = advance(self.bundle, self.state, event, self.env)
        self.state = result.state
        self.last = result
        return result

    def callback(self, name: str, params: dict[str, Any] | None = None, token: str = "") -> Advance:
        tok = token or self.token
        return self.send(
            CallEvent(tok, name, {**CALL, "CallStatus": "in-progress", **(params or {})})
        )

    @property
    def token(self) -> str:
        assert self.state.waiting is not None, "the execution does not wait"
        return self.state.waiting.token

    @property
    def steps(self) -> list[tuple[str, str, str]]:
        return [(s.transitioned_from, s.name, s.transitioned_to) for s in self.last.steps]

    def variables(self, name: str) -> Any:
        return self.state.context["widgets"].get(name)


def run_flow(
    states: list[dict[str, Any]],
    trigger: str = "incomingCall",
    data: dict[str, Any] | None = None,
) -> Session:
    first = states[0]["name"]
    trigger_state = {
        "name": "Trigger",
        "type": "trigger",
        "transitions": [{"event": trigger, "next": first}],
        "properties": {},
    }
    flow = FlowDefinition.from_json(
        {"initial_state": "Trigger", "states": [trigger_state, *states]}
    )
    bundle = Bundle(FlowRef("FW0001", 1, flow), widgets=WIDGETS)
    env = FakeEnv()
    if data is None:
        data = dict(CALL) if trigger == "incomingCall" else {"Body": "hi", "From": "+15550001"}
    start = Start(trigger, "FN0001", "FW0001", "+15550001", "+15559999", data, {})
    result = advance(bundle, None, start, env)
    return Session(bundle, env, result.state, result)


def run_widget(wtype: str, properties: dict[str, Any], trigger: str = "incomingCall") -> Session:
    return run_flow([widget_state("w", wtype, properties)], trigger)


def responses(result: Advance) -> list[Respond]:
    return [e for e in result.effects if isinstance(e, Respond)]


def twiml(result: Advance) -> ET.Element:
    """The single TwiML document answered in ``result``, parsed."""
    (respond,) = responses(result)
    root = ET.fromstring(respond.twiml)
    assert root.tag == "Response"
    return root


def query(url: str) -> dict[str, str]:
    assert url.startswith("?"), f"call-back URLs are relative query strings: {url!r}"
    return dict(parse_qsl(urlsplit(url).query))


def expected_callback(token: str, name: str) -> dict[str, str]:
    return {"FlowEvent": "callback", "ExecutionSid": "FN0001", "Token": token, "Callback": name}
