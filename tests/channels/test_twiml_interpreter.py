"""The TwiML interpreter reads what the voice widgets answer, and hand-written TwiML."""

from __future__ import annotations

import pytest

from callboard.channels.twiml_interpreter import (
    Connect,
    Dial,
    DialTarget,
    Enqueue,
    Gather,
    Hangup,
    Pause,
    Pay,
    Play,
    Record,
    Redirect,
    Reject,
    Say,
    Stream,
    TwimlError,
    Unknown,
    parse_twiml,
    query_params,
    resolve_url,
)
from callboard.contract.io import Respond
from tests.widgets.voice_harness import run_widget

WEBHOOK = "https://cb.test/v1/Accounts/AC1/Flows/FW0001"


def _answer(wtype: str, props: dict[str, object]) -> str:
    s = run_widget(wtype, props)
    (respond,) = [e for e in s.last.effects if isinstance(e, Respond)]
    return respond.twiml


def test_gather_widget_answer() -> None:
    doc = _answer(
        "gather-input-on-call",
        {"say": "Press <1>", "number_of_digits": 2, "timeout": 7, "voice": "alice"},
    )
    gather, redirect = parse_twiml(doc)
    assert isinstance(gather, Gather) and isinstance(redirect, Redirect)
    assert gather.input == ("dtmf", "speech")
    assert (gather.timeout, gather.finish_on_key, gather.num_digits) == (7, "#", 2)
    assert gather.prompts == (Say("Press <1>", voice="alice", loop=1),)
    url = resolve_url(gather.action, WEBHOOK)
    assert url.startswith(WEBHOOK + "?")
    assert query_params(url)["Callback"] == "gather"
    assert query_params(resolve_url(redirect.url, WEBHOOK))["Callback"] == "timeout"


def test_dial_and_record_widget_answers() -> None:
    (dial,) = parse_twiml(_answer("connect-call-to", {"noun": "number-multi", "to": "+1,+2"}))
    assert isinstance(dial, Dial)
    assert dial.targets == (DialTarget("number", "+1"), DialTarget("number", "+2"))
    assert dial.timeout == 30 and dial.time_limit is None
    (record,) = parse_twiml(_answer("record-voicemail", {"max_length": 60, "play_beep": "false"}))
    assert isinstance(record, Record)
    assert (record.max_length, record.play_beep, record.timeout) == (60, False, 5)


def test_enqueue_pay_stream_connect_widget_answers() -> None:
    (enqueue,) = parse_twiml(_answer("send-to-flex", {"workflow": "WW1", "channel": "TC1"}))
    assert isinstance(enqueue, Enqueue)
    assert enqueue.workflow_sid == "WW1" and enqueue.task_attrs["priority"] == "0"
    assert '"type":"inbound"' in enqueue.task_attributes
    (pay,) = parse_twiml(_answer("capture-payments", {"parameters": [{"key": "a", "value": "b"}]}))
    assert isinstance(pay, Pay) and pay.parameters == {"a": "b"}
    start, _ = parse_twiml(
        _answer("fork-stream", {"stream_action": "start", "stream_url": "wss://s"})
    )
    assert isinstance(start, Stream) and (start.op, start.kind, start.url) == (
        "start",
        "stream",
        "wss://s",
    )
    (connect,) = parse_twiml(_answer("connect-virtual-agent", {"connector": "c"}))
    assert isinstance(connect, Connect)
    assert connect.target == "VirtualAgent" and connect.target_attrs == {"connectorName": "c"}


@pytest.mark.parametrize(
    ("doc", "actions"),
    [
        ("<Response/>", []),
        (
            '<?xml version="1.0"?><Response><Say voice="man" loop="2">Hi <break/> there</Say>'
            '<Pause length="3"/><Play digits="1w2"/><Hangup/></Response>',
            [Say("Hi there", "man", "", 2), Pause(3), Play("", "1w2"), Hangup()],
        ),
        (
            '<Response><Dial>+15551234</Dial><Reject reason="busy"/></Response>',
            [Dial(targets=(DialTarget("number", "+15551234"),)), Reject("busy")],
        ),
        (
            '<Response><Redirect method="GET">/next</Redirect><Sms>x</Sms></Response>',
            [Redirect("/next", "GET"), Unknown("Sms", "x")],
        ),
    ],
)
def test_hand_written(doc: str, actions: list[object]) -> None:
    assert parse_twiml(doc) == actions


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ("<Response><Say>", "not well-formed"),
        ("<Reply/>", "<Response> as its root"),
        ("<Response><Redirect/></Response>", "<Redirect> (verb 1) has no URL"),
        ("<Response><Gather><Dial>+1</Dial></Gather></Response>", "may only contain"),
        ('<Response><Gather timeout="soon"/></Response>', "timeout='soon'"),
        ("<Response><Dial/></Response>", "nothing to dial"),
        ("<Response><Start/></Response>", "must contain <Stream>"),
        ("<Response>" + "<Say>x</Say>" * 10000 + "</Response>", "the limit is"),
    ],
)
def test_errors_name_the_problem(doc: str, message: str) -> None:
    with pytest.raises(TwimlError, match=None) as info:
        parse_twiml(doc)
    assert message in str(info.value)


def test_resolve_url() -> None:
    assert resolve_url("?a=1&b=2", WEBHOOK + "?FlowEvent=x") == WEBHOOK + "?a=1&b=2"
    assert resolve_url("https://other.test/t", WEBHOOK) == "https://other.test/t"
    assert resolve_url("/abs", WEBHOOK) == "https://cb.test/abs"
    assert query_params("?x=1&x=2&y=") == {"x": "2", "y": ""}
