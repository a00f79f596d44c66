"""Which events an execution takes, which it ignores, ending it from outside, and
serialising a waiting execution."""

from __future__ import annotations

import json
from typing import Any

import pytest

from callboard.contract.io import (
    CancelTimer,
    EffectResult,
    EndExecution,
    Event,
    InboundMessage,
    MessageStatus,
    Start,
    StartTimer,
    TimerFired,
    effect_to_json,
    event_from_json,
    event_to_json,
)
from callboard.engine import ExecutionState, advance
from callboard.engine.env import FakeEnv
from tests.widgets.kit import MAIN, Harness, set_vars, trigger, w


def ask_then_fetch() -> list[dict[str, Any]]:
    return [
        trigger("ask"),
        w(
            "ask",
            "send-and-wait-for-reply",
            {"incomingMessage": "fetch", "timeout": "bye"},
            body="Order number?",
            timeout="600",
        ),
        w(
            "fetch",
            "make-http-request",
            {"success": "done", "failed": "bye"},
            url="https://shop.example/orders/{{widgets.ask.inbound.Body}}",
        ),
        set_vars("done", None, status="{{widgets.fetch.parsed.status}}"),
        w("bye", "send-message", body="Bye"),
    ]


def waiting_for_reply() -> Harness:
    h = Harness(ask_then_fetch())
    h.start()
    h.feed(EffectResult(h.token, True, {"Sid": "SM1"}))
    return h


def snapshot(h: Harness) -> Any:
    assert h.state is not None
    return json.loads(json.dumps(h.state.to_json()))


# ------------------------------------------------------------------ stale and unexpected


@pytest.mark.parametrize(
    "make",
    [
        lambda token: TimerFired("t999"),
        lambda token: EffectResult("t999", True, {"status_code": 200}),
        lambda token: MessageStatus("t999", "failed"),
        lambda token: EffectResult(token + "x", True),
    ],
    ids=["timer", "result", "status", "near-miss"],
)
def test_events_with_another_token_are_ignored_silently(make: Any) -> None:
    h = waiting_for_reply()
    before = snapshot(h)
    result = h.feed(make(h.token))
    assert not result.accepted
    assert (result.steps, result.effects, result.warnings) == ([], [], [])
    assert snapshot(h) == before


def test_a_timer_from_a_finished_wait_is_ignored() -> None:
    h = waiting_for_reply()
    old = h.token
    h.feed(InboundMessage({"Body": "1001"}))  # now waiting for the HTTP answer
    assert h.state is not None and h.state.current == "fetch"
    before = snapshot(h)
    result = h.feed(TimerFired(old))
    assert not result.accepted and not result.warnings
    assert snapshot(h) == before


def test_inbound_message_while_not_waiting_for_one_is_81002() -> None:
    h = waiting_for_reply()
    h.feed(InboundMessage({"Body": "1001"}))
    assert h.state is not None and h.state.current == "fetch"
    before = snapshot(h)
    result = h.feed(InboundMessage({"Body": "hello?"}))
    assert not result.accepted
    assert [(x.code, x.widget) for x in result.warnings] == [(81002, "fetch")]
    assert (result.steps, result.effects) == ([], [])
    assert snapshot(h) == before
    # the execution goes on normally afterwards
    h.feed(
        EffectResult(
            h.token,
            True,
            {
                "status_code": 200,
                "content_type": "application/json",
                "body": '{"status": "shipped"}',
            },
        )
    )
    assert h.context["flow"]["variables"]["status"] == "shipped"


def test_events_after_the_end_are_81002() -> None:
    h = Harness([trigger("x"), set_vars("x", None, a="1")])
    h.start()
    assert h.state is not None and h.state.status == "ended"
    before = snapshot(h)
    for event in (InboundMessage({"Body": "hi"}), TimerFired("t1"), EndExecution()):
        result = h.feed(event)
        assert not result.accepted
        assert [x.code for x in result.warnings] == [81002]
        assert snapshot(h) == before


