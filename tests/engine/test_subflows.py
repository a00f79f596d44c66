"""Run Subflow through the engine: parameters in, variables out, shared budget, limits."""

from __future__ import annotations

from typing import Any

import pytest

from callboard.contract.io import (
    EffectResult,
    EndExecution,
    InboundMessage,
    SendMessage,
    StartTimer,
    TimerFired,
)
from callboard.engine import MAX_STEPS
from tests.widgets.kit import MAIN, SUB, Harness, set_vars, trigger, w

OTHER = "FW" + "c" * 32


def run_sub(name: str = "sub", sid: str = SUB, **nexts: str) -> dict[str, Any]:
    return w(
        name,
        "run-subflow",
        nexts,
        flow_sid=sid,
        flow_revision="LatestPublished",
        parameters=[
            {"key": "name", "value": "{{flow.data.name}}"},
            {"key": "from", "value": "{{contact.channel.address}}"},
        ],
    )


PARENT = [
    trigger("before"),
    set_vars("before", "sub", mine="parent"),
    run_sub(completed="after", failed="oops"),
    set_vars("after", None, greeting="{{widgets.sub.greeting}}", mine="{{flow.variables.mine}}"),
    set_vars("oops", None, failed="yes"),
]

CHILD = [
    trigger("greet", event="incomingParent"),
    set_vars(
        "greet",
        "second",
        greeting="Hello {{trigger.parent.parameters.name}}",
        seen_mine="{{flow.variables.mine}}",
        request="{{trigger.request.parameters.name}}",
    ),
    set_vars("second", None, count="2"),
]


def test_parameters_in_variables_out() -> None:
    h = Harness(PARENT, {SUB: CHILD})
    result = h.start(parameters={"name": "Ann"})
    assert result.ended and result.state.ended_reason == "completed"
    assert h.context["widgets"]["sub"] == {
        "greeting": "Hello Ann",
        "seen_mine": "",  # the subflow has its own flow.variables
        "request": "Ann",  # the parent's trigger data is copied in
        "count": 2,  # a numeric Set Variables value stays a number
    }
    assert h.context["flow"]["variables"] == {"mine": "parent", "greeting": "Hello Ann"}
    assert "greet" not in h.context["widgets"]  # the subflow's widgets stay in the subflow
    assert h.path == [
        ("Trigger", "incomingRequest", "before"),
        ("before", "next", "sub"),
        ("Trigger", "incomingParent", "greet"),
        ("greet", "next", "second"),
        ("second", "next", "Ended"),
        ("sub", "completed", "after"),
        ("after", "next", "Ended"),
    ]
    assert [s.flow_sid for s in h.steps] == [MAIN, MAIN, SUB, SUB, SUB, MAIN, MAIN]
    sub_trigger = h.steps[2].context["trigger"]
    assert sub_trigger["parent"]["parameters"] == {
        "name": "Ann",
        "from": h.context["contact"]["channel"]["address"],
    }
    assert sub_trigger["parent"]["flow_sid"] == MAIN


def test_subflow_that_ends_at_once_completes_with_no_variables() -> None:
    h = Harness(PARENT, {SUB: [trigger(None, event="incomingParent")]})
    h.start()
    assert ("sub", "completed", "after") in h.path
    assert h.context["widgets"]["sub"] == {}


def test_missing_subflow_fails() -> None:
    h = Harness(PARENT, {OTHER: CHILD})
    result = h.start()
    assert ("sub", "failed", "oops") in h.path
    assert h.context["widgets"]["sub"] == {}
    assert 81024 in [x.code for x in result.warnings]
    assert result.state.ended_reason == "completed"


def test_nesting_depth_is_one() -> None:
    child = [
        trigger("inner", event="incomingParent"),
        run_sub("inner", sid=OTHER, completed="done", failed="nested_failed"),
        set_vars("nested_failed", None, nested="failed"),
        set_vars("done", None, nested="completed"),
    ]
    grandchild = [trigger("x", event="incomingParent"), set_vars("x", None, x="ran")]
    h = Harness(PARENT, {SUB: child, OTHER: grandchild})
    result = h.start()
    assert ("inner", "failed", "nested_failed") in h.path
    assert h.context["widgets"]["sub"] == {"nested": "failed"}
    assert ("sub", "completed", "after") in h.path
    assert 81024 in [x.code for x in result.warnings]
    assert all(s.flow_sid != OTHER for s in h.steps)


