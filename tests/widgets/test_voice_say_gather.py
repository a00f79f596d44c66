"""Say/Play and Gather Input On Call, driven through the real engine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from callboard.contract.io import CallEvent, Respond, Start
from callboard.engine import Bundle, FlowRef, advance
from callboard.flow.model import FlowDefinition
from callboard.widgets.registry import WIDGETS
from tests.widgets.voice_harness import (
    CALL,
    FakeEnv,
    Session,
    expected_callback,
    query,
    responses,
    run_flow,
    run_widget,
    twiml,
    widget_state,
)

# ------------------------------------------------------------------------ Say/Play


@pytest.mark.parametrize(
    ("props", "verb", "text", "attrs"),
    [
        (
            {"say": "Hello {{trigger.call.From}}", "voice": "Polly.Brian", "language": "en-GB"},
            "Say",
            "Hello +15550001",
            {"voice": "Polly.Brian", "language": "en-GB", "loop": "1"},
        ),
        ({"say": "Again", "loop": 3}, "Say", "Again", {"loop": "3"}),
        ({"say": "Str loop", "loop": "2"}, "Say", "Str loop", {"loop": "2"}),
        (
            {"play": "https://x.test/a.mp3", "loop": 2},
            "Play",
            "https://x.test/a.mp3",
            {"loop": "2"},
        ),
        ({"digits": "12w#"}, "Play", None, {"digits": "12w#"}),
    ],
)
def test_say_play_twiml(
    props: dict[str, Any], verb: str, text: str | None, attrs: dict[str, str]
) -> None:
    s = run_widget("say-play", props)
    root = twiml(s.last)
    first, redirect = list(root)
    assert first.tag == verb
    assert first.text == text
    for key, value in attrs.items():
        assert first.get(key) == value
    if "voice" not in attrs:
        assert first.get("voice") is None  # "Default" voice: attribute left out
    assert redirect.tag == "Redirect" and redirect.get("method") == "POST"
    assert query(redirect.text or "") == expected_callback(s.token, "complete")
    assert s.last.steps[-1].transitioned_from == "Trigger"


def test_say_play_complete_then_next_widget_answers_the_callback() -> None:
    s = run_flow(
        [
            widget_state("hello", "say-play", {"say": "Hi"}, {"audioComplete": "bye"}),
            widget_state("bye", "say-play", {"say": "Bye"}),
        ]
    )
    first_token = s.token
    result = s.callback("complete")
    assert s.steps == [("hello", "audioComplete", "bye")]
    assert s.variables("hello")["CallSid"] == "CA0001"
    assert "Token" not in s.variables("hello")  # Callboard's own query is not a variable
    (respond,) = responses(result)
    assert respond.token == s.token != first_token
    assert twiml(result)[0].text == "Bye"
    # the old call-back arrives again: ignored, nothing changes
    again = s.send(CallEvent(first_token, "complete", {}))
    assert not again.accepted and again.effects == []
    assert s.state.waiting is not None and s.state.waiting.widget == "bye"


def test_say_play_hangup_is_not_taken_and_the_runtime_ends() -> None:
    s = run_widget("say-play", {"say": "Hi"})
    result = s.callback("hangup", {"CallStatus": "completed"})
    assert not result.accepted
    assert [w.code for w in result.warnings] == [81002]
    assert s.state.status == "active"  # unchanged: the runtime ends the execution


@pytest.mark.parametrize("trigger", ["incomingMessage", "incomingRequest"])
def test_say_play_without_a_call_warns_and_ends(trigger: str) -> None:
    s = run_widget("say-play", {"say": "Hi"}, trigger=trigger)
    assert s.state.status == "ended"
    assert responses(s.last) == []
    assert 81020 in [w.code for w in s.last.warnings]
    assert s.steps[-1] == ("w", "unsupported", "Ended")


def test_voice_widget_after_outgoing_call_answered_has_a_call() -> None:
    s = run_flow(
        [
            widget_state("call", "make-outgoing-call-v2", {}, {"answered": "hello"}),
            widget_state("hello", "say-play", {"say": "You were called"}),
        ],
        trigger="incomingRequest",
        data={},
    )
    result = s.send(CallEvent(s.token, "answered", {"CallSid": "CA77", "AnsweredBy": "human"}))
    assert s.steps == [("call", "answered", "hello")]
    assert s.variables("call")["AnsweredBy"] == "human"
    assert twiml(result)[0].text == "You were called"


# ------------------------------------------------------------------------ Gather

GATHER = {
    "say": "Press 1 for sales",
    "voice": "alice",
    "language": "en-US",
    "loop": 1,
    "timeout": 5,
    "finish_on_key": "#",
    "stop_gather": True,
    "number_of_digits": 1,
    "speech_timeout": "auto",
    "gather_language": "en",
    "hints": "sales, support",
    "profanity_filter": "true",
}


def test_gather_twiml() -> None:
    s = run_widget("gather-input-on-call", GATHER)
    gather, redirect = list(twiml(s.last))
    assert gather.tag == "Gather"
    assert gather.attrib == {
        "action": gather.get("action"),
        "method": "POST",
        "input": "dtmf speech",
        "timeout": "5",
        "finishOnKey": "#",
        "numDigits": "1",
        "speechTimeout": "auto",
        "language": "en",
        "hints": "sales, support",
        "profanityFilter": "true",
    }
    assert query(gather.get("action") or "") == expected_callback(s.token, "gather")
    (say,) = list(gather)
    assert (say.tag, say.text, say.get("voice"), say.get("language")) == (
        "Say",
        "Press 1 for sales",
        "alice",
        "en-US",
    )
    assert redirect.tag == "Redirect"
    assert query(redirect.text or "") == expected_callback(s.token, "timeout")


def test_gather_defaults_and_prompt_outside_when_stop_gather_false() -> None:
    s = run_widget(
        "gather-input-on-call",
        {"play": "https://x.test/menu.wav", "stop_gather": False, "finish_on_key": ""},
    )
    play, gather, _redirect = list(twiml(s.last))
    assert play.tag == "Play" and play.text == "https://x.test/menu.wav"
    assert gather.tag == "Gather" and list(gather) == []
    assert gather.get("timeout") == "5"
    assert gather.get("finishOnKey") == ""
    assert gather.get("profanityFilter") == "true"
    assert gather.get("numDigits") is None


@pytest.mark.parametrize(
    ("callback", "params", "event", "expect"),
    [
        ("gather", {"Digits": "1"}, "keypress", {"Digits": "1"}),
        ("gather", {"Digits": "123#"}, "keypress", {"Digits": "123"}),
        ("gather", {"Digits": "#"}, "keypress", {"Digits": "#"}),
        ("gather", {"Digits": ""}, "timeout", {"Digits": ""}),
        (
            "gather",
            {"SpeechResult": "Sales please.", "Confidence": "0.91"},
            "speech",
            {"SpeechResult": "Sales please.", "Confidence": "0.91"},
        ),
        ("gather", {}, "timeout", {"CallSid": "CA0001"}),
        ("timeout", {}, "timeout", {"CallSid": "CA0001", "From": "+15550001"}),
    ],
)
def test_gather_events(
    callback: str, params: dict[str, str], event: str, expect: dict[str, str]
) -> None:
    s = run_widget("gather-input-on-call", GATHER)
    s.callback(callback, params)
    assert s.steps == [("w", event, "Ended")]
    variables = s.variables("w")
    for key, value in expect.items():
        assert variables[key] == value
    assert variables["CallStatus"] == "in-progress"


def test_gather_stale_and_repeated_callbacks_are_ignored() -> None:
    s = run_flow(
        [
            widget_state("menu", "gather-input-on-call", GATHER, {"keypress": "menu2"}),
            widget_state("menu2", "gather-input-on-call", GATHER),
        ]
    )
    old = s.token
    s.callback("gather", {"Digits": "1"})
    assert s.steps == [("menu", "keypress", "menu2")]
    for name in ("gather", "timeout"):
        repeat = s.callback(name, {"Digits": "2"}, token=old)
        assert not repeat.accepted
        assert s.state.waiting is not None and s.state.waiting.widget == "menu2"
    wrong_name = s.callback("complete")
    assert not wrong_name.accepted


def test_gather_loops_back_on_itself_with_a_fresh_token() -> None:
    s = run_flow([widget_state("menu", "gather-input-on-call", GATHER, {"timeout": "menu"})])
    tokens = [s.token]
    for _ in range(3):
        result = s.callback("timeout")
        (respond,) = [e for e in result.effects if isinstance(e, Respond)]
        tokens.append(respond.token)
    assert len(set(tokens)) == 4


def test_gather_without_a_call_takes_timeout() -> None:
    s = run_flow(
        [
            widget_state("menu", "gather-input-on-call", GATHER, {"timeout": "after"}),
            widget_state("after", "send-message", {"body": "no call"}),
        ],
        trigger="incomingMessage",
    )
    assert s.last.steps[1].name == "timeout"
    assert 81020 in [w.code for w in s.last.warnings]
    assert s.state.waiting is not None and s.state.waiting.widget == "after"


# ------------------------------------------------------------------ a real export

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "studio-flows"


def test_real_ivr_export_press_pound_for_an_agent() -> None:
    path = SHARED / "jesperfj__twilio-ivr-studio__flows_ivr.json"
    if not path.exists():
        pytest.skip("shared studio flows are not available")
    flow = FlowDefinition.from_json(json.loads(path.read_text()))
    bundle = Bundle(FlowRef("FW0001", 1, flow), widgets=WIDGETS)
    env = FakeEnv()
    start = Start("incomingCall", "FN0001", "FW0001", "+15550001", "+15559999", dict(CALL), {})
    first = advance(bundle, None, start, env)
    s = Session(bundle, env, first.state, first)
    say, gather, _ = list(twiml(first))
    assert say.tag == "Say" and gather.tag == "Gather"  # stop_gather false: prompt first
    s.callback("gather", {"Digits": "2"})
    assert s.steps == [
        ("gather_input", "keypress", "split_key_press"),
        ("split_key_press", "match", "gather_2"),
    ]
    assert twiml(s.last)[0].get("numDigits") == "6"
    s.callback("gather", {"Digits": "#"})
    # the export's split tests gather_input (the first menu), not gather_2: noMatch
    assert s.steps == [("gather_2", "keypress", "split_1"), ("split_1", "noMatch", "say_play_1")]
    assert s.variables("gather_2")["Digits"] == "#"
    (say, _redirect) = list(twiml(s.last))
    assert say.text == "You typed 2 . Thank you."
    s.callback("complete")
    assert s.steps == [("say_play_1", "audioComplete", "Ended")]
    assert s.state.status == "ended"
