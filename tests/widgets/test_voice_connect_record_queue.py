"""Connect Call To, Record Voicemail, Call Recording, Enqueue Call and Send to Flex."""

from __future__ import annotations

import json
from typing import Any

import pytest

from callboard.contract.io import EffectResult, StartRecording, StopRecording
from tests.widgets.voice_harness import expected_callback, query, run_flow, run_widget, twiml

# ------------------------------------------------------------------ Connect Call To


@pytest.mark.parametrize(
    ("props", "nouns"),
    [
        ({"noun": "number", "to": "+15551111"}, [("Number", "+15551111", {})]),
        (
            {"noun": "number-multi", "to": "+1555001, +1555002,+1555003"},
            [("Number", "+1555001", {}), ("Number", "+1555002", {}), ("Number", "+1555003", {})],
        ),
        ({"noun": "client", "to": "alice"}, [("Client", "alice", {})]),
        ({"noun": "sim", "to": "DE123"}, [("Sim", "DE123", {})]),
        ({"noun": "conference", "to": "room-1"}, [("Conference", "room-1", {})]),
        (
            {
                "noun": "sip",
                "sip_endpoint": "sip:bob@example.test",
                "sip_username": "u",
                "sip_password": "p",
            },
            [("Sip", "sip:bob@example.test", {"username": "u", "password": "p"})],
        ),
    ],
)
def test_connect_call_to_nouns(
    props: dict[str, Any], nouns: list[tuple[str, str, dict[str, str]]]
) -> None:
    s = run_widget("connect-call-to", props)
    (dial,) = list(twiml(s.last))
    assert dial.tag == "Dial"
    assert query(dial.get("action") or "") == expected_callback(s.token, "dial")
    assert dial.get("callerId") == "+15550001"  # default {{contact.channel.address}}
    assert dial.get("timeout") == "30"
    assert dial.get("record") is None
    assert [(n.tag, n.text, dict(n.attrib)) for n in dial] == nouns


def test_connect_call_to_options_and_ten_number_limit() -> None:
    numbers = ",".join(f"+1555000{i:02d}" for i in range(12))
    s = run_widget(
        "connect-call-to",
        {
            "noun": "number-multi",
            "to": numbers,
            "caller_id": "+15550000",
            "record": True,
            "timeout": 45,
            "time_limit": "600",
        },
    )
    (dial,) = list(twiml(s.last))
    assert len(list(dial)) == 10
    assert (
        dial.get("callerId"),
        dial.get("record"),
        dial.get("timeout"),
        dial.get("timeLimit"),
    ) == (
        "+15550000",
        "record-from-answer",
        "45",
        "600",
    )
    assert any("at most 10" in w.message for w in s.last.warnings)


@pytest.mark.parametrize(
    ("name", "params", "event"),
    [
        ("dial", {"DialCallStatus": "completed", "DialCallDuration": "42"}, "callCompleted"),
        ("dial", {"DialCallStatus": "no-answer"}, "callCompleted"),
        ("dial", {"DialCallStatus": "completed", "CallStatus": "completed"}, "hangup"),
        ("hangup", {"CallStatus": "completed"}, "hangup"),
    ],
)
def test_connect_call_to_events(name: str, params: dict[str, str], event: str) -> None:
    s = run_widget("connect-call-to", {"noun": "number", "to": "+15551111"})
    s.callback(name, params)
    assert s.steps == [("w", event, "Ended")]
    for key, value in params.items():
        assert s.variables("w")[key] == value


# ---------------------------------------------------------------- Record Voicemail


def test_record_voicemail_twiml() -> None:
    s = run_widget(
        "record-voicemail",
        {
            "transcribe": True,
            "trim": "trim-silence",
            "transcription_callback_url": "https://x.test/t",
            "play_beep": "true",
            "timeout": 5,
            "max_length": 600,
            "finish_on_key": "#",
        },
    )
    (record,) = list(twiml(s.last))
    assert record.tag == "Record"
    assert query(record.get("action") or "") == expected_callback(s.token, "record")
    assert {k: v for k, v in record.attrib.items() if k != "action"} == {
        "method": "POST",
        "timeout": "5",
        "maxLength": "600",
        "finishOnKey": "#",
        "playBeep": "true",
        "trim": "trim-silence",
        "transcribe": "true",
        "transcribeCallback": "https://x.test/t",
    }


@pytest.mark.parametrize(
    ("name", "params", "event"),
    [
        ("record", {"RecordingUrl": "https://r.test/RE1", "Digits": "#"}, "recordingComplete"),
        ("record", {"RecordingUrl": "https://r.test/RE1", "Digits": "hangup"}, "recordingComplete"),
        ("record", {"Digits": "hangup"}, "hangup"),
        ("record", {}, "noAudio"),
        ("hangup", {"CallStatus": "completed"}, "hangup"),
    ],
)
def test_record_voicemail_events(name: str, params: dict[str, str], event: str) -> None:
    s = run_widget("record-voicemail", {})
    s.callback(name, params)
    assert s.steps == [("w", event, "Ended")]
    assert s.variables("w").get("RecordingUrl") == params.get("RecordingUrl")


# ------------------------------------------------------------------ Call Recording


