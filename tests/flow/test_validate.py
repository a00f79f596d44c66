"""The flow definition validator: one case per rule, all-at-once reporting, hostile
inputs, and the real exported flows in ../shared/studio-flows."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callboard.contract.widget import Prop
from callboard.flow.model import FlowDefinition, FlowFormatError, load_flow
from callboard.validation.definition import (
    SCHEMA_URL,
    STUDIO_OPERATORS,
    STUDIO_TYPES,
    Problem,
    ValidationReport,
    validate,
    validate_flow,
)
from callboard.validation.props import PropChecker
from callboard.widgets import registry
from callboard.widgets.send_message import SendMessageWidget

FLOWS = Path(__file__).resolve().parents[2] / ".." / "shared" / "studio-flows"
CORPUS = sorted(FLOWS.glob("*.json")) if FLOWS.is_dir() else []

REQUIRED = "is missing but it is required"
LIQUID_TAIL = " (Studio accepts the flow; at run time the field renders empty with warning 81018)"
DANGLING = "Transition references a widget that doesn't exist"
SUBFLOW_SID = "FW" + "0123456789abcdef" * 2


def base() -> dict[str, Any]:
    """A valid flow: Trigger(0) -> split(1) -> vars(2) -> reply(3)."""
    body = "{{trigger.message.Body}}"
    return {
        "description": "validator test flow",
        "states": [
            {
                "name": "Trigger",
                "type": "trigger",
                "transitions": [
                    {"event": "incomingMessage", "next": "split"},
                    {"event": "incomingCall"},
                    {"event": "incomingRequest"},
                ],
                "properties": {"offset": {"x": 0, "y": 0}},
            },
            {
                "name": "split",
                "type": "split-based-on",
                "transitions": [
                    {"event": "noMatch", "next": "reply"},
                    {
                        "event": "match",
                        "next": "vars",
                        "conditions": [
                            {
                                "friendly_name": "yes",
                                "arguments": [body],
                                "type": "equal_to",
                                "value": "yes",
                            }
                        ],
                    },
                ],
                "properties": {"input": body, "offset": {"x": 0, "y": 200}},
            },
            {
                "name": "vars",
                "type": "set-variables",
                "transitions": [{"event": "next", "next": "reply"}],
                "properties": {"variables": [{"key": "answer", "value": body}]},
            },
            {
                "name": "reply",
                "type": "send-message",
                "transitions": [{"event": "sent"}, {"event": "failed"}],
                "properties": {
                    "body": "Thanks {{flow.variables.answer}}",
                    "from": "{{flow.channel.address}}",
                    "to": "{{contact.channel.address}}",
                    "message_type": "custom",
                    "shorten_urls": False,
                },
            },
        ],
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
    }


MATCH: dict[str, Any] = base()["states"][1]["transitions"][1]
Mutation = Callable[[dict[str, Any]], Any]


def _walk(data: Any, path: str) -> tuple[Any, Any]:
    parts: list[Any] = [int(p) if p.isdigit() else p for p in path.split("/")]
    node = data
    for part in parts[:-1]:
        node = node[part]
    return node, parts[-1]


def put(path: str, value: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        node, last = _walk(data, path)
        node[last] = value

    return mutate


def drop(path: str) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        node, last = _walk(data, path)
        del node[last]

    return mutate


def rename(old: str, new: str) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        for state in data["states"]:
            if state["name"] == old:
                state["name"] = new
            for t in state["transitions"]:
                if t.get("next") == old:
                    t["next"] = new

    return mutate


def add_state(state: dict[str, Any]) -> Mutation:
    """Append a state, wired from reply's ``sent`` so that it is reachable."""

    def mutate(data: dict[str, Any]) -> None:
        data["states"].append(state)
        data["states"][3]["transitions"][0]["next"] = state["name"]

    return mutate


def subflow(**properties: Any) -> dict[str, Any]:
    return {
        "name": "sub",
        "type": "run-subflow",
        "transitions": [{"event": "completed"}, {"event": "failed"}],
        "properties": {"flow_sid": SUBFLOW_SID, "flow_revision": "LatestPublished", **properties},
    }


def many_states(data: dict[str, Any]) -> None:
    template = data["states"][3]
    for i in range(997):
        state = copy.deepcopy(template)
        state["name"] = f"extra_{i}"
        data["states"].append(state)


def enum(values: Any) -> str:
    return "does not have a value in the enumeration [" + ", ".join(values) + "]"


def checked(mutations: list[Mutation]) -> Any:
    data: Any = base()
    for mutation in mutations:
        replaced = mutation(data)
        if replaced is not None:
            data = replaced
    return data


