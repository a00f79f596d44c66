"""Issue 13: the simulator channel behaves as Twilio does where local tests would
otherwise be misled -- an empty message is refused, outbound calls carry the right
Caller/Called, AnsweredBy when machine detection is on, DialCallSid on Connect Call To."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from callboard.engine import Bundle, FlowRef
from callboard.flow.model import FlowDefinition
from callboard.runtime.local import DEFAULT_CONTACT, LocalRunner
from callboard.runtime.service import Callboard
from callboard.runtime.worker import Worker
from callboard.widgets.registry import WIDGETS
from tests.channels.test_simulator_and_call import client, publish  # noqa: F401
from tests.e2e.test_channels import state, trigger

SIM = "/callboard/v1/Simulator"


def rest_flow(*states: dict[str, Any], first: str) -> dict[str, Any]:
    base = trigger()
    transitions = [
        *base["transitions"][:3],
        {"event": "incomingRequest", "next": first},
        {"event": "incomingParent"},
    ]
    return {
        "description": "fidelity",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": [{**base, "transitions": transitions}, *states],
    }


def steps_of(c: TestClient, flow: str, execution: str) -> list[tuple[str, str, str]]:
    steps = c.get(f"/v2/Flows/{flow}/Executions/{execution}/Steps").json()["steps"]
    return [(s["transitioned_from"], s["name"], s["transitioned_to"]) for s in steps]


def test_an_empty_message_is_refused_and_the_widget_takes_failed(
    client: tuple[TestClient, Callboard],  # noqa: F811
) -> None:
    c, _ = client
    definition = rest_flow(
        state("empty", "send-message", {"body": "{{flow.data.missing}}"}, sent="ok", failed="ko"),
        state("ok", "set-variables", {"variables": [{"key": "r", "value": "sent"}]}, next=None),
        state("ko", "set-variables", {"variables": [{"key": "r", "value": "failed"}]}, next=None),
        first="empty",
    )
    flow = publish(c, definition)
    r = c.post(f"/v2/Flows/{flow}/Executions", data={"To": "+15550300001", "From": "+15550300000"})
    assert r.status_code == 201, r.text
    ex = r.json()
    assert ("empty", "failed", "ko") in steps_of(c, flow, ex["sid"])
    context = c.get(f"/v2/Flows/{flow}/Executions/{ex['sid']}/Context").json()["context"]
    outbound = context["widgets"]["empty"]["outbound"]
    assert (outbound["Status"], outbound["ErrorCode"]) == ("failed", 21602)
    assert context["flow"]["variables"] == {"r": "failed"}
    messages = c.get(f"{SIM}/Messages", params={"FlowSid": flow}).json()["messages"]
    assert [(m["body"], m["status"]) for m in messages] == [("", "failed")]
    # a message with a body still goes out
    definition["states"][1]["properties"]["body"] = "Hello"
    flow2 = publish(c, definition)
    r = c.post(f"/v2/Flows/{flow2}/Executions", data={"To": "+15550300001", "From": "+1555030"})
    assert ("empty", "sent", "ok") in steps_of(c, flow2, r.json()["sid"])


def test_callboard_chat_refuses_an_empty_message_too() -> None:
    definition = rest_flow(
        state("empty", "send-message", {"body": " "}, sent=None, failed=None), first="empty"
    )
    bundle = Bundle(
        FlowRef("FW" + "1" * 32, 1, FlowDefinition.from_json(definition)), widgets=WIDGETS
    )
    with LocalRunner(bundle) as runner:
        runner.start_request({})
    assert [(s.transitioned_from, s.name) for s in runner.steps][-1] == ("empty", "failed")
    assert [w.code for w in runner.warnings] == [81011]


def outbound_call_flow(props: dict[str, Any]) -> dict[str, Any]:
    call = state(
        "dial",
        "make-outgoing-call-v2",
        {"to": "{{contact.channel.address}}", "from": "{{flow.channel.address}}", **props},
        answered="hello",
        busy=None,
        noAnswer=None,
        failed=None,
    )
    return rest_flow(
        call, state("hello", "say-play", {"say": "Hi"}, audioComplete=None), first="dial"
    )


def place_and_answer(
    c: TestClient, service: Callboard, props: dict[str, Any], **answer: str
) -> tuple[str, dict[str, Any]]:
    flow = publish(c, outbound_call_flow(props))
    r = c.post(f"/v2/Flows/{flow}/Executions", data={"To": "+15550400002", "From": "+15550400000"})
    assert r.status_code == 201, r.text
    Worker(service).run_once()  # the worker places the call
    (call,) = c.get(f"{SIM}/Calls", params={"FlowSid": flow}).json()["calls"]
    r = c.post(f"{SIM}/Calls/{call['call_sid']}/Input", data={"Answer": "true", **answer})
    assert r.status_code == 200, r.text
    context = c.get(f"/v2/Flows/{flow}/Executions/{r.json()['execution_sid']}/Context").json()
    return flow, context["context"]["widgets"]["dial"]


def test_an_outbound_call_has_caller_and_called_the_right_way_round(
    client: tuple[TestClient, Callboard],  # noqa: F811
) -> None:
    c, service = client
    _, dial = place_and_answer(c, service, {})
    assert (dial["From"], dial["To"]) == ("+15550400000", "+15550400002")
    assert (dial["Caller"], dial["Called"]) == ("+15550400000", "+15550400002")
    assert "AnsweredBy" not in dial  # no machine detection asked for: Twilio sends none


def test_answered_by_when_machine_detection_is_on(
    client: tuple[TestClient, Callboard],  # noqa: F811
) -> None:
    c, service = client
    amd = {"detect_answering_machine": True, "machine_detection": "Enable"}
    _, dial = place_and_answer(c, service, amd)
    assert dial["AnsweredBy"] == "human"  # the default answer
    assert dial["MachineDetectionDuration"].isdigit()
    _, dial = place_and_answer(c, service, amd, AnsweredBy="machine_start")
    assert dial["AnsweredBy"] == "machine_start"


def test_answered_by_is_checked(client: tuple[TestClient, Callboard]) -> None:  # noqa: F811
    c, service = client
    flow = publish(c, outbound_call_flow({}))
    c.post(f"/v2/Flows/{flow}/Executions", data={"To": "+15550400002", "From": "+15550400000"})
    Worker(service).run_once()
    (call,) = c.get(f"{SIM}/Calls", params={"FlowSid": flow}).json()["calls"]
    r = c.post(
        f"{SIM}/Calls/{call['call_sid']}/Input", data={"Answer": "true", "AnsweredBy": "human"}
    )
    assert r.status_code == 400 and "machine detection" in r.json()["message"]


def test_connect_call_to_gets_a_dial_call_sid(client: tuple[TestClient, Callboard]) -> None:  # noqa: F811
    c, _ = client
    definition = {
        "description": "connect",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": [
            trigger(call="connect"),
            state(
                "connect",
                "connect-call-to",
                {
                    "noun": "number",
                    "to": "+15550500009",
                    "caller_id": "{{contact.channel.address}}",
                },
                callCompleted=None,
                hangup=None,
            ),
        ],
    }
    flow = publish(c, definition)
    r = c.post(f"{SIM}/Calls", data={"FlowSid": flow, "From": DEFAULT_CONTACT, "To": "+1555"})
    assert r.status_code == 201, r.text
    ex = r.json()["execution_sid"]
    context = c.get(f"/v2/Flows/{flow}/Executions/{ex}/Context").json()["context"]
    connect = context["widgets"]["connect"]
    assert connect["DialCallStatus"] == "completed"
    assert connect["DialCallSid"].startswith("CA") and len(connect["DialCallSid"]) == 34
