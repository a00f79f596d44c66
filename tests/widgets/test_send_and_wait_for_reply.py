from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from callboard.contract.io import (
    CancelTimer,
    EffectResult,
    InboundMessage,
    MessageStatus,
    SendMessage,
    StartTimer,
    TimerFired,
)
from callboard.widgets import registry
from tests.widgets.kit import CONTACT, FLOW_ADDRESS, Harness, set_vars, trigger, w

SID = {"Sid": "SM1", "Status": "queued", "To": CONTACT, "From": FLOW_ADDRESS, "Body": "Hi"}
REPLY = {"Body": "yes", "From": CONTACT, "To": FLOW_ADDRESS, "MessageSid": "SM2", "NumMedia": "0"}


def ask_flow(**props: Any) -> Harness:
    props.setdefault("body", "Hi {{flow.data.name}}?")
    states = [
        trigger("ask"),
        w(
            "ask",
            "send-and-wait-for-reply",
            {"incomingMessage": "got", "timeout": "late", "deliveryFailure": "broken"},
            **props,
        ),
        set_vars("got", said="{{widgets.ask.inbound.Body}}"),
        set_vars("late", late="yes"),
        set_vars("broken", status="{{widgets.ask.outbound.Status}}"),
    ]
    return Harness(states)


def accepted(h: Harness) -> Harness:
    h.start(parameters={"name": "Ann"})
    send = h.effect(SendMessage)
    h.feed(EffectResult(send.token, True, dict(SID)))
    return h


def test_sends_to_the_contact_and_listens_at_once() -> None:
    h = ask_flow(media_url="https://a.example/1.png, https://a.example/2.png")
    h.start(parameters={"name": "Ann"})
    send = h.effect(SendMessage)
    assert (send.to, send.from_, send.body) == (CONTACT, FLOW_ADDRESS, "Hi Ann?")
    assert send.media_urls == ("https://a.example/1.png", "https://a.example/2.png")
    assert not [e for e in h.effects if isinstance(e, StartTimer)]  # not before acceptance
    assert h.state is not None and h.state.waiting is not None
    assert h.state.waiting.accepts_messages
    assert h.path == [("Trigger", "incomingRequest", "ask")]


def test_the_timer_starts_when_the_message_is_accepted() -> None:
    h = ask_flow(timeout="120")
    accepted(h)
    timer = h.effect(StartTimer)
    assert timer.token == h.token
    assert timer.due == h.env.now() + timedelta(seconds=120)
    assert h.path == [("Trigger", "incomingRequest", "ask")]  # still waiting


@pytest.mark.parametrize(
    ("timeout", "seconds", "warned"),
    [
        (None, 3600, False),  # absent: the default "3600"
        ("3600", 3600, False),
        (3600, 3600, False),  # integer, as some exports have it
        ("600", 600, False),
        (" 14400 ", 14400, False),
        ("{{flow.data.wait}}", 45, False),
        ("0", 0, False),
        ("abc", 3600, True),
        ("", 3600, True),
        ("-5", 3600, True),
        ("1.5", 3600, True),
        ("nan", 3600, True),
    ],
)
def test_timeout_values(timeout: Any, seconds: int, warned: bool) -> None:
    props = {} if timeout is None else {"timeout": timeout}
    h = ask_flow(**props)
    start = h.start(parameters={"wait": "45"})
    assert (81027 in [x.code for x in start.warnings]) is warned
    h.feed(EffectResult(h.effect(SendMessage).token, True, dict(SID)))
    assert h.effect(StartTimer).due == h.env.now() + timedelta(seconds=seconds)


def test_reply_takes_incoming_message_with_inbound_and_outbound() -> None:
    h = accepted(ask_flow())
    token = h.token
    reply = {**REPLY, "ChannelAttributes": '{"a": 1}'}
    h.feed(InboundMessage(reply))
    assert ("ask", "incomingMessage", "got") in h.path
    assert h.context["widgets"]["ask"] == {"outbound": SID, "inbound": reply}
    assert h.context["widgets"]["ask"]["inbound"]["ChannelAttributes"] == '{"a": 1}'
    assert h.context["flow"]["variables"]["said"] == "yes"
    assert CancelTimer(token) in h.effects
    # the timer that fires anyway later is stale and ignored
    late = h.feed(TimerFired(token))
    assert not late.accepted


def test_timer_takes_timeout_with_outbound() -> None:
    h = accepted(ask_flow())
    h.feed(TimerFired(h.token))
    assert ("ask", "timeout", "late") in h.path
    assert h.context["widgets"]["ask"] == {"outbound": SID}


