"""Loop protection: 1,000 steps per execution (81000), 10 runs of one widget in a row
(81001). The counters live in the execution state, so they hold across waits and
across serialisation."""

from __future__ import annotations

import pytest

from callboard.contract.io import EffectResult, InboundMessage, SendMessage, TimerFired
from callboard.engine import MAX_CONSECUTIVE, MAX_STEPS
from tests.widgets.kit import Harness, set_vars, trigger, w


def test_limits_are_studios() -> None:
    assert (MAX_STEPS, MAX_CONSECUTIVE) == (1000, 10)


def test_step_limit_ends_the_execution_after_exactly_1000_steps() -> None:
    h = Harness([trigger("a"), set_vars("a", "b", x="1"), set_vars("b", "a", y="2")])
    result = h.start()
    assert len(h.steps) == MAX_STEPS  # the Trigger step counts
    assert [x.code for x in result.warnings] == [81000]
    assert result.warnings[0].widget == h.steps[-1].transitioned_to  # the one not run
    assert result.ended and result.state.ended_reason == "step_limit"
    assert result.state.step_count == MAX_STEPS


def test_a_flow_of_999_widget_steps_completes() -> None:
    """The boundary from the other side: 1,000 steps in all is allowed."""
    names = [f"s{i}" for i in range(MAX_STEPS - 1)]
    states = [trigger(names[0])]
    for i, name in enumerate(names):
        states.append(set_vars(name, names[i + 1] if i + 1 < len(names) else None, n=str(i)))
    h = Harness(states)
    result = h.start()
    assert len(h.steps) == MAX_STEPS
    assert not result.warnings
    assert result.state.ended_reason == "completed"


@pytest.mark.parametrize("roundtrip", [False, True])
def test_the_step_budget_holds_across_waits(roundtrip: bool) -> None:
    """A conversation that never ends: each turn is an ask step and a set-variables."""
    states = [
        trigger("ask"),
        w("ask", "send-and-wait-for-reply", {"incomingMessage": "note"}, body="?"),
        set_vars("note", "ask", last="{{widgets.ask.inbound.Body}}"),
    ]
    h = Harness(states, roundtrip=roundtrip)
    h.start()
    turns = 0
    while h.state is not None and h.state.status == "active":
        h.feed(EffectResult(h.token, True, {"Sid": f"SM{turns}"}))
        h.feed(InboundMessage({"Body": str(turns)}))
        turns += 1
    assert len(h.steps) == MAX_STEPS
    assert h.state is not None and h.state.ended_reason == "step_limit"
    assert turns == (MAX_STEPS - 1) // 2 + 1


def test_a_widget_looping_on_itself_runs_10_times_then_81001() -> None:
    h = Harness([trigger("again"), set_vars("again", "again", n="1")])
    result = h.start()
    assert h.path.count(("again", "next", "again")) == MAX_CONSECUTIVE
    assert len(h.steps) == 1 + MAX_CONSECUTIVE
    assert [x.code for x in result.warnings] == [81001]
    assert result.state.ended_reason == "loop_limit"


@pytest.mark.parametrize("roundtrip", [False, True])
def test_consecutive_runs_count_across_waits(roundtrip: bool) -> None:
    """A Send & Wait whose timeout loops back to itself: 10 runs are fine, the 11th
    entry stops the execution."""
    states = [
        trigger("ask"),
        w(
            "ask",
            "send-and-wait-for-reply",
            {"timeout": "ask", "incomingMessage": "done"},
            body="?",
        ),
        set_vars("done", None, ok="yes"),
    ]

    def run(timeouts: int) -> Harness:
        h = Harness(states, roundtrip=roundtrip)
        h.start()
        for _ in range(timeouts):
            h.feed(EffectResult(h.token, True, {"Sid": "SM1"}))
            h.feed(TimerFired(h.token))
        return h

    ten_runs = run(MAX_CONSECUTIVE - 1)  # entered 10 times, now waiting in the 10th run
    assert ten_runs.state is not None and ten_runs.state.status == "active"
    assert ten_runs.state.consecutive == MAX_CONSECUTIVE
    ten_runs.feed(EffectResult(ten_runs.token, True, {"Sid": "SM1"}))
    ten_runs.feed(InboundMessage({"Body": "hi"}))
    assert ten_runs.path[-1] == ("done", "next", "Ended")
    assert ten_runs.state.ended_reason == "completed"

    eleven = run(MAX_CONSECUTIVE)
    assert eleven.state is not None and eleven.state.ended_reason == "loop_limit"
    assert eleven.codes == [81001]
    assert eleven.path.count(("ask", "timeout", "ask")) == MAX_CONSECUTIVE
    assert not [e for e in eleven.effects if isinstance(e, SendMessage)]  # 11th never sent


def test_another_widget_in_between_resets_the_count() -> None:
    states = [
        trigger("a"),
        set_vars(
            "a",
            "b",
            n="{% if flow.variables.n %}{{flow.variables.n | plus: 1}}{% else %}1{% endif %}",
        ),
        w(
            "b",
            "split-based-on",
            {"noMatch": "a"},
            input="{{flow.variables.n}}",
        ),
    ]
    states[2]["transitions"].append(
        {
            "event": "match",
            "conditions": [
                {
                    "friendly_name": "n is 30",
                    "arguments": ["{{flow.variables.n}}"],
                    "type": "equal_to",
                    "value": "30",
                }
            ],
        }
    )
    h = Harness(states)
    result = h.start()
    assert not result.warnings
    assert result.state.ended_reason == "completed"
    assert h.context["flow"]["variables"]["n"] == 30  # numeric (issue 13)