def test_record_call_start_success() -> None:
    s = run_widget(
        "record-call",
        {
            "record_call": True,
            "recording_status_callback": "https://x.test/rec",
            "recording_status_callback_events": "in-progress completed",
            "recording_channels": "mono",
        },
    )
    (effect,) = s.last.effects
    assert isinstance(effect, StartRecording)
    assert effect.call_sid == "CA0001"
    assert effect.options == {
        "RecordingChannels": "mono",
        "Trim": "do-not-trim",
        "RecordingStatusCallback": "https://x.test/rec",
        "RecordingStatusCallbackMethod": "POST",
        "RecordingStatusCallbackEvent": ["in-progress", "completed"],
    }
    s.send(EffectResult(effect.token, True, {"Sid": "RE1", "Status": "in-progress"}))
    assert s.steps == [("w", "success", "Ended")]
    assert s.variables("w") == {"Sid": "RE1", "Status": "in-progress"}


def test_record_call_stop_failed() -> None:
    s = run_widget("record-call", {"record_call": False})
    (effect,) = s.last.effects
    assert isinstance(effect, StopRecording) and effect.call_sid == "CA0001"
    s.send(EffectResult(effect.token, False, {"error": "no recording"}))
    assert s.steps == [("w", "failed", "Ended")]


def test_record_call_without_call_fails() -> None:
    s = run_widget("record-call", {"record_call": True}, trigger="incomingMessage")
    assert s.steps[-1] == ("w", "failed", "Ended")
    assert 81020 in [w.code for w in s.last.warnings]


# -------------------------------------------------------------------- Enqueue Call


def test_enqueue_call_queue_name() -> None:
    s = run_widget(
        "enqueue-call",
        {"queue_name": "support", "wait_url": "https://x.test/hold", "wait_url_method": "GET"},
    )
    (enqueue,) = list(twiml(s.last))
    assert (enqueue.tag, enqueue.text) == ("Enqueue", "support")
    assert query(enqueue.get("action") or "") == expected_callback(s.token, "enqueue")
    assert enqueue.get("waitUrl") == "https://x.test/hold"
    assert enqueue.get("waitUrlMethod") == "GET"
    assert enqueue.get("workflowSid") is None and list(enqueue) == []


def test_enqueue_call_workflow_task() -> None:
    s = run_widget(
        "enqueue-call",
        {
            "workflow_sid": "WW1",
            "priority": 1000,
            "timeout": "60",
            "task_attributes": '{"to": "{{flow.channel.address}}"}',
        },
    )
    (enqueue,) = list(twiml(s.last))
    assert enqueue.get("workflowSid") == "WW1" and not (enqueue.text or "").strip()
    (task,) = list(enqueue)
    assert task.tag == "Task"
    assert json.loads(task.text or "") == {"to": "+15559999"}
    assert (task.get("priority"), task.get("timeout")) == ("1000", "60")


@pytest.mark.parametrize("wtype", ["enqueue-call", "send-to-flex"])
@pytest.mark.parametrize(
    ("result", "event"),
    [
        ("bridged", "callComplete"),
        ("hangup", "callComplete"),
        ("redirected", "callComplete"),
        ("queue-full", "failedToEnqueue"),
        ("system-error", "callFailure"),
    ],
)
def test_queue_results(wtype: str, result: str, event: str) -> None:
    props = (
        {"queue_name": "q"} if wtype == "enqueue-call" else {"workflow": "WW1", "channel": "TC1"}
    )
    s = run_widget(wtype, props)
    s.callback("enqueue", {"QueueResult": result, "QueueTime": "12"})
    assert s.steps == [("w", event, "Ended")]
    assert s.variables("w")["QueueResult"] == result


def test_enqueue_call_needs_a_queue() -> None:
    s = run_widget("enqueue-call", {})
    assert s.steps[-1] == ("w", "failedToEnqueue", "Ended")
    assert 81015 in [w.code for w in s.last.warnings]


# -------------------------------------------------------------------- Send to Flex


def test_send_to_flex_voice() -> None:
    s = run_widget(
        "send-to-flex",
        {
            "workflow": "WW1",
            "channel": "TC1",
            "priority": "{{flow.data.prio}}",
            "timeout": "600",
            "waitUrl": "https://x.test/hold",
            "waitUrlMethod": "GET",
        },
    )
    (enqueue,) = list(twiml(s.last))
    assert enqueue.get("workflowSid") == "WW1"
    assert (enqueue.get("waitUrl"), enqueue.get("waitUrlMethod")) == ("https://x.test/hold", "GET")
    (task,) = list(enqueue)
    assert json.loads(task.text or "") == {"type": "inbound", "name": "+15550001"}
    assert (task.get("priority"), task.get("timeout")) == ("0", "600")


def test_send_to_flex_without_any_channel_fails_to_enqueue() -> None:
    """A REST-triggered execution (no call, message or conversation): 81020."""
    s = run_flow(
        [
            {
                "name": "flex",
                "type": "send-to-flex",
                "transitions": [
                    {"event": "callComplete"},
                    {"event": "failedToEnqueue", "next": "sorry"},
                    {"event": "callFailure"},
                ],
                "properties": {"workflow": "WW1", "channel": "TC1"},
            },
            {
                "name": "sorry",
                "type": "send-message",
                "transitions": [{"event": "sent"}, {"event": "failed"}],
                "properties": {"body": "No agents"},
            },
        ],
        trigger="incomingRequest",
        data={},
    )
    assert s.last.steps[1].name == "failedToEnqueue"
    assert 81020 in [w.code for w in s.last.warnings]
