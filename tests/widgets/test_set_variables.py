from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest

from callboard.contract.io import EffectResult, SendMessage, Start
from callboard.engine import Advance, Bundle, FlowRef, advance
from callboard.flow.model import FlowDefinition
from callboard.widgets import registry
from callboard.widgets.registry import WIDGETS


class FakeEnv:
    def __init__(self) -> None:
        self._ids = itertools.count(1)

    def now(self) -> datetime:
        return datetime(2026, 1, 1, 7, 30, tzinfo=UTC)

    def sid(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):032x}"


def trigger(first: str) -> dict[str, Any]:
    return {
        "name": "Trigger",
        "type": "trigger",
        "transitions": [{"event": "incomingRequest", "next": first}],
        "properties": {},
    }


def set_vars(name: str, items: list[dict[str, Any]], nxt: str | None = None) -> dict[str, Any]:
    transition: dict[str, Any] = {"event": "next"}
    if nxt:
        transition["next"] = nxt
    return {
        "name": name,
        "type": "set-variables",
        "transitions": [transition],
        "properties": {"variables": items, "offset": {"x": 0, "y": 0}},
    }


def send(name: str, body: str) -> dict[str, Any]:
    return {
        "name": name,
        "type": "send-message",
        "transitions": [{"event": "sent"}, {"event": "failed"}],
        "properties": {"body": body},
    }


def start(states: list[dict[str, Any]], data: dict[str, Any] | None = None) -> Advance:
    flow = FlowDefinition.from_json({"initial_state": "Trigger", "states": states})
    event = Start("incomingRequest", "FN1", "FW1", "+15551", "+15552", {}, data or {})
    return advance(Bundle(FlowRef("FW1", 1, flow), widgets=WIDGETS), None, event, FakeEnv())


def run_one(items: list[dict[str, Any]], data: dict[str, Any] | None = None) -> Advance:
    return start([trigger("vars"), set_vars("vars", items)], data)


def test_values_are_rendered_stored_and_mirrored() -> None:
    result = run_one(
        [
            {"key": "name", "value": "{{flow.data.name | upcase}}"},
            {"key": "static", "value": "general", "index": "1"},
            {"key": "address", "value": "{{contact.channel.address}}"},
        ],
        {"name": "zeke"},
    )
    expected = {"name": "ZEKE", "static": "general", "address": "+15551"}
    ctx = result.state.context
    assert ctx["flow"]["variables"] == expected
    assert ctx["widgets"]["vars"] == expected
    (step,) = [s for s in result.steps if s.transitioned_from == "vars"]
    assert (step.name, step.transitioned_to) == ("next", "Ended")
    assert step.context["flow"]["variables"] == expected
    assert not result.warnings


def test_later_widgets_read_flow_variables() -> None:
    states = [
        trigger("vars"),
        set_vars("vars", [{"key": "greeting", "value": "Hi {{flow.data.name}}"}], "say"),
        send("say", "{{flow.variables.greeting}}! ({{widgets.vars.greeting}})"),
    ]
    result = start(states, {"name": "Ann"})
    (effect,) = result.effects
    assert isinstance(effect, SendMessage)
    assert effect.body == "Hi Ann! (Hi Ann)"


def test_values_see_the_context_from_before_the_step_and_keys_overwrite() -> None:
    states = [
        trigger("first"),
        set_vars("first", [{"key": "a", "value": "1"}, {"key": "b", "value": "old"}], "second"),
        set_vars(
            "second",
            [
                {"key": "a", "value": "2"},
                {"key": "seen", "value": "{{flow.variables.a}}"},
                {"key": "A", "value": "case-sensitive"},
            ],
        ),
    ]
    variables = start(states).state.context["flow"]["variables"]
    assert variables == {"a": 2, "b": "old", "seen": 1, "A": "case-sensitive"}