def test_refused_send_takes_delivery_failure() -> None:
    h = ask_flow()
    h.start()
    error = {"error": "21211 invalid To", "ErrorCode": 21211}
    result = h.feed(EffectResult(h.effect(SendMessage).token, False, error))
    assert ("ask", "deliveryFailure", "broken") in h.path
    assert h.context["widgets"]["ask"] == {"outbound": error}
    assert 81011 in [x.code for x in result.warnings]
    assert not [e for e in h.effects if isinstance(e, StartTimer)]


@pytest.mark.parametrize("status", ["failed", "undelivered", "UNDELIVERED"])
def test_failed_delivery_status_takes_delivery_failure(status: str) -> None:
    h = accepted(ask_flow())
    token = h.token
    result = h.feed(MessageStatus(token, status, {"ErrorCode": "30003", "MessageSid": "SM1"}))
    assert ("ask", "deliveryFailure", "broken") in h.path
    outbound = h.context["widgets"]["ask"]["outbound"]
    assert outbound == {**SID, "Status": status.lower(), "ErrorCode": "30003"}
    assert h.context["flow"]["variables"]["status"] == status.lower()
    assert 81011 in [x.code for x in result.warnings]
    assert CancelTimer(token) in h.effects


@pytest.mark.parametrize("status", ["sent", "delivered", "read"])
def test_other_statuses_update_outbound_and_keep_waiting(status: str) -> None:
    h = accepted(ask_flow(timeout="300"))
    token = h.token
    due = h.effect(StartTimer).due
    h.env.advance(60)
    result = h.feed(MessageStatus(token, status, {"MessageSid": "SM1"}))
    assert result.accepted and not result.steps
    assert h.token == token  # the same wait
    assert not [e for e in h.effects if isinstance(e, CancelTimer)]
    assert h.effect(StartTimer) == StartTimer(token, due)  # same timer, same due time
    assert h.state is not None and h.state.waiting is not None
    assert h.state.waiting.timers == [token]
    h.feed(InboundMessage(REPLY))
    assert h.context["widgets"]["ask"]["outbound"]["Status"] == status


def test_status_then_timeout_still_fires() -> None:
    h = accepted(ask_flow())
    h.feed(MessageStatus(h.token, "delivered"))
    h.feed(TimerFired(h.token))
    assert ("ask", "timeout", "late") in h.path
    assert h.context["widgets"]["ask"]["outbound"]["Status"] == "delivered"


def test_reply_before_the_send_result_is_taken() -> None:
    h = ask_flow()
    h.start()
    token = h.token
    h.feed(InboundMessage(REPLY))
    assert ("ask", "incomingMessage", "got") in h.path
    assert h.context["widgets"]["ask"] == {"outbound": {}, "inbound": REPLY}
    assert not h.feed(EffectResult(token, True, dict(SID))).accepted  # now stale


def test_repeated_send_result_is_ignored() -> None:
    h = accepted(ask_flow())
    assert h.state is not None
    before = h.state.to_json()
    result = h.feed(EffectResult(h.token, True, dict(SID)))
    assert not result.accepted
    assert h.state.to_json() == before


def test_chat_defaults_and_options() -> None:
    states = [
        trigger("ask", event="incomingMessage"),
        w(
            "ask",
            "send-and-wait-for-reply",
            body="Hi",
            message_type="content_template",
            content_sid="HX1",
            content_variables=[{"key": "1", "value": "{{trigger.message.Body}}"}],
            attributes='{"k": "{{trigger.message.From}}"}',
        ),
    ]
    h = Harness(states)
    h.start(
        "incomingMessage",
        {"Body": "hello", "From": CONTACT, "InstanceSid": "IS1", "ChannelSid": "CH1"},
    )
    send = h.effect(SendMessage)
    assert (send.service, send.channel) == ("IS1", "CH1")
    assert send.message_type == "content_template"
    assert (send.content_sid, send.content_variables) == ("HX1", {"1": "hello"})
    assert send.attributes == '{"k": "' + CONTACT + '"}'


def test_schema() -> None:
    widget = registry.get("send-and-wait-for-reply")
    assert widget is not None
    assert [(e.name, e.label) for e in widget.events] == [
        ("incomingMessage", "Incoming Message"),
        ("timeout", "Timeout"),
        ("deliveryFailure", "Delivery Failure"),
    ]
    timeout = widget.prop_spec("timeout")
    assert timeout is not None
    assert (timeout.kind, timeout.default, timeout.also) == ("string", "3600", ("integer",))
    assert widget.prop_spec("to") is None  # always the contact
    body = widget.prop_spec("body")
    assert body is not None and body.required