# (id, mutations, expected errors as (property_path, message), in report order)
ERROR_CASES: list[tuple[str, list[Mutation], list[tuple[str, str]]]] = [
    ("top-level-not-object", [lambda d: []], [("#", "array found, object expected")]),
    ("top-level-integer", [lambda d: 0], [("#", "integer found, object expected")]),
    ("states-missing", [drop("states")], [("#/states", REQUIRED)]),
    ("states-not-array", [put("states", {})], [("#/states", "object found, array expected")]),
    (
        "states-empty",
        [put("states", [])],
        [
            ("#/states", "there must be a minimum of 1 items in the array"),
            ("#/initial_state", "Initial state references a widget that doesn't exist"),
        ],
    ),
    (
        "states-too-many",
        [many_states],
        [("#/states", "there must be a maximum of 1000 items in the array")],
    ),
    ("initial-state-missing", [drop("initial_state")], [("#/initial_state", REQUIRED)]),
    (
        "initial-state-not-string",
        [put("initial_state", 5)],
        [("#/initial_state", "integer found, string expected")],
    ),
    (
        "initial-state-empty",
        [put("initial_state", "")],
        [("#/initial_state", "must be at least 1 characters long")],
    ),
    (
        "initial-state-dangling",
        [put("initial_state", "Start")],
        [("#/initial_state", "Initial state references a widget that doesn't exist")],
    ),
    ("flags-not-object", [put("flags", True)], [("#/flags", "boolean found, object expected")]),
    ("flags-without-allow", [put("flags", {})], [("#/flags/allow_concurrent_calls", REQUIRED)]),
    (
        "flags-allow-not-boolean",
        [put("flags/allow_concurrent_calls", "true")],
        [("#/flags/allow_concurrent_calls", "string found, boolean expected")],
    ),
    (
        "description-not-string",
        [put("description", 7)],
        [("#/description", "integer found, string expected")],
    ),
    (
        "schema-not-const",
        [put("$schema", "https://example.com/schema")],
        [("#/$schema", f"must be a constant value {SCHEMA_URL}")],
    ),
    (
        "state-not-object",
        [put("states/2", "vars")],
        [
            ("#/states/1/transitions/1/next", DANGLING),
            ("#/states/2", "string found, object expected"),
        ],
    ),
    ("state-without-type", [drop("states/3/type")], [("#/states/3/type", REQUIRED)]),
    (
        "state-without-transitions",
        [drop("states/3/transitions")],
        [("#/states/3/transitions", REQUIRED)],
    ),
    (
        "state-without-properties",
        [drop("states/3/properties")],
        [("#/states/3/properties", REQUIRED)],
    ),
    (
        "state-without-name",
        [drop("states/2/name")],
        [("#/states/1/transitions/1/next", DANGLING), ("#/states/2/name", REQUIRED)],
    ),
    (
        "state-extra-key",
        [put("states/3/sid", "FF123")],
        [
            (
                "#/states/3/sid",
                "is not defined in the schema and the schema does not allow additional properties",
            )
        ],
    ),
    (
        "name-not-string",
        [put("states/2/name", 12)],
        [
            ("#/states/1/transitions/1/next", DANGLING),
            ("#/states/2/name", "integer found, string expected"),
        ],
    ),
    (
        "name-not-unique",
        [put("states/3/name", "vars")],
        [
            ("#/states/3/name", "Widget name 'vars' is not unique (also #/states/2)"),
            ("#/states/1/transitions/0/next", DANGLING),
            ("#/states/2/transitions/0/next", DANGLING),
        ],
    ),
    *[
        (
            f"name-malformed-{label}",
            [rename("reply", bad)],
            [
                (
                    "#/states/3/name",
                    "does not match the regex pattern ^[A-Za-z][A-Za-z0-9_-]*$ (a widget name "
                    "starts with a letter and has only letters, digits, _ and -)",
                )
            ],
        )
        for label, bad in [
            ("space", "my reply"),
            ("digit-first", "1reply"),
            ("dot", "reply.1"),
            ("underscore-first", "_reply"),
            ("non-ascii", "réponse"),
            ("newline", "reply\n"),
        ]
    ],
    (
        "name-empty",
        [rename("reply", "")],
        [("#/states/3/name", "must be at least 1 characters long")],
    ),
    (
        "type-not-string",
        [put("states/3/type", ["send-message"])],
        [("#/states/3/type", "array found, string expected")],
    ),
    (
        "properties-not-object",
        [put("states/3/properties", [])],
        [("#/states/3/properties", "array found, object expected")],
    ),
    (
        "required-property-missing",
        [drop("states/3/properties/body")],
        [("#/states/3/properties/body", REQUIRED)],
    ),
    (
        "string-property-integer",
        [put("states/3/properties/body", 5)],
        [("#/states/3/properties/body", "integer found, string expected")],
    ),
    (
        "string-property-null",
        [put("states/3/properties/to", None)],
        [("#/states/3/properties/to", "null found, string expected")],
    ),
    (
        "boolean-property-string",
        [put("states/3/properties/shorten_urls", "true")],
        [("#/states/3/properties/shorten_urls", "string found, boolean expected")],
    ),
    (
        "enum-property",
        [put("states/3/properties/message_type", "sms")],
        [("#/states/3/properties/message_type", enum(["custom", "content_template"]))],
    ),
    (
        "enum-property-liquid-not-allowed",
        [put("states/3/properties/message_type", "{{flow.variables.kind}}")],
        [("#/states/3/properties/message_type", enum(["custom", "content_template"]))],
    ),
    (
        "key-values-not-array",
        [put("states/2/properties/variables", {"answer": "x"})],
        [("#/states/2/properties/variables", "object found, array expected")],
    ),
    (
        "key-values-item-not-object",
        [put("states/2/properties/variables/0", "answer=x")],
        [("#/states/2/properties/variables/0", "string found, object expected")],
    ),
    (
        "key-values-item-without-key",
        [drop("states/2/properties/variables/0/key")],
        [("#/states/2/properties/variables/0/key", REQUIRED)],
    ),
    (
        "key-values-key-not-string",
        [put("states/2/properties/variables/0/key", 1)],
        [("#/states/2/properties/variables/0/key", "integer found, string expected")],
    ),
    (
        "transitions-not-array",
        [put("states/3/transitions", {"sent": None})],
        [("#/states/3/transitions", "object found, array expected")],
    ),
    (
        "transition-not-object",
        [put("states/3/transitions/1", "failed")],
        [("#/states/3/transitions/1", "string found, object expected")],
    ),
    (
        "transition-without-event",
        [drop("states/3/transitions/1/event")],
        [("#/states/3/transitions/1/event", REQUIRED)],
    ),
    (
        "transition-event-not-string",
        [put("states/3/transitions/1/event", None)],
        [("#/states/3/transitions/1/event", "null found, string expected")],
    ),
    (
        "transition-unknown-event",
        [put("states/3/transitions/1/event", "delivered")],
        [("#/states/3/transitions/1/event", enum(["sent", "failed"]))],
    ),
    (
        "trigger-non-trigger-event",
        [put("states/0/transitions/1/event", "sent")],
        [
            (
                "#/states/0/transitions/1/event",
                enum(
                    [
                        "incomingMessage",
                        "incomingCall",
                        "incomingConversationMessage",
                        "incomingRequest",
                        "incomingParent",
                    ]
                ),
            )
        ],
    ),
    (
        "transition-duplicate-event",
        [put("states/3/transitions/1/event", "sent")],
        [
            (
                "#/states/3/transitions/1/event",
                "duplicate transition for event 'sent' (first at #/states/3/transitions/0)",
            )
        ],
    ),
    (
        "transition-next-dangling",
        [put("states/2/transitions/0/next", "Reply")],
        [("#/states/2/transitions/0/next", DANGLING)],
    ),
    (
        "transition-next-not-string",
        [put("states/2/transitions/0/next", 3)],
        [("#/states/2/transitions/0/next", "integer found, string expected")],
    ),
    (
        "match-without-conditions",
        [drop("states/1/transitions/1/conditions")],
        [("#/states/1/transitions/1/conditions", REQUIRED)],
    ),
    (
        "conditions-not-array",
        [put("states/1/transitions/1/conditions", {"type": "equal_to"})],
        [("#/states/1/transitions/1/conditions", "object found, array expected")],
    ),
    (
        "condition-not-object",
        [put("states/1/transitions/1/conditions/0", "yes")],
        [("#/states/1/transitions/1/conditions/0", "string found, object expected")],
    ),
    (
        "condition-missing-keys",
        [put("states/1/transitions/1/conditions/0", {})],
        [
            (f"#/states/1/transitions/1/conditions/0/{key}", REQUIRED)
            for key in ("friendly_name", "arguments", "type", "value")
        ],
    ),
    (
        "condition-unknown-operator",
        [put("states/1/transitions/1/conditions/0/type", "equals")],
        [("#/states/1/transitions/1/conditions/0/type", enum(STUDIO_OPERATORS))],
    ),
    (
        "condition-operator-not-string",
        [put("states/1/transitions/1/conditions/0/type", 1)],
        [("#/states/1/transitions/1/conditions/0/type", "integer found, string expected")],
    ),
    (
        "condition-friendly-name-not-string",
        [put("states/1/transitions/1/conditions/0/friendly_name", None)],
        [("#/states/1/transitions/1/conditions/0/friendly_name", "null found, string expected")],
    ),
    (
        "condition-arguments-not-array",
        [put("states/1/transitions/1/conditions/0/arguments", "{{x}}")],
        [("#/states/1/transitions/1/conditions/0/arguments", "string found, array expected")],
    ),
    (
        "condition-argument-not-string",
        [put("states/1/transitions/1/conditions/0/arguments", [1])],
        [("#/states/1/transitions/1/conditions/0/arguments/0", "integer found, string expected")],
    ),
    (
        "condition-value-not-string",
        [put("states/1/transitions/1/conditions/0/value", 5)],
        [("#/states/1/transitions/1/conditions/0/value", "integer found, string expected")],
    ),
    (
        "subflow-liquid-flow-sid",
        [add_state(subflow(flow_sid="{{flow.variables.sid}}"))],
        [("#/states/4/properties/flow_sid", "must be a valid, non-liquid flow sid")],
    ),
    (
        "subflow-malformed-flow-sid",
        [add_state(subflow(flow_sid="FW123"))],
        [("#/states/4/properties/flow_sid", "must be a valid, non-liquid flow sid")],
    ),
    (
        "property-path-escaping",
        [lambda d: d["states"][3].__setitem__("a/b~c", 1)],
        [
            (
                "#/states/3/a~1b~0c",
                "is not defined in the schema and the schema does not allow additional properties",
            )
        ],
    ),
]


