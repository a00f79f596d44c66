from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest

from callboard.contract.io import Start
from callboard.engine import Advance, Bundle, FlowRef, advance
from callboard.flow.model import FlowDefinition
from callboard.widgets import registry
from callboard.widgets.registry import WIDGETS


class FakeEnv:
    def __init__(self) -> None:
        self._ids = itertools.count(1)

    def now(self) -> datetime:
        return datetime(2026, 1, 1, tzinfo=UTC)

    def sid(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):032x}"


def cond(
    op: str, value: str, arg: str | None = "{{flow.data.x}}", name: str = ""
) -> dict[str, Any]:
    c: dict[str, Any] = {
        "friendly_name": name or f"If value {op} {value}",
        "type": op,
        "value": value,
    }
    c["arguments"] = [arg] if arg is not None else []
    return c


def marker(name: str) -> dict[str, Any]:
    """A widget that records that the execution reached it."""
    return {
        "name": name,
        "type": "set-variables",
        "transitions": [{"event": "next"}],
        "properties": {"variables": [{"key": "reached", "value": name}]},
    }


def run_split(
    transitions: list[dict[str, Any]],
    data: dict[str, Any],
    *,
    input_: str = "{{flow.data.x}}",
    extra: list[dict[str, Any]] | None = None,
) -> Advance:
    targets = {t["next"] for t in transitions if t.get("next")}
    states = [
        {
            "name": "Trigger",
            "type": "trigger",
            "transitions": [{"event": "incomingRequest", "next": "split"}],
            "properties": {},
        },
        {
            "name": "split",
            "type": "split-based-on",
            "transitions": transitions,
            "properties": {"input": input_, "offset": {"x": 0, "y": 0}},
        },
        *(marker(n) for n in sorted(targets) if not any(n == e["name"] for e in extra or [])),
        *(extra or []),
    ]
    flow = FlowDefinition.from_json({"initial_state": "Trigger", "states": states})
    start = Start("incomingRequest", "FN1", "FW1", "+15551", "+15552", {}, data)
    return advance(Bundle(FlowRef("FW1", 1, flow), widgets=WIDGETS), None, start, FakeEnv())


def split_step(result: Advance) -> tuple[str, str]:
    (step,) = [s for s in result.steps if s.transitioned_from == "split"]
    return step.name, step.transitioned_to


MENU: list[dict[str, Any]] = [
    {"event": "noMatch", "next": "other"},
    {"event": "match", "next": "one", "conditions": [cond("equal_to", "1")]},
    {"event": "match", "next": "two", "conditions": [cond("equal_to", "2")]},
    {"event": "match", "next": "yes", "conditions": [cond("matches_any_of", "yes,yeah,yup")]},
]


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        ("1", ("match", "one")),
        ("2", ("match", "two")),  # not the first "match" transition
        (" 2 ", ("match", "two")),
        ("YES", ("match", "yes")),
        ("3", ("noMatch", "other")),
        ("", ("noMatch", "other")),
    ],
)
def test_takes_the_matching_transition(x: str, expected: tuple[str, str]) -> None:
    result = run_split(MENU, {"x": x})
    assert split_step(result) == expected
    assert result.state.context["flow"]["variables"]["reached"] == expected[1]
    assert not result.warnings


def test_first_matching_transition_wins() -> None:
    transitions: list[dict[str, Any]] = [
        {"event": "noMatch", "next": "other"},
        {"event": "match", "next": "first", "conditions": [cond("contains", "a")]},
        {"event": "match", "next": "second", "conditions": [cond("contains", "b")]},
    ]
    assert split_step(run_split(transitions, {"x": "ab"})) == ("match", "first")
    assert split_step(run_split(transitions, {"x": "b"})) == ("match", "second")


def test_conditions_in_one_transition_are_and_ed() -> None:
    transitions: list[dict[str, Any]] = [
        {"event": "noMatch", "next": "other"},
        {
            "event": "match",
            "next": "range",
            "conditions": [cond("greater_than", "10"), cond("less_than", "20")],
        },
    ]
    assert split_step(run_split(transitions, {"x": "15"})) == ("match", "range")
    assert split_step(run_split(transitions, {"x": "25"})) == ("noMatch", "other")
    assert split_step(run_split(transitions, {"x": "5"})) == ("noMatch", "other")


def test_no_match_without_next_ends_with_81005() -> None:
    transitions: list[dict[str, Any]] = [
        {"event": "noMatch"},
        {"event": "match", "next": "one", "conditions": [cond("equal_to", "1")]},
    ]
    result = run_split(transitions, {"x": "9"})
    assert split_step(result) == ("noMatch", "Ended")
    assert result.state.status == "ended"
    assert [w.code for w in result.warnings] == [81005]
    assert result.warnings[0].widget == "split"
    (step,) = [s for s in result.steps if s.transitioned_from == "split"]
    assert [w.code for w in step.warnings] == [81005]


def test_no_match_transition_missing_entirely_ends_with_81005() -> None:
    transitions = [{"event": "match", "next": "one", "conditions": [cond("equal_to", "1")]}]
    result = run_split(transitions, {"x": "9"})
    assert split_step(result) == ("noMatch", "Ended")
    assert [w.code for w in result.warnings] == [81005]