def test_counter_loop_with_split_and_multiline_liquid() -> None:
    """The init-or-increment idiom from real exports, looping through a split."""
    counter = (
        "{% if flow.variables.attempts %}\n  {{flow.variables.attempts | plus: 1}}\n"
        "{% else %}\n  0\n{% endif %}"
    )
    states = [
        trigger("count"),
        set_vars("count", [{"index": "0", "key": "attempts", "value": counter}], "check"),
        {
            "name": "check",
            "type": "split-based-on",
            "transitions": [
                {"event": "noMatch"},
                {
                    "event": "match",
                    "next": "count",
                    "conditions": [
                        {
                            "friendly_name": "If value less_than 3",
                            "arguments": ["{{flow.variables.attempts}}"],
                            "type": "less_than",
                            "value": "3",
                        }
                    ],
                },
            ],
            "properties": {"input": "{{flow.variables.attempts}}"},
        },
    ]
    result = start(states)
    assert result.state.context["flow"]["variables"] == {"attempts": 3}
    path = [(s.transitioned_from, s.transitioned_to) for s in result.steps]
    assert path.count(("count", "check")) == 4
    assert path[-1] == ("check", "Ended")
    assert [w.code for w in result.warnings] == [81005]  # noMatch leads nowhere


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ({"value": "10"}, 10),  # unquoted: numeric (Twilio's help centre)
        ({"value": '"10"'}, "10"),  # quoted: a string, without the quotes
        ({"value": "'10'"}, "10"),
        ({"value": ' "{{flow.data.n}}" '}, "7"),
        ({"value": "{{flow.data.n}}"}, 7),  # a rendered value that reads as a number
        ({"value": "{{flow.data.n | plus: 0.5}}"}, 7.5),
        ({"value": "-3"}, -3),
        ({"value": "0"}, 0),
        ({"value": "2.5"}, 2.5),
        ({"value": "+15551234567"}, "+15551234567"),  # would not read back the same
        ({"value": "02134"}, "02134"),
        ({"value": "1.50"}, "1.50"),
        ({"value": "1e3"}, "1e3"),
        ({"value": "1234567890123456"}, "1234567890123456"),  # beyond 15 digits
        ({"value": "10 apples"}, "10 apples"),
        ({"value": '"a" and "b"'}, '"a" and "b"'),
        ({"value": 10}, 10),  # unquoted in the definition keeps its JSON type
        ({"value": 2.5}, 2.5),
        ({"value": True}, True),
        ({"value": None}, ""),
        ({}, ""),
        ({"value": "  spaced  "}, "  spaced  "),  # literal text kept exactly
        ({"value": "  {{flow.data.n}}  "}, 7),  # Liquid output trimmed
        ({"value": "{{flow.data.n}}", "type": "number"}, 7),
        ({"value": "1.25", "type": "number"}, 1.25),
        ({"value": "TRUE", "type": "boolean"}, True),
        ({"value": "false", "type": "boolean"}, False),
        ({"value": "{{flow.data.n}}", "type": "string"}, "7"),
        ({"value": '{"a": [1, 2]}', "parse_as_json": True}, {"a": [1, 2]}),
        ({"value": "{{flow.data.obj | to_json}}", "parse_as_json": "true"}, {"k": "v"}),
        ({"value": "[1, 2]", "type": "json"}, [1, 2]),
        ({"value": '{"x": 1}', "type": "object"}, {"x": 1}),
        ({"value": "null", "parse_as_json": True}, ""),
        ({"value": '{"a": 1}'}, '{"a": 1}'),  # without the option: text
        ({"value": '{"a": 1}', "parse_as_json": False}, '{"a": 1}'),
    ],
)
def test_typing(item: dict[str, Any], expected: Any) -> None:
    result = run_one([{"key": "v", **item}], {"n": 7, "obj": {"k": "v"}})
    value = result.state.context["flow"]["variables"]["v"]
    assert value == expected
    assert type(value) is type(expected)
    assert not result.warnings


@pytest.mark.parametrize(
    ("item", "kept"),
    [
        ({"value": "foo", "parse_as_json": True}, "foo"),
        ({"value": "{'a': 1}", "type": "json"}, "{'a': 1}"),
        ({"value": "{{flow.data.name}}", "parseAsJson": True}, "Ann"),
        ({"value": "NaN", "parse_as_json": True}, "NaN"),
        ({"value": "ten", "type": "number"}, "ten"),
        ({"value": "yes", "type": "boolean"}, "yes"),
    ],
)
def test_values_that_do_not_convert_warn_81027_and_keep_the_text(
    item: dict[str, Any], kept: str
) -> None:
    result = run_one([{"key": "v", **item}], {"name": "Ann"})
    assert result.state.context["flow"]["variables"]["v"] == kept
    assert [w.code for w in result.warnings] == [81027]
    assert "'v'" in result.warnings[0].message
    assert result.warnings[0].widget == "vars"
    assert result.state.status == "ended"  # the widget still takes "next"


def test_parsed_json_is_navigable_later() -> None:
    states = [
        trigger("vars"),
        set_vars("vars", [{"key": "cfg", "value": '{"lang": "es"}', "parse_as_json": True}], "say"),
        send("say", "{{flow.variables.cfg.lang}}"),
    ]
    (effect,) = start(states).effects
    assert isinstance(effect, SendMessage) and effect.body == "es"


def test_liquid_error_warns_81018_and_stores_empty() -> None:
    result = run_one([{"key": "bad", "value": "{{ x | nosuch }}"}, {"key": "ok", "value": "y"}])
    assert result.state.context["flow"]["variables"] == {"bad": "", "ok": "y"}
    assert [w.code for w in result.warnings] == [81018]
    assert "variables.0.value" in result.warnings[0].message


@pytest.mark.parametrize(
    "items",
    [
        [{"value": "no key"}, {"key": "", "value": "empty key"}, "not an object", {"key": "k"}],
    ],
)
def test_items_without_keys_are_skipped(items: list[Any]) -> None:
    result = run_one(items)
    assert result.state.context["flow"]["variables"] == {"k": ""}