@pytest.mark.parametrize("top", [None, "flow", 1.5, True, [base()]])
def test_a_definition_is_an_object(top: Any) -> None:
    kind = {type(None): "null", str: "string", float: "number", bool: "boolean", list: "array"}
    assert validate(top) == [Problem("#", f"{kind[type(top)]} found, object expected")]


def test_the_base_flow_is_valid() -> None:
    report = validate_flow(base())
    assert report.errors == [] and report.warnings == [], report
    assert report.valid
    assert validate(base()) == []


@pytest.mark.parametrize(
    ("mutations", "expected"),
    [pytest.param(m, e, id=name) for name, m, e in ERROR_CASES],
)
def test_error_rules(mutations: list[Mutation], expected: list[tuple[str, str]]) -> None:
    errors = validate(checked(mutations))
    assert [(p.property_path, p.message) for p in errors] == expected


def test_a_studio_widget_without_a_module_is_not_supported() -> None:
    missing = [t for t in STUDIO_TYPES if registry.get(t) is None]
    if not missing:
        pytest.skip("every Studio widget type has a module")
    data = checked([put("states/3/type", missing[0])])
    assert validate(data) == [
        Problem("#/states/3/type", f"widget type '{missing[0]}' is not supported by Callboard")
    ]


def test_unknown_widget_type_lists_the_known_types() -> None:
    data = checked([put("states/3/type", "send-sms")])
    types = sorted(w.type for w in registry.all_widgets())
    assert validate(data) == [Problem("#/states/3/type", enum(types))]
    assert "send-message" in types and "trigger" in types