def test_match_leading_nowhere_ends_quietly() -> None:
    transitions: list[dict[str, Any]] = [
        {"event": "noMatch", "next": "other"},
        {"event": "match", "conditions": [cond("equal_to", "1")]},
    ]
    result = run_split(transitions, {"x": "1"})
    assert split_step(result) == ("match", "Ended")
    assert result.state.status == "ended"
    assert not result.warnings


def test_condition_value_is_rendered_with_liquid() -> None:
    transitions: list[dict[str, Any]] = [
        {"event": "noMatch", "next": "other"},
        {
            "event": "match",
            "next": "more",
            "conditions": [cond("less_than", "{{flow.data.limit | size}}")],
        },
        {"event": "match", "next": "same", "conditions": [cond("equal_to", "{{flow.data.y}}")]},
    ]
    assert split_step(run_split(transitions, {"x": "2", "limit": [1, 2, 3]})) == ("match", "more")
    assert split_step(run_split(transitions, {"x": "Hi", "y": "hi", "limit": []})) == (
        "match",
        "same",
    )


def test_subject_is_arguments_0_else_input() -> None:
    transitions: list[dict[str, Any]] = [
        {"event": "noMatch", "next": "other"},
        {
            "event": "match",
            "next": "by_arg",
            "conditions": [cond("equal_to", "a", "{{flow.data.a}}")],
        },
        {"event": "match", "next": "by_input", "conditions": [cond("equal_to", "i", arg=None)]},
        {"event": "match", "next": "empty_arg", "conditions": [cond("equal_to", "j", arg="")]},
    ]
    data = {"x": "i", "a": "a"}
    assert split_step(run_split(transitions, data)) == ("match", "by_arg")
    assert split_step(run_split(transitions, {**data, "a": "z"})) == ("match", "by_input")
    assert split_step(run_split(transitions, {"x": "j", "a": "z"})) == ("match", "empty_arg")


def test_liquid_error_in_input_warns_81018_and_tests_an_empty_subject() -> None:
    transitions: list[dict[str, Any]] = [
        {"event": "noMatch", "next": "other"},
        {
            "event": "match",
            "next": "blank",
            "conditions": [cond("is_blank", "Is Blank", "{{ x | nope }}")],
        },
    ]
    result = run_split(transitions, {"x": "1"})
    assert split_step(result) == ("match", "blank")
    assert [w.code for w in result.warnings] == [81018]
    assert "nope" in result.warnings[0].message


@pytest.mark.parametrize(
    ("condition", "fragment"),
    [
        (cond("equals", "1"), "unknown Split Based On operator 'equals'"),
        (cond("regex", "[1-"), "invalid regular expression"),
    ],
)
def test_bad_condition_warns_and_does_not_match(condition: dict[str, Any], fragment: str) -> None:
    transitions: list[dict[str, Any]] = [
        {"event": "noMatch", "next": "other"},
        {"event": "match", "next": "bad", "conditions": [condition]},
        {"event": "match", "next": "good", "conditions": [cond("is_not_blank", "")]},
    ]
    result = run_split(transitions, {"x": "1"})
    assert split_step(result) == ("match", "good")
    assert [w.code for w in result.warnings] == [81005]
    assert fragment in result.warnings[0].message


def test_match_without_conditions_never_matches() -> None:
    transitions: list[dict[str, Any]] = [
        {"event": "noMatch", "next": "other"},
        {"event": "match", "next": "empty"},
    ]
    assert split_step(run_split(transitions, {"x": ""})) == ("noMatch", "other")


def test_split_sets_no_variables() -> None:
    result = run_split(MENU, {"x": "1"})
    assert "split" not in result.state.context["widgets"]


def test_schema_for_the_editor() -> None:
    widget = registry.get("split-based-on")
    assert widget is not None
    schema = widget.schema()
    assert schema["label"] == "Split Based On..."
    assert schema["group"] == "Flow Control"
    assert [e["name"] for e in schema["events"]] == ["noMatch", "match"]
    assert schema["events"][0]["label"] == "No Condition Matches"
    assert schema["repeatable_events"] == ["match"]
    (input_prop,) = [p for p in schema["properties"] if p["name"] == "input"]
    assert input_prop["required"] is True


def test_a_catastrophic_regex_answers_at_once_on_a_linear_engine() -> None:
    transitions = [
        {"event": "noMatch", "next": "other"},
        {"event": "match", "next": "evil", "conditions": [cond("regex", "(a+)+$")]},
    ]
    # 2^60 backtracking steps on a backtracking engine; RE2 answers in microseconds.
    assert split_step(run_split(transitions, {"x": "a" * 60 + "!"})) == ("noMatch", "other")
    assert split_step(run_split(transitions, {"x": "aaaa"}))[1] == "evil"


def test_a_regex_needing_backtracking_never_matches_and_warns_on_the_step() -> None:
    transitions = [
        {"event": "noMatch", "next": "other"},
        {"event": "match", "next": "twice", "conditions": [cond("regex", r"(a)\1")]},
    ]
    result = run_split(transitions, {"x": "aa"})
    assert split_step(result) == ("noMatch", "other")
    (step,) = [s for s in result.steps if s.transitioned_from == "split"]
    assert [w.code for w in step.warnings] == [81005]
    assert "backtracking" in step.warnings[0].message
