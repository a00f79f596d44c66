"""Make Outgoing Call, TwiML Redirect, Capture Payments, Fork Stream, Virtual Agents and
the widgets Callboard knows but cannot run."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from callboard.contract.io import (
    CallEvent,
    CancelTimer,
    EffectResult,
    PlaceCall,
    StartTimer,
    TimerFired,
)
from callboard.widgets import registry
from tests.widgets.voice_harness import (
    NOW,
    expected_callback,
    query,
    responses,
    run_flow,
    run_widget,
    twiml,
)

# ------------------------------------------------------------- Make Outgoing Call

AUTODIALER = {
    "machine_detection_speech_threshold": "2400",
    "detect_answering_machine": True,
    "recording_channels": "mono",
    "timeout": 20,
    "machine_detection": "Enable",
    "trim": "do-not-trim",
    "record": False,
    "machine_detection_speech_end_threshold": "1200",
    "machine_detection_timeout": "30",
    "from": "{{flow.channel.address}}",
    "to": "{{contact.channel.address}}",
    "machine_detection_silence_timeout": "5000",
}


@pytest.mark.parametrize("wtype", ["make-outgoing-call-v2", "make-outgoing-call-v1"])
def test_make_outgoing_call_places_the_call(wtype: str) -> None:
    s = run_widget(wtype, AUTODIALER, trigger="incomingRequest")
    (effect,) = s.last.effects
    assert isinstance(effect, PlaceCall)
    assert (effect.to, effect.from_) == ("+15550001", "+15559999")
    assert effect.options == {
        "Timeout": 20,
        "StatusCallbackEvent": ["initiated", "ringing", "answered", "completed"],
        "MachineDetection": "Enable",
        "MachineDetectionTimeout": 30,
        "MachineDetectionSpeechThreshold": 2400,
        "MachineDetectionSpeechEndThreshold": 1200,
        "MachineDetectionSilenceTimeout": 5000,
    }


def test_make_outgoing_call_record_options() -> None:
    s = run_widget(
        "make-outgoing-call-v2",
        {
            "record": True,
            "recording_channels": "dual",
            "trim": "trim-silence",
            "send_digits": "1w2",
        },
        trigger="incomingRequest",
    )
    (effect,) = s.last.effects
    assert isinstance(effect, PlaceCall)
    assert effect.options["Record"] is True
    assert effect.options["RecordingChannels"] == "dual"
    assert effect.options["Trim"] == "trim-silence"
    assert effect.options["SendDigits"] == "1w2"
    assert effect.options["Timeout"] == 60
    assert "MachineDetection" not in effect.options


@pytest.mark.parametrize(
    ("name", "params", "event"),
    [
        ("answered", {"AnsweredBy": "machine_start", "CallStatus": "in-progress"}, "answered"),
        ("status", {"CallStatus": "busy"}, "busy"),
        ("status", {"CallStatus": "no-answer"}, "noAnswer"),
        ("status", {"CallStatus": "failed"}, "failed"),
        ("status", {"CallStatus": "canceled"}, "failed"),
    ],
)
def test_make_outgoing_call_events(name: str, params: dict[str, str], event: str) -> None:
    s = run_widget("make-outgoing-call-v2", AUTODIALER, trigger="incomingRequest")
    token = s.token
    for status in ("initiated", "ringing"):  # progress keeps the widget waiting
        s.send(CallEvent(token, "status", {"CallStatus": status}))
        assert s.state.waiting is not None and s.state.waiting.token == token
    s.send(CallEvent(token, name, {"CallSid": "CA9", **params}))
    assert s.steps == [("w", event, "Ended")]
    assert s.variables("w")["CallSid"] == "CA9"


def test_make_outgoing_call_creation_error_fails() -> None:
    s = run_widget("make-outgoing-call-v2", {}, trigger="incomingRequest")
    s.send(EffectResult(s.token, False, {"error": "invalid To"}))
    assert s.steps == [("w", "failed", "Ended")]


# -------------------------------------------------------------------- TwiML Redirect


def test_redirect_waits_for_return() -> None:
    s = run_widget("add-twiml-redirect", {"url": "https://x.test/twiml?a=1", "method": "GET"})
    (redirect,) = list(twiml(s.last))
    assert (redirect.tag, redirect.text, redirect.get("method")) == (
        "Redirect",
        "https://x.test/twiml?a=1",
        "GET",
    )
    (timer,) = [e for e in s.last.effects if isinstance(e, StartTimer)]
    assert timer.due == NOW + timedelta(seconds=14400)
    result = s.send(CallEvent(s.token, "return", {"FlowEvent": "return", "choice": "2"}))
    assert s.steps == [("w", "return", "Ended")]
    assert s.variables("w") == {"choice": "2"}
    assert CancelTimer(timer.token) in result.effects


def test_redirect_timeout() -> None:
    s = run_widget("add-twiml-redirect", {"url": "https://x.test/t", "timeout": "60"})
    (timer,) = [e for e in s.last.effects if isinstance(e, StartTimer)]
    assert timer.due == NOW + timedelta(seconds=60)
    s.send(TimerFired(timer.token))
    assert s.steps == [("w", "timeout", "Ended")]


def test_redirect_timeout_zero_starts_no_timer() -> None:
    s = run_widget("add-twiml-redirect", {"url": "https://x.test/t", "timeout": "0"})
    assert [e for e in s.last.effects if isinstance(e, StartTimer)] == []
    assert len(responses(s.last)) == 1


@pytest.mark.parametrize("url", ["", "not a url", "ftp://x.test/a", "{{flow.data.missing}}"])
def test_redirect_bad_url_fails(url: str) -> None:
    s = run_widget("add-twiml-redirect", {"url": url})
    assert s.steps[-1] == ("w", "fail", "Ended")
    assert responses(s.last) == []


def test_redirect_in_messaging_execution_answers_the_message() -> None:
    s = run_widget("add-twiml-redirect", {"url": "https://x.test/sms"}, trigger="incomingMessage")
    assert twiml(s.last)[0].text == "https://x.test/sms"


def test_redirect_rest_execution_without_call_fails() -> None:
    s = run_widget("add-twiml-redirect", {"url": "https://x.test/t"}, trigger="incomingRequest")
    assert s.steps[-1] == ("w", "fail", "Ended")
    assert 81020 in [w.code for w in s.last.warnings]


# ------------------------------------------------------------------ Capture Payments


def test_capture_payments_twiml() -> None:
    s = run_widget(
        "capture-payments",
        {
            "payment_connector": "Stripe_Connector",
            "payment_amount": "10.50",
            "currency": "eur",
            "payment_token_type": "one-time",
            "payment_method": "CREDIT_CARD",
            "timeout": 7,
            "max_attempts": 3,
            "security_code": False,
            "postal_code": "false",
            "valid_card_types": ["visa", "amex", "bogus"],
            "parameters": [{"key": "order", "value": "{{trigger.call.CallSid}}"}],
        },
    )
    (pay,) = list(twiml(s.last))
    assert pay.tag == "Pay"
    assert query(pay.get("action") or "") == expected_callback(s.token, "pay")
    expected = {
        "paymentConnector": "Stripe_Connector",
        "chargeAmount": "10.50",
        "currency": "eur",
        "tokenType": "one-time",
        "paymentMethod": "CREDIT_CARD",
        "timeout": "7",
        "maxAttempts": "3",
        "securityCode": "false",
        "postalCode": "false",
        "validCardTypes": "visa amex",
    }
    for key, value in expected.items():
        assert pay.get(key) == value, key
    assert [(p.get("name"), p.get("value")) for p in pay] == [("order", "CA0001")]


def test_capture_payments_zero_amount_tokenizes() -> None:
    s = run_widget("capture-payments", {"payment_amount": "0", "currency": "usd"})
    (pay,) = list(twiml(s.last))
    assert pay.get("chargeAmount") is None and pay.get("currency") is None


@pytest.mark.parametrize(
    ("name", "result", "event"),
    [
        ("pay", "success", "success"),
        ("pay", "payment-connector-error", "providerError"),
        ("pay", "too-many-failed-attempts", "maxFailedAttempts"),
        ("pay", "caller-interrupted-process", "payInterrupted"),
        ("pay", "validation-error", "validationError"),
        ("pay", "caller-hung-up", "hangup"),
        ("pay", "something-new", "providerError"),
        ("hangup", "", "hangup"),
    ],
)
def test_capture_payments_results(name: str, result: str, event: str) -> None:
    s = run_widget("capture-payments", {"payment_connector": "c"})
    s.callback(name, {"Result": result, "PaymentToken": "tok"} if result else {})
    assert s.steps == [("w", event, "Ended")]


# ----------------------------------------------------------------------- Fork Stream


@pytest.mark.parametrize(
    ("props", "shape"),
    [
        (
            {
                "stream_action": "start",
                "stream_name": "s1",
                "stream_url": "wss://x.test/media",
                "stream_track": "both_tracks",
                "stream_parameters": [{"key": "who", "value": "{{trigger.call.From}}"}],
            },
            (
                "Start",
                "Stream",
                {"name": "s1", "url": "wss://x.test/media", "track": "both_tracks"},
            ),
        ),
        (
            {
                "stream_action": "start",
                "stream_transport_type": "siprec",
                "stream_name": "rec",
                "stream_connector": "SR1",
            },
            ("Start", "Siprec", {"name": "rec", "connectorName": "SR1", "track": "inbound_track"}),
        ),
        ({"stream_action": "stop", "stream_name": "s1"}, ("Stop", "Stream", {"name": "s1"})),
    ],
)
def test_fork_stream(props: dict[str, Any], shape: tuple[str, str, dict[str, str]]) -> None:
    s = run_widget("fork-stream", props)
    outer, redirect = list(twiml(s.last))
    (inner,) = [c for c in outer]
    assert (outer.tag, inner.tag, dict(inner.attrib)) == shape
    if props.get("stream_parameters"):
        assert [(p.get("name"), p.get("value")) for p in inner] == [("who", "+15550001")]
    assert query(redirect.text or "") == expected_callback(s.token, "complete")
    s.callback("complete")
    assert s.steps == [("w", "next", "Ended")]


# ------------------------------------------------------------------ Virtual Agents


@pytest.mark.parametrize(
    ("name", "params", "event"),
    [
        ("return", {"VirtualAgentStatus": "completed"}, "return"),
        ("return", {"CallStatus": "completed"}, "hangup"),
        ("hangup", {}, "hangup"),
    ],
)
def test_connect_virtual_agent_v1(name: str, params: dict[str, str], event: str) -> None:
    s = run_widget(
        "connect-virtual-agent",
        {"connector": "df-es", "language": "en-US", "sentiment_analysis": "true"},
    )
    (connect,) = list(twiml(s.last))
    (agent,) = list(connect)
    assert query(connect.get("action") or "") == expected_callback(s.token, "return")
    assert dict(agent.attrib) == {
        "connectorName": "df-es",
        "language": "en-US",
        "sentimentAnalysis": "true",
    }
    s.callback(name, params)
    assert s.steps == [("w", event, "Ended")]


@pytest.mark.parametrize(
    ("params", "event"),
    [
        ({"VirtualAgentStatus": "completed"}, "completed"),
        ({"VirtualAgentStatus": "live-agent-handoff"}, "live-agent-handoff"),
        ({"VirtualAgentStatus": "paused"}, "paused"),
        ({"VirtualAgentStatus": "failed", "VirtualAgentErrorCode": "1"}, "failed"),
        ({"VirtualAgentStatus": "weird"}, "failed"),
        ({"CallStatus": "completed"}, "hangup"),
    ],
)
def test_connect_virtual_agent_v2(params: dict[str, str], event: str) -> None:
    s = run_widget(
        "connect-virtual-agent-v2",
        {
            "connector_name": "cx",
            "configurations": [{"key": "welcomeIntent", "value": "hi"}],
            "parameters": [{"key": "customer", "value": "{{trigger.call.From}}"}],
        },
    )
    (connect,) = list(twiml(s.last))
    (agent,) = list(connect)
    assert agent.tag == "VirtualAgent" and agent.get("connectorName") == "cx"
    assert [(c.tag, c.get("name"), c.get("value")) for c in agent] == [
        ("Config", "welcomeIntent", "hi"),
        ("Parameter", "customer", "+15550001"),
    ]
    s.callback("return", {**params, "VirtualAgentProviderData": '{"ConversationId": "c1"}'})
    assert s.steps == [("w", event, "Ended")]
    assert s.variables("w")["VirtualAgentProviderData"] == {"ConversationId": "c1"}


def test_connect_virtual_agent_v2_conversations_channel_fails() -> None:
    s = run_widget("connect-virtual-agent-v2", {"connector_name": "cx", "channel": "conversations"})
    assert s.steps[-1] == ("w", "failed", "Ended")


# ------------------------------------------------------------- known, not runnable


@pytest.mark.parametrize(
    ("wtype", "events"),
    [
        ("send-to-auto-pilot", ["sessionEnded", "failure", "timeout"]),
    ],
)
def test_known_but_not_runnable(wtype: str, events: list[str]) -> None:
    widget = registry.get(wtype)
    assert widget is not None and not widget.runnable
    assert [e.name for e in widget.events] == events
    s = run_widget(wtype, {})
    assert s.state.status == "ended"
    assert 81020 in [w.code for w in s.last.warnings]


# ------------------------------------------------------------- every voice widget


VOICE_TYPES = [
    "say-play",
    "gather-input-on-call",
    "connect-call-to",
    "record-voicemail",
    "enqueue-call",
    "capture-payments",
    "fork-stream",
    "connect-virtual-agent",
    "connect-virtual-agent-v2",
]


@pytest.mark.parametrize("wtype", VOICE_TYPES)
def test_every_callback_widget_ignores_a_stale_token(wtype: str) -> None:
    props: dict[str, Any] = {
        "noun": "number",
        "to": "+1",
        "queue_name": "q",
        "stream_action": "start",
    }
    s = run_flow([{"name": "w", "type": wtype, "transitions": [], "properties": props}])
    (respond,) = responses(s.last)
    assert respond.token == s.token
    stale = s.send(CallEvent("t999", "complete", {}))
    assert not stale.accepted and stale.effects == [] and stale.warnings == []