@pytest.mark.parametrize(
    "valid",
    [
        pytest.param([rename("reply", "get-reply_2")], id="hyphen-underscore-digit-names"),
        pytest.param([put("$schema", SCHEMA_URL)], id="schema-const"),
        pytest.param([drop("flags")], id="flags-absent"),
        pytest.param([drop("description")], id="description-absent"),
        pytest.param([put("states/3/transitions/0/next", "")], id="empty-next-is-unwired"),
        pytest.param([drop("states/3/transitions/1")], id="missing-event-is-unwired"),
        pytest.param([put("states/3/properties/shout", {"any": 1})], id="unknown-property-kept"),
        pytest.param([put("states/3/properties/message_type", "")], id="empty-optional-enum"),
        pytest.param([put("states/3/properties/offset", {"x": -40, "y": 10})], id="offset"),
        pytest.param([put("states/2/properties/variables/0/value", 10)], id="number-variable"),
        pytest.param([put("states/2/properties/variables/0/index", "0")], id="index-key"),
        pytest.param(
            [lambda d: d["states"][1]["transitions"].append(copy.deepcopy(MATCH))],
            id="repeated-match-transitions",
        ),
        pytest.param(
            [
                put("states/1/transitions/1/conditions/0/type", "regex"),
                put("states/1/transitions/1/conditions/0/value", "ye[sp]"),
            ],
            id="regex-condition",
        ),
        pytest.param([put("states/3/properties/body", "${BODY_TEXT}")], id="terraform-placeholder"),
        pytest.param([add_state(subflow(flow_sid=f" {SUBFLOW_SID} "))], id="subflow"),
    ],
)
def test_valid_variants(valid: list[Mutation]) -> None:
    assert validate(checked(valid)) == []


