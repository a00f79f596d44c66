"""Property-based tests of the pure engine.

Random valid flow definitions are built from the registered messaging/logic widgets
(their declared properties and events), wired into random graphs with loops, and driven
by random event sequences: inbound messages, effect results with right and wrong tokens
and random data, timer fires, message statuses, call events and EndExecution. Whatever
happens, the engine must hold its invariants (see ``test_engine_invariants``).
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callboard.contract.io import (
    CallEvent,
    EffectResult,
    EndExecution,
    Event,
    InboundMessage,
    MessageStatus,
    Start,
    TimerFired,
    effect_from_json,
    effect_to_json,
)
from callboard.contract.widget import Prop, Widget
from callboard.engine import (
    Advance,
    Bundle,
    ExecutionState,
    FlowRef,
    StepRecord,
    advance,
)
from callboard.engine.env import FakeEnv
from callboard.flow.model import FlowDefinition
from callboard.widgets import registry

MAIN_SID = "FW" + "a" * 32
SUB_SID = "FW" + "b" * 32
MISSING_SID = "FW" + "c" * 32
OPERATORS = (
    "equal_to",
    "not_equal_to",
    "matches_any_of",
    "does_not_match_any_of",
    "is_blank",
    "is_not_blank",
    "regex",
    "contains",
    "does_not_contain",
    "starts_with",
    "does_not_start_with",
    "less_than",
    "greater_than",
    "is_before_time",
    "is_after_time",
    "is_before_date",
    "is_after_date",
)
VAR_KEYS = ("n", "name", "answer", "count", "data")
EXCLUDED = {"trigger"}


def _widgets() -> list[Widget]:
    """The registered widgets a messaging flow may contain (no voice, no trigger)."""
    return sorted(
        (
            w
            for w in registry.all_widgets()
            if w.channel != "voice" and w.runnable and w.type not in EXCLUDED
        ),
        key=lambda w: w.type,
    )


WIDGETS = _widgets()
WIDGET_NAMES = tuple(f"w{i}" for i in range(8))

# ------------------------------------------------------------------ Liquid-ish text

FRAGMENTS = (
    "hello",
    " ",
    "Reply YES or NO",
    "{{flow.variables.n}}",
    "{{flow.variables.n | plus: 1}}",
    "{{ flow.variables.count | default: 0 | plus: 2 }}",
    "{{widgets.w1.inbound.Body}}",
    "{{widgets.w2.parsed.status | upcase}}",
    "{{trigger.message.Body | downcase | strip}}",
    "{{flow.data.name}}",
    "{{contact.channel.address}}",
    "{% if flow.variables.n %}{{flow.variables.n | plus: 1}}{% else %}0{% endif %}",
    "{% case flow.variables.answer %}{% when 'yes' %}Y{% else %}N{% endcase %}",
    "{% assign x = 3 %}{{ x | times: 2 }}",
    "{% for i in (1..20) %}{{i}}{% endfor %}",
    "{{ 'now' | date: '%Y-%m-%d' }}",
    "{{ widgets | to_json }}",
    "{{",
    "}}",
    "{% if %}",
    "{{ x | nofilter }}",
    "{% endif %}",
    "1",
    "42",
    "-3",
    "2026-01-02",
    "17:30",
    '{"k": 1}',
    "ünïcode ✓",
)

liquidish = st.lists(st.sampled_from(FRAGMENTS), min_size=0, max_size=4).map("".join)
next_name = st.one_of(st.none(), st.sampled_from(WIDGET_NAMES))


@st.composite
def prop_value(draw: st.DrawFn, prop: Prop, names: tuple[str, ...]) -> Any:
    if prop.enum:
        return draw(st.sampled_from(prop.enum))
    name = prop.name
    if name == "flow_sid":
        return draw(st.sampled_from((SUB_SID, SUB_SID, MISSING_SID)))
    if name == "flow_revision":
        return draw(st.sampled_from(("LatestPublished", "1", "LatestRevision")))
    if name in ("url",):
        return "https://example.com/" + draw(st.sampled_from(("api", "{{flow.variables.n}}")))
    if name == "timeout" and prop.kind == "string":
        return str(draw(st.integers(1, 3600)))
    if prop.kind == "string":
        return draw(liquidish)
    if prop.kind == "integer":
        low = int(prop.minimum) if prop.minimum is not None else 0
        high = int(prop.maximum) if prop.maximum is not None else 100
        return draw(st.integers(low, max(low, high)))
    if prop.kind == "number":
        return draw(st.integers(0, 60))
    if prop.kind == "boolean":
        return draw(st.booleans())
    if prop.kind == "key_values":
        keys = VAR_KEYS if name == "variables" else ("a", "b", "n")
        return draw(
            st.lists(
                st.fixed_dictionaries({"key": st.sampled_from(keys), "value": liquidish}),
                max_size=3,
            )
        )
    if prop.kind == "string_list":
        return draw(st.lists(liquidish, max_size=2))
    return None


@st.composite
def widget_state(draw: st.DrawFn, name: str, names: tuple[str, ...]) -> dict[str, Any]:
    widget = draw(st.sampled_from(WIDGETS))
    props: dict[str, Any] = {"offset": {"x": 0, "y": 0}}
    for prop in widget.props:
        if prop.name == "offset":
            continue
        if prop.required or draw(st.booleans()):
            value = draw(prop_value(prop, names))
            if value is not None:
                props[prop.name] = value
    transitions: list[dict[str, Any]] = []
    for spec in widget.events:
        if spec.name in widget.repeatable_events:
            for _ in range(draw(st.integers(0, 3))):
                operator = draw(st.sampled_from(OPERATORS))
                subject = str(props.get("input", "{{flow.variables.n}}"))
                transitions.append(
                    {
                        "event": spec.name,
                        "next": draw(st.one_of(st.just(name), st.sampled_from(names))),
                        "conditions": [
                            {
                                "friendly_name": operator,
                                "arguments": [subject],
                                "type": operator,
                                "value": draw(
                                    st.sampled_from(("1", "yes,no", "[0-9]+", "a", "2026-01-01"))
                                    | liquidish
                                ),
                            }
                        ],
                    }
                )
        else:
            nxt = draw(st.one_of(st.none(), st.just(name), st.sampled_from(names)))
            transitions.append({"event": spec.name, **({"next": nxt} if nxt else {})})
    return {"name": name, "type": widget.type, "transitions": transitions, "properties": props}


@st.composite
def flow_definition(draw: st.DrawFn, trigger_event: str) -> dict[str, Any]:
    count = draw(st.integers(1, len(WIDGET_NAMES)))
    names = WIDGET_NAMES[:count]
    states = [draw(widget_state(n, names)) for n in names]
    trigger = {
        "name": "Trigger",
        "type": "trigger",
        "transitions": [
            {"event": e, "next": draw(st.sampled_from(names))}
            for e in (
                "incomingMessage",
                "incomingCall",
                "incomingConversationMessage",
                "incomingRequest",
                "incomingParent",
            )
            if e == trigger_event or draw(st.booleans())
        ],
        "properties": {"offset": {"x": 0, "y": 0}},
    }
    return {
        "description": "generated",
        "initial_state": "Trigger",
        "states": [trigger, *states],
        "flags": {"allow_concurrent_calls": True},
    }


# ------------------------------------------------------------------------- events

MESSAGE_DATA = {"Sid": "SM" + "1" * 32, "Status": "sent", "Body": "x", "To": "+1", "From": "+2"}
HTTP_BODIES = ('{"status": "shipped", "n": 5}', "[1, 2]", "plain text", "", '{"a": {"b": 1}}')


@st.composite
def effect_data(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(("message", "http", "empty", "error")))
    if kind == "message":
        return dict(MESSAGE_DATA)
    if kind == "http":
        return {
            "status_code": draw(st.sampled_from((200, 201, 302, 404, 500))),
            "content_type": draw(st.sampled_from(("application/json", "text/plain", ""))),
            "body": draw(st.sampled_from(HTTP_BODIES)),
            "headers": {},
        }
    if kind == "error":
        return {"error": "boom"}
    return {}


def _token(state: ExecutionState | None, right: bool, timer: bool = False) -> str:
    waiting = state.waiting if state is not None else None
    if right and waiting is not None:
        if timer:
            return waiting.timers[0] if waiting.timers else waiting.token
        return waiting.token
    return "t-wrong"


@st.composite
def next_event(draw: st.DrawFn, state: ExecutionState | None) -> Event:
    kind = draw(
        st.sampled_from(("inbound", "result", "result", "result", "timer", "status", "call", "end"))
    )
    right = draw(st.integers(0, 4)) > 0  # mostly the right token
    if kind == "inbound":
        body = draw(st.sampled_from(("yes", "NO", " 3 ", "", "hello there", "42", "✓")))
        return InboundMessage({"Body": body, "From": "+15550001111", "To": "+15550002222"})
    if kind == "result":
        return EffectResult(_token(state, right), draw(st.booleans()), draw(effect_data()))
    if kind == "timer":
        return TimerFired(_token(state, right, timer=True))
    if kind == "status":
        status = draw(st.sampled_from(("delivered", "failed", "undelivered", "sent")))
        return MessageStatus(_token(state, right), status, {})
    if kind == "call":
        return CallEvent(_token(state, right), draw(st.sampled_from(("status", "answered"))))
    return EndExecution(draw(st.sampled_from(("ended", "hangup"))))


# ---------------------------------------------------------------------- the checks


def _snapshot(state: ExecutionState | None) -> str:
    return json.dumps(state.to_json(), sort_keys=True) if state is not None else "null"


def _check_result(before: str, result: Advance, was_ended: bool) -> None:
    state = result.state
    assert state.step_count <= 1000  # Studio: 1,000 steps per execution
    if state.status == "ended":
        assert state.waiting is None and len(state.frames) == 1
    else:
        assert state.waiting is not None, "an active execution must wait for something"
    if not result.accepted or was_ended:
        assert not result.accepted
        assert not result.steps and not result.effects
        assert _snapshot(state) == before, "an ignored event changed the state"
    # plain JSON, and back again
    as_json = json.loads(json.dumps(state.to_json()))
    assert ExecutionState.from_json(as_json).to_json() == as_json
    for effect in result.effects:
        data = json.loads(json.dumps(effect_to_json(effect)))
        assert effect_from_json(data) == effect
    for step in result.steps:
        json.dumps(step.to_json())


def _longest_run(steps: list[StepRecord]) -> int:
    longest = run = 0
    previous: tuple[str, str] | None = None
    for step in steps:
        key = (step.flow_sid, step.transitioned_from)
        run = run + 1 if key == previous else 1
        previous = key
        longest = max(longest, run)
    return longest


SETTINGS = settings(
    max_examples=70,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@SETTINGS
@given(data=st.data())
def test_engine_invariants(data: st.DataObject) -> None:
    """For any valid flow and any events: never raises; at most 1,000 steps and 10
    consecutive runs of one widget; ignored events and ended executions leave the state
    unchanged; the state is plain JSON that round-trips, and an execution resumed from
    its JSON behaves exactly like the one kept in memory."""
    trigger = data.draw(
        st.sampled_from(("incomingMessage", "incomingRequest", "incomingConversationMessage"))
    )
    main = FlowDefinition.from_json(data.draw(flow_definition(trigger), label="main"))
    sub = FlowDefinition.from_json(data.draw(flow_definition("incomingParent"), label="sub"))
    bundle = Bundle(
        FlowRef(MAIN_SID, 1, main), {SUB_SID: FlowRef(SUB_SID, 1, sub)}, widgets=registry.WIDGETS
    )
    env, twin_env = FakeEnv(), FakeEnv()
    start = Start(
        trigger,
        "FN" + "1" * 32,
        MAIN_SID,
        "+15550001111",
        "+15550002222",
        {"Body": data.draw(st.sampled_from(("hi", "", "1"))), "From": "+15550001111"},
        {"name": "Zoe", "n": "2"},
    )
    first = advance(bundle, None, start, env)
    _check_result("null", first, was_ended=False)
    twin = advance(bundle, None, start, twin_env)
    assert twin.state.to_json() == first.state.to_json()
    state = first.state
    steps = list(first.steps)
    for _ in range(data.draw(st.integers(0, 12), label="events")):
        event = data.draw(next_event(state))
        before = _snapshot(state)
        was_ended = state.status == "ended"
        resumed = ExecutionState.from_json(json.loads(before))
        result = advance(bundle, state, event, env)
        _check_result(before, result, was_ended)
        again = advance(bundle, resumed, event, twin_env)
        assert again.state.to_json() == result.state.to_json()
        assert [s.to_json() for s in again.steps] == [s.to_json() for s in result.steps]
        assert again.accepted == result.accepted
        steps.extend(result.steps)
        state = result.state
    assert _longest_run(steps) <= 10  # Studio: 10 runs of one widget in a row


@settings(max_examples=25, deadline=None)
@given(flow=flow_definition("incomingMessage"))
def test_start_twice_is_ignored(flow: dict[str, Any]) -> None:
    bundle = Bundle(FlowRef(MAIN_SID, 1, FlowDefinition.from_json(flow)), widgets=registry.WIDGETS)
    start = Start("incomingMessage", "FN1", MAIN_SID, "+1", "+2", {"Body": "hi"})
    first = advance(bundle, None, start, FakeEnv())
    before = _snapshot(first.state)
    again = advance(bundle, first.state, start, FakeEnv())
    assert not again.accepted
    assert _snapshot(again.state) == before


def test_generator_uses_the_messaging_widgets() -> None:
    """The generated flows exercise more than Send Message once the widgets exist."""
    types = {w.type for w in WIDGETS}
    assert "send-message" in types
    assert not any(w.channel == "voice" for w in WIDGETS)


RING_TYPES = ("set-variables", "split-based-on")


@settings(max_examples=15, deadline=None)
@given(
    kinds=st.lists(st.sampled_from(RING_TYPES), min_size=2, max_size=5),
    values=st.lists(liquidish, min_size=5, max_size=5),
)
def test_a_ring_of_widgets_that_never_wait_stops_at_1000_steps(
    kinds: list[str], values: list[str]
) -> None:
    names = [f"r{i}" for i in range(len(kinds))]
    states: list[dict[str, Any]] = [
        {
            "name": "Trigger",
            "type": "trigger",
            "transitions": [{"event": "incomingMessage", "next": names[0]}],
            "properties": {},
        }
    ]
    for i, (name, kind) in enumerate(zip(names, kinds, strict=True)):
        nxt = names[(i + 1) % len(names)]
        if kind == "set-variables":
            props: dict[str, Any] = {"variables": [{"key": "n", "value": values[i]}]}
            transitions: list[dict[str, Any]] = [{"event": "next", "next": nxt}]
        else:
            props = {"input": values[i]}
            transitions = [
                {"event": "noMatch", "next": nxt},
                {
                    "event": "match",
                    "next": nxt,
                    "conditions": [
                        {
                            "friendly_name": "x",
                            "arguments": [values[i]],
                            "type": "contains",
                            "value": "1",
                        }
                    ],
                },
            ]
        states.append({"name": name, "type": kind, "transitions": transitions, "properties": props})
    flow = FlowDefinition.from_json({"initial_state": "Trigger", "states": states})
    start = Start("incomingMessage", "FN1", MAIN_SID, "+1", "+2", {"Body": "1"})
    result = advance(
        Bundle(FlowRef(MAIN_SID, 1, flow), widgets=registry.WIDGETS), None, start, FakeEnv()
    )
    assert result.state.status == "ended"
    assert result.state.step_count == len(result.steps) == 1000
    assert [w.code for w in result.warnings if w.code == 81000] == [81000]