def test_no_variables_property() -> None:
    result = start([trigger("vars"), {**set_vars("vars", []), "properties": {}}])
    assert result.state.context["flow"]["variables"] == {}
    assert result.state.context["widgets"]["vars"] == {}


def test_mirror_is_not_shared_with_flow_variables() -> None:
    result = run_one([{"key": "o", "value": '{"a": 1}', "parse_as_json": True}])
    ctx = result.state.context
    assert ctx["flow"]["variables"]["o"] == ctx["widgets"]["vars"]["o"]
    assert ctx["flow"]["variables"]["o"] is not ctx["widgets"]["vars"]["o"]


def test_date_now_uses_the_engine_clock() -> None:
    result = run_one([{"key": "date", "value": '{{ "now" | date: "%Y-%m-%d" }}'}])
    # 07:30 UTC on Jan 1 is still Dec 31 in Los Angeles
    assert result.state.context["flow"]["variables"]["date"] == "2025-12-31"


def test_subflow_returns_its_variables_to_the_parent() -> None:
    parent = FlowDefinition.from_json(
        {
            "initial_state": "Trigger",
            "states": [
                trigger("sub"),
                {
                    "name": "sub",
                    "type": "run-subflow",
                    "transitions": [{"event": "completed", "next": "say"}, {"event": "failed"}],
                    "properties": {"flow_sid": "FW2", "flow_revision": "LatestPublished"},
                },
                send("say", "{{widgets.sub.answer}}"),
            ],
        }
    )
    if registry.get("run-subflow") is None:
        pytest.skip("run-subflow widget not available")
    child = FlowDefinition.from_json(
        {
            "initial_state": "Trigger",
            "states": [
                {
                    "name": "Trigger",
                    "type": "trigger",
                    "transitions": [{"event": "incomingParent", "next": "vars"}],
                    "properties": {},
                },
                set_vars("vars", [{"key": "answer", "value": "42"}]),
            ],
        }
    )
    bundle = Bundle(FlowRef("FW1", 1, parent), {"FW2": FlowRef("FW2", 1, child)}, widgets=WIDGETS)
    event = Start("incomingRequest", "FN1", "FW1", "+15551", "+15552", {}, {})
    result = advance(bundle, None, event, FakeEnv())
    sends = [e for e in result.effects if isinstance(e, SendMessage)]
    assert [e.body for e in sends] == ["42"]
    done = advance(bundle, result.state, EffectResult(sends[0].token, True, {}), FakeEnv())
    assert done.state.status == "ended"


def test_schema_for_the_editor() -> None:
    widget = registry.get("set-variables")
    assert widget is not None
    schema = widget.schema()
    assert schema["label"] == "Set Variables"
    assert [e["name"] for e in schema["events"]] == ["next"]
    (prop,) = [p for p in schema["properties"] if p["name"] == "variables"]
    assert prop["kind"] == "key_values"


def test_numeric_variables_compare_in_liquid_and_split_based_on() -> None:
    """Issue 13: ``count = 10`` is a number, so ``> 5`` works in a message (it raised
    81018 and the message went out empty) and in Split Based On, and ``== 10`` is true."""
    split = {
        "name": "check",
        "type": "split-based-on",
        "transitions": [
            {"event": "noMatch", "next": "small"},
            {
                "event": "match",
                "next": "big",
                "conditions": [
                    {
                        "friendly_name": "more than 5",
                        "arguments": ["{{flow.variables.count}}"],
                        "type": "greater_than",
                        "value": "5",
                    },
                    {
                        "friendly_name": "Liquid comparison in the value",
                        "arguments": ["{{flow.variables.count}}"],
                        "type": "equal_to",
                        "value": "{% if flow.variables.count == 10 %}10{% endif %}",
                    },
                ],
            },
        ],
        "properties": {"input": "{{flow.variables.count}}"},
    }
    body = (
        "{% if flow.variables.count > 5 %}big{% else %}small{% endif %} "
        "{% if flow.variables.count == 10 %}ten{% endif %} "
        "{% if flow.variables.label == 10 %}label-ten{% endif %} "
        "{{ flow.variables.count | plus: 1 }}"
    )
    states = [
        trigger("vars"),
        set_vars(
            "vars", [{"key": "count", "value": "10"}, {"key": "label", "value": '"10"'}], "check"
        ),
        split,
        send("big", body),
        send("small", "small"),
    ]
    result = start(states)
    variables = result.state.context["flow"]["variables"]
    assert variables == {"count": 10, "label": "10"}
    path = [(s.transitioned_from, s.name, s.transitioned_to) for s in result.steps]
    assert ("check", "match", "big") in path
    (message,) = [e for e in result.effects if isinstance(e, SendMessage)]
    # a quoted "10" is a string, but Liquid still compares it with 10 as a number
    assert message.body == "big ten label-ten 11"
    assert not [w for w in result.warnings if w.code == 81018]