def test_every_operator_is_accepted() -> None:
    for operator in STUDIO_OPERATORS:
        data = checked([put("states/1/transitions/1/conditions/0/type", operator)])
        assert validate(data) == [], operator


def test_the_fallback_operator_list_matches_the_conditions_module() -> None:
    from callboard.flow.conditions import OPERATORS

    assert tuple(OPERATORS) == STUDIO_OPERATORS


# (id, mutations, expected warnings as (property_path, message prefix))
WARNING_CASES: list[tuple[str, list[Mutation], list[tuple[str, str]]]] = [
    (
        "broken-liquid-property",
        [put("states/3/properties/body", "Hi {{ contact.channel.address ")],
        [("#/states/3/properties/body", "invalid Liquid template: ")],
    ),
    (
        "unknown-liquid-filter",
        [put("states/3/properties/body", "{{ 'x' | no_such_filter }}")],
        [
            (
                "#/states/3/properties/body",
                "invalid Liquid template: unknown filter 'no_such_filter'",
            )
        ],
    ),
    (
        "broken-liquid-key-value",
        [put("states/2/properties/variables/0/value", "{% if x %}1")],
        [("#/states/2/properties/variables/0/value", "invalid Liquid template: ")],
    ),
    (
        "broken-liquid-condition-argument",
        [put("states/1/transitions/1/conditions/0/arguments/0", "{{ a | }}")],
        [("#/states/1/transitions/1/conditions/0/arguments/0", "invalid Liquid template: ")],
    ),
    (
        "broken-liquid-condition-value",
        [put("states/1/transitions/1/conditions/0/value", "{% for %}")],
        [("#/states/1/transitions/1/conditions/0/value", "invalid Liquid template: ")],
    ),
    (
        "invalid-regex",
        [
            put("states/1/transitions/1/conditions/0/type", "regex"),
            put("states/1/transitions/1/conditions/0/value", "([a-z"),
        ],
        [("#/states/1/transitions/1/conditions/0/value", "invalid regular expression '([a-z'")],
    ),
    (
        "non-number-for-less-than",
        [
            put("states/1/transitions/1/conditions/0/type", "less_than"),
            put("states/1/transitions/1/conditions/0/value", "ten"),
        ],
        [
            (
                "#/states/1/transitions/1/conditions/0/value",
                "'ten' is not a number; the condition never matches",
            )
        ],
    ),
    (
        "empty-conditions",
        [put("states/1/transitions/1/conditions", [])],
        [("#/states/1/transitions/1/conditions", "a transition without conditions never matches")],
    ),
    (
        "conditions-on-plain-transition",
        [put("states/1/transitions/0/conditions", [])],
        [("#/states/1/transitions/0/conditions", "conditions are ignored on this transition")],
    ),
    (
        "unreachable-widget",
        [put("states/1/transitions/1/next", "reply")],
        [("#/states/2", "no transition leads to this widget")],
    ),
    (
        "initial-state-not-trigger",
        [put("initial_state", "split")],
        [
            ("#/initial_state", "is not a trigger widget; executions start there"),
            ("#/states/0", "no transition leads to this widget"),
        ],
    ),
    (
        "unknown-top-level-key",
        [put("author", "me")],
        [("#/author", "is not a flow definition key; kept but ignored")],
    ),
    (
        "unknown-transition-key",
        [put("states/3/transitions/0/uuid", "1")],
        [("#/states/3/transitions/0/uuid", "is not a transition key; kept but ignored")],
    ),
    (
        "null-next",
        [put("states/3/transitions/0/next", None)],
        [
            (
                "#/states/3/transitions/0/next",
                "null found, string expected; treated as not connected",
            )
        ],
    ),
    (
        "empty-required-property",
        [put("states/3/properties/body", "")],
        [("#/states/3/properties/body", "is empty")],
    ),
]