def test_start_twice_is_ignored_and_other_events_need_a_state() -> None:
    h = waiting_for_reply()
    before = snapshot(h)
    again = h.feed(Start("incomingRequest", "FN2", MAIN, "+1", "+2"))
    assert not again.accepted and [x.code for x in again.warnings] == [81002]
    assert snapshot(h) == before
    with pytest.raises(ValueError, match="needs a state"):
        advance(h.bundle, None, TimerFired("t1"), FakeEnv())


# ------------------------------------------------------------------ EndExecution


def test_end_execution_while_waiting_cancels_the_timer() -> None:
    h = waiting_for_reply()
    token = h.token
    result = h.feed(EndExecution("ended"))
    assert result.accepted and result.ended
    assert result.state.ended_reason == "ended"
    assert result.effects == [CancelTimer(token)]
    assert result.steps == []  # no widget finished
    assert result.state.waiting is None
    assert not h.feed(InboundMessage({"Body": "late"})).accepted


def test_end_execution_while_waiting_for_http_has_no_timer_to_cancel() -> None:
    h = waiting_for_reply()
    h.feed(InboundMessage({"Body": "1"}))
    result = h.feed(EndExecution("failed"))
    assert result.ended and result.effects == [] and result.state.ended_reason == "failed"


# ------------------------------------------------------------------ serialisation


def json_copy(value: Any) -> Any:
    """A detached copy (``to_json`` shares the live context with the state)."""
    return json.loads(json.dumps(value))


def drive(h: Harness, events: list[Event]) -> list[Any]:
    """Feed events; return everything observable, as JSON."""
    out: list[Any] = []
    for event in events:
        result = h.feed(event)
        out.append(
            json_copy(
                {
                    "accepted": result.accepted,
                    "steps": [s.to_json() for s in result.steps],
                    "effects": [effect_to_json(e) for e in result.effects],
                    "warnings": [x.to_json() for x in result.warnings],
                    "state": result.state.to_json(),
                }
            )
        )
    return out


def test_a_waiting_execution_restored_from_json_continues_identically() -> None:
    plain = waiting_for_reply()
    restored = waiting_for_reply()
    assert restored.state is not None
    text = json.dumps(restored.state.to_json())
    restored.state = ExecutionState.from_json(json.loads(text))
    assert plain.state is not None
    assert restored.state.to_json() == plain.state.to_json()
    token = plain.token
    events: list[Event] = [
        MessageStatus(token, "delivered", {"MessageSid": "SM1"}),
        InboundMessage({"Body": "1001", "From": "+15551230001"}),
        EffectResult(
            "t2",
            True,
            {
                "status_code": 200,
                "content_type": "application/json",
                "body": '{"status": "shipped"}',
            },
        ),
    ]
    # events go through their JSON form too, as the runtime stores them
    events = [event_from_json(json.loads(json.dumps(event_to_json(e)))) for e in events]
    assert drive(plain, events) == drive(restored, events)
    assert restored.state is not None and restored.state.ended_reason == "completed"
    assert restored.context["flow"]["variables"]["status"] == "shipped"


def test_every_intermediate_state_survives_json() -> None:
    """The same conversation with the state serialised before every event."""
    events: list[Event] = [
        EffectResult("t1", True, {"Sid": "SM1"}),
        TimerFired("t1"),
        EffectResult("t2", True, {"Sid": "SM2"}),
    ]
    a = Harness(ask_then_fetch())
    b = Harness(ask_then_fetch(), roundtrip=True)
    a.start()
    b.start()
    assert drive(a, events) == drive(b, events)
    assert b.path[-2:] == [("ask", "timeout", "bye"), ("bye", "sent", "Ended")]


def test_waiting_state_json_shape() -> None:
    h = waiting_for_reply()
    data = snapshot(h)
    assert data["status"] == "active"
    assert data["waiting"]["widget"] == "ask"
    assert data["waiting"]["accepts_messages"] is True
    assert data["waiting"]["timers"] == [h.token]
    assert data["waiting"]["memo"]["outbound"] == {"Sid": "SM1"}
    assert h.effect(StartTimer).token == h.token