def test_wait_inside_a_subflow_resumes_there_and_returns() -> None:
    child = [
        trigger("ask", event="incomingParent"),
        w(
            "ask",
            "send-and-wait-for-reply",
            {"incomingMessage": "keep", "timeout": "gave_up"},
            body="Name, {{trigger.parent.parameters.name}}?",
        ),
        set_vars("keep", None, answer="{{widgets.ask.inbound.Body}}"),
        set_vars("gave_up", None, answer="none"),
    ]
    h = Harness(PARENT, {SUB: child}, roundtrip=True)
    h.start(parameters={"name": "Ann"})
    assert h.state is not None and len(h.state.frames) == 2
    assert h.effect(SendMessage).body == "Name, Ann?"
    h.feed(EffectResult(h.token, True, {"Sid": "SM1"}))
    h.feed(InboundMessage({"Body": "Zed"}))
    assert h.context["widgets"]["sub"] == {"answer": "Zed"}
    assert h.state.status == "ended" and len(h.state.frames) == 1
    assert h.path[-3:] == [
        ("keep", "next", "Ended"),
        ("sub", "completed", "after"),
        ("after", "next", "Ended"),
    ]
    # every step the subflow ran (across the wait) carries the Run Subflow step's SID
    by_from = {s.transitioned_from: s for s in h.steps if s.flow_sid == MAIN}
    sub_step = by_from["sub"]
    inside = [s for s in h.steps if s.flow_sid == SUB]
    assert [s.transitioned_from for s in inside] == ["Trigger", "ask", "keep"]
    assert {s.parent_step_sid for s in inside} == {sub_step.sid}
    assert all(s.parent_step_sid is None for s in h.steps if s.flow_sid == MAIN)
    assert len({s.sid for s in h.steps}) == len(h.steps)  # the reserved SID is used once


def test_subflow_steps_name_the_run_subflow_step_as_parent() -> None:
    h = Harness(PARENT, {SUB: CHILD})
    h.start(parameters={"name": "Ann"})
    sub_sid = next(s.sid for s in h.steps if s.transitioned_from == "sub")
    assert all(s.parent_step_sid is None for s in h.steps if s.flow_sid == MAIN)
    subflow_steps = [s for s in h.steps if s.flow_sid == SUB]
    assert len(subflow_steps) == 3 and all(s.parent_step_sid == sub_sid for s in subflow_steps)
    # the Run Subflow step comes after its subflow's steps (it ends when the subflow does)
    order = [s.sid for s in h.steps]
    assert order.index(sub_sid) > max(order.index(s.sid) for s in subflow_steps)


def test_ending_inside_a_subflow_cancels_its_timer() -> None:
    child = [
        trigger("ask", event="incomingParent"),
        w("ask", "send-and-wait-for-reply", body="?"),
    ]
    h = Harness(PARENT, {SUB: child})
    h.start()
    h.feed(EffectResult(h.token, True, {"Sid": "SM1"}))
    token = h.effect(StartTimer).token
    result = h.feed(EndExecution())
    assert result.ended and result.state.ended_reason == "ended"
    assert len(result.state.frames) == 1
    assert [e.token for e in result.effects] == [token]  # CancelTimer
    assert not h.feed(TimerFired(token)).accepted


@pytest.mark.parametrize("parent_steps", [0, 7])
def test_subflow_steps_share_the_step_budget(parent_steps: int) -> None:
    """A subflow looping forever is stopped by the execution's 1,000 steps."""
    parent = [trigger("p0" if parent_steps else "sub")]
    for i in range(parent_steps):
        nxt = f"p{i + 1}" if i + 1 < parent_steps else "sub"
        parent.append(set_vars(f"p{i}", nxt, i=str(i)))
    parent.append(run_sub(completed="after"))
    parent.append(set_vars("after", None, x="1"))
    child = [
        trigger("a", event="incomingParent"),
        set_vars("a", "b", a="1"),
        set_vars("b", "a", b="1"),
    ]
    h = Harness(parent, {SUB: child})
    result = h.start()
    assert len(h.steps) == MAX_STEPS
    assert [x.code for x in result.warnings] == [81000]
    assert result.state.ended_reason == "step_limit"
    assert len(result.state.frames) == 1
    parent_count = sum(1 for s in h.steps if s.flow_sid == MAIN)
    assert parent_count == parent_steps + 1  # the parent's Trigger and set-variables


@pytest.mark.parametrize("child_widgets", [0, 1, 2])
def test_running_a_subflow_again_and_again_stops_at_the_step_limit(child_widgets: int) -> None:
    """Regression: each subflow call used to nest the engine's Python calls (a
    RecursionError after a few hundred calls), and the Run Subflow step recorded when a
    subflow returned could go over the budget."""
    parent = [trigger("sub"), w("sub", "run-subflow", {"completed": "sub"}, flow_sid=SUB)]
    names = [f"c{i}" for i in range(child_widgets)]
    child = [trigger(names[0] if names else None, event="incomingParent")]
    for i, name in enumerate(names):
        child.append(set_vars(name, names[i + 1] if i + 1 < len(names) else None, n=str(i)))
    h = Harness(parent, {SUB: child})
    result = h.start()
    assert len(h.steps) == MAX_STEPS
    assert [x.code for x in result.warnings] == [81000]
    assert result.state.ended_reason == "step_limit"
    assert h.path.count(("sub", "completed", "sub")) >= (MAX_STEPS - 1) // (child_widgets + 2)