@pytest.mark.parametrize(
    ("mutations", "expected"),
    [pytest.param(m, e, id=name) for name, m, e in WARNING_CASES],
)
def test_warning_rules(mutations: list[Mutation], expected: list[tuple[str, str]]) -> None:
    report = validate_flow(checked(mutations))
    assert report.errors == []  # a warning never makes the flow invalid
    got = [(p.property_path, p.message) for p in report.warnings]
    assert len(got) == len(expected), got
    for (path, message), (want_path, prefix) in zip(got, expected, strict=True):
        assert path == want_path
        assert message.startswith(prefix), message


def test_broken_liquid_is_a_warning_not_an_error() -> None:
    report = validate_flow(checked([put("states/3/properties/body", "{{ oops")]))
    assert report.valid and validate(checked([put("states/3/properties/body", "{{ oops")])) == []
    assert "81018" in report.warnings[0].message


def test_reports_every_problem_at_once() -> None:
    data = checked(
        [
            put("initial_state", "Start"),
            put("flags", {}),
            put("states/3/properties/body", 5),
            put("states/3/properties/message_type", "sms"),
            put("states/3/transitions/1/event", "oops"),
            put("states/2/transitions/0/next", "nowhere"),
            put("states/1/transitions/1/conditions/0/type", "equals"),
            put("states/2/name", "bad name"),
            drop("states/1/properties/input"),
        ]
    )
    paths = [p.property_path for p in validate(data)]
    assert paths == [
        "#/states/2/name",
        "#/initial_state",
        "#/flags/allow_concurrent_calls",
        "#/states/1/properties/input",
        "#/states/1/transitions/1/next",  # "vars" was renamed to "bad name"
        "#/states/1/transitions/1/conditions/0/type",
        "#/states/2/transitions/0/next",
        "#/states/3/properties/body",
        "#/states/3/properties/message_type",
        "#/states/3/transitions/1/event",
    ]


def test_widget_extra_checks_are_errors_with_state_relative_paths(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def extra(self: Any, properties: Mapping[str, Any]) -> list[tuple[str, str]]:
        return [("properties/to", "must be a phone number"), ("properties/body", "too long")]

    monkeypatch.setattr(SendMessageWidget, "extra_checks", extra)
    assert validate(base()) == [
        Problem("#/states/3/properties/to", "must be a phone number"),
        Problem("#/states/3/properties/body", "too long"),
    ]


def test_a_failing_widget_check_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    def extra(self: Any, properties: Mapping[str, Any]) -> list[tuple[str, str]]:
        raise KeyError("boom")

    monkeypatch.setattr(SendMessageWidget, "extra_checks", extra)
    report = validate_flow(base())
    assert report.errors == []
    assert report.warnings == [
        Problem("#/states/3/properties", "the send-message widget's own checks failed: KeyError")
    ]


def test_report_json_shape() -> None:
    report = validate_flow(checked([put("states/3/properties/body", 5)]))
    assert isinstance(report, ValidationReport)
    assert report.to_json() == {
        "valid": False,
        "errors": [
            {
                "property_path": "#/states/3/properties/body",
                "message": "integer found, string expected",
            }
        ],
        "warnings": [],
    }
    assert str(report.errors[0]) == "#/states/3/properties/body: integer found, string expected"


# --------------------------------------------------------------------------- Prop kinds


def _prop_problems(prop: Prop, value: Any) -> tuple[list[str], list[str]]:
    errors: list[str] = []
    warnings: list[str] = []
    checker = PropChecker(
        lambda p, m: errors.append(f"{p}: {m}"), lambda p, m: warnings.append(f"{p}: {m}"), {}
    )
    checker.check("#/p", prop, value)
    return errors, warnings


TIMEOUT = Prop("timeout", kind="integer", minimum=1, maximum=30)
STRING_TIMEOUT = Prop("timeout", also=("integer",), minimum=0)
LOOSE_NUMBER = Prop("priority", kind="integer", also=("string",))
LIQUID_ENUM = Prop("voice", enum=("alice", "man"), liquid=True)

PROP_CASES: list[tuple[str, Prop, Any, list[str], list[str]]] = [
    ("integer-ok", TIMEOUT, 5, [], []),
    ("integer-float-integral", TIMEOUT, 5.0, [], []),
    ("integer-fraction", TIMEOUT, 5.5, ["#/p: number found, integer expected"], []),
    ("integer-string", TIMEOUT, "5", ["#/p: string found, integer expected"], []),
    (
        "integer-liquid-not-accepted",
        TIMEOUT,
        "{{x}}",
        ["#/p: string found, integer expected"],
        [],
    ),
    ("integer-bool", TIMEOUT, True, ["#/p: boolean found, integer expected"], []),
    ("integer-below-minimum", TIMEOUT, 0, ["#/p: must have a minimum value of 1"], []),
    ("integer-above-maximum", TIMEOUT, 31, ["#/p: must have a maximum value of 30"], []),
    ("number-accepts-fraction", Prop("n", kind="number"), 0.5, [], []),
    ("string-with-also-integer", STRING_TIMEOUT, 3600, [], []),
    ("string-numeric", STRING_TIMEOUT, "3600", [], []),
    ("string-negative", STRING_TIMEOUT, "-1", ["#/p: must have a minimum value of 0"], []),
    ("string-not-numeric", STRING_TIMEOUT, "soon", ["#/p: 'soon' is not a number"], []),
    ("string-liquid-skips-range", STRING_TIMEOUT, "{{flow.data.t}}", [], []),
    (
        "string-also-union-message",
        STRING_TIMEOUT,
        False,
        ["#/p: boolean found, [string, integer] expected"],
        [],
    ),
    ("integer-also-string", LOOSE_NUMBER, "{{flow.data.p}}", [], []),
    ("integer-also-string-text", LOOSE_NUMBER, "high", ["#/p: 'high' is not a number"], []),
    ("liquid-enum-accepts-template", LIQUID_ENUM, "{{flow.variables.voice}}", [], []),
    ("liquid-enum-checks-literals", LIQUID_ENUM, "bob", ["#/p: " + enum(["alice", "man"])], []),
    ("string-list-ok", Prop("cards", kind="string_list"), ["visa"], [], []),
    (
        "string-list-item",
        Prop("cards", kind="string_list"),
        ["visa", 1],
        ["#/p/1: integer found, string expected"],
        [],
    ),
    ("object-ok", Prop("o", kind="object"), {"x": 1}, [], []),
    ("object-wrong", Prop("o", kind="object"), [], ["#/p: array found, object expected"], []),
    ("any", Prop("a", kind="any"), [1, {"b": None}], [], []),
    ("huge-string", Prop("s"), "x" * 2_000_000, [], []),
    (
        "non-liquid-string-with-liquid",
        Prop("sid", liquid=False),
        "{{x}}",
        [],
        ["#/p: Liquid is not rendered in this property; the text is used as written"],
    ),
]


@pytest.mark.parametrize(
    ("prop", "value", "errors", "warnings"),
    [pytest.param(p, v, e, w, id=name) for name, p, v, e, w in PROP_CASES],
)
def test_prop_kinds(prop: Prop, value: Any, errors: list[str], warnings: list[str]) -> None:
    assert _prop_problems(prop, value) == (errors, warnings)


# --------------------------------------------------------------------------- hostile input

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=40,
)
KEYS = st.sampled_from(
    [
        "states",
        "initial_state",
        "flags",
        "name",
        "type",
        "transitions",
        "properties",
        "event",
        "next",
        "conditions",
        "body",
        "variables",
        "flow_sid",
        "arguments",
        "value",
        "0",
        "1",
    ]
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(_paths(v, (*prefix, i)))
    return out


def _assert_report(data: Any) -> None:
    report = validate_flow(data)
    assert all(isinstance(p, Problem) for p in report.errors + report.warnings)
    assert all(p.property_path.startswith("#") for p in report.errors + report.warnings)
    assert validate(data) == report.errors
    try:  # the model reads what it can and refuses the rest with FlowFormatError only
        FlowDefinition.from_json(data)
    except FlowFormatError as exc:
        assert exc.path.startswith("#")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON)
def test_never_raises_on_arbitrary_json(data: Any) -> None:
    _assert_report(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_never_raises_on_a_flow_with_one_part_replaced(data: st.DataObject) -> None:
    flow = base()
    paths = [p for p in _paths(flow) if p]
    path = data.draw(st.sampled_from(paths))
    node: Any = flow
    for part in path[:-1]:
        node = node[part]
    if data.draw(st.booleans()) and isinstance(node, dict):
        node[data.draw(KEYS)] = data.draw(JSON)
    else:
        node[path[-1]] = data.draw(JSON | st.text(alphabet="{}%|'\"x. ", max_size=20))
    _assert_report(flow)


def _nested(depth: int) -> Any:
    value: Any = "{{x}}"
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


@pytest.mark.parametrize(
    "mutation",
    [
        pytest.param(put("states/3/properties/body", _nested(50_000)), id="deep-property"),
        pytest.param(put("states/3/transitions/0/next", _nested(50_000)), id="deep-next"),
        pytest.param(put("states/2/properties/variables/0", _nested(50_000)), id="deep-item"),
        pytest.param(put("states/3", _nested(50_000)), id="deep-state"),
        pytest.param(
            put("states/1/transitions/1/conditions/0/value", _nested(50_000)), id="deep-cond"
        ),
        pytest.param(put("states/3/properties/body", "{% if a %}" * 20_000), id="deep-liquid"),
        pytest.param(put("states/3/properties/body", "{{" * 100_000), id="many-braces"),
        pytest.param(put("states/3/name", "n" * 1_000_000), id="huge-name"),
        pytest.param(put("initial_state", "\x00" * 1000), id="nul-initial"),
        pytest.param(
            put("states/1/transitions/1/conditions/0/value", "(" * 5000 + ")" * 5000),
            id="deep-regex",
        ),
    ],
)
def test_hostile_values(mutation: Mutation) -> None:
    _assert_report(checked([mutation]))


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("}}" + "{{" * 5000, "more than 20 '{{' or '{%' are never closed"),
        ("{% raw %}" * 5000, "more than 20 '{{' or '{%' are never closed"),
        ("{{ x }}" * 10_000, "longer than 64 KB, not checked"),
    ],
)
def test_pathological_liquid_is_not_parsed(template: str, message: str) -> None:
    # python-liquid's lexer is quadratic on unclosed openings: these would take minutes
    _, warnings = _prop_problems(Prop("body"), template)
    assert warnings == [f"#/p: invalid Liquid template: {message}" + LIQUID_TAIL]


def test_liquid_checking_has_a_budget_per_definition() -> None:
    warnings: list[str] = []
    checker = PropChecker(lambda p, m: None, lambda p, m: warnings.append(f"{p}: {m}"), {})
    checker.budget = 25
    checker.liquid("#/a", "{{ a }}{{ b }}")  # 14 characters: checked (and valid)
    checker.liquid("#/b", "{{ c }}{{ d }}")  # over the budget now
    checker.liquid("#/a", "{{ a }}{{ b }}")  # already checked: cached, free
    assert warnings == ["#/b: Liquid template not checked: the definition has too much Liquid"]


def test_deep_regex_value_does_not_raise() -> None:
    data = checked(
        [
            put("states/1/transitions/1/conditions/0/type", "regex"),
            put("states/1/transitions/1/conditions/0/value", "(" * 5000 + ")" * 5000),
        ]
    )
    _assert_report(data)


def test_huge_values_are_shortened_in_messages() -> None:
    huge = "x" * 100_000
    data = checked([rename("reply", huge), put("states/2/name", huge)])
    errors = validate(data)
    assert errors[0].message == f"Widget name '{'x' * 57}...' is not unique (also #/states/2)"
    prop_errors, _ = _prop_problems(STRING_TIMEOUT, huge)
    assert prop_errors == [f"#/p: '{'x' * 57}...' is not a number"]


# --------------------------------------------------------------------------- the corpus


def _corpus_id(path: Path) -> str:
    return path.name.split("__")[0]


@pytest.fixture
def corpus_file(request: pytest.FixtureRequest) -> Path:
    if not CORPUS:
        pytest.skip("../shared/studio-flows is not available")
    path: Path = request.param
    return path


corpus = pytest.mark.parametrize(
    "corpus_file",
    CORPUS or [Path("absent")],
    ids=[_corpus_id(p) for p in CORPUS] or ["absent"],
    indirect=True,
)


@corpus
def test_corpus_round_trip(corpus_file: Path) -> None:
    text = corpus_file.read_text()
    data = json.loads(text)
    definition = load_flow(text, source=corpus_file.name)
    assert FlowDefinition.from_json(data).to_json() == data
    assert definition.to_json() == data
    assert len(definition.states) == len(data["states"])
    assert definition.state(definition.initial_state) is not None


@corpus
def test_corpus_validates(corpus_file: Path) -> None:
    report = validate_flow(json.loads(corpus_file.read_text()))
    unsupported = [p for p in report.errors if p.message.endswith("is not supported by Callboard")]
    others = [p for p in report.errors if p not in unsupported]
    assert others == []
    if unsupported:
        missing = sorted({p.message.split("'")[1] for p in unsupported})
        pytest.xfail(f"widget modules not written yet: {', '.join(missing)}")


def test_terraform_placeholders_are_plain_strings() -> None:
    matches = [p for p in CORPUS if "flex-project-template" in p.name]
    if not matches:
        pytest.skip("../shared/studio-flows is not available")
    data = json.loads(matches[0].read_text())
    report = validate_flow(data)
    flagged = [
        p
        for p in report.errors + report.warnings
        if p.property_path.endswith(("/workflow", "/channel"))
    ]
    assert flagged == []
