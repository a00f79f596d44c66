"""The simulator API in process (messages, calls, placed calls) and ``callboard call``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from callboard.api.app import create_app
from callboard.channels.config import ChannelConfig
from callboard.cli import cli
from callboard.commands.compose import build_services
from callboard.runtime.service import Callboard
from callboard.runtime.worker import Worker
from tests.channels.test_hangup import voice_flow
from tests.e2e.test_channels import SMS_FLOW, state, trigger


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[TestClient, Callboard]]:
    services = build_services(f"sqlite:///{tmp_path / 'sim.db'}", channel_config=ChannelConfig())
    service = services.callboard
    account = service.create_account("sim")
    with TestClient(create_app(services)) as c:
        c.auth = (account.sid, account.auth_token)
        yield c, service
    service.close()


def publish(c: TestClient, definition: dict[str, Any], status: str = "published") -> str:
    r = c.post(
        "/v2/Flows",
        data={"FriendlyName": "f", "Status": status, "Definition": json.dumps(definition)},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["sid"])


def test_simulated_sms_conversation_runs_the_draft(client: tuple[TestClient, Callboard]) -> None:
    c, _ = client
    flow = publish(c, SMS_FLOW, status="draft")  # a test user runs the latest revision
    form = {"FlowSid": flow, "From": "+15550100001", "To": "+15550100000"}
    first = c.post("/callboard/v1/Simulator/Messages", data={**form, "Body": "hi"})
    assert first.status_code == 201, first.text
    assert first.json()["execution_sid"].startswith("FN")
    c.post("/callboard/v1/Simulator/Messages", data={**form, "Body": "Ann"})
    r = c.get(
        "/callboard/v1/Simulator/Messages", params={"FlowSid": flow, "Contact": "+15550100001"}
    )
    talk = [(m["direction"], m["body"]) for m in r.json()["messages"]]
    assert talk == [
        ("inbound", "hi"),
        ("outbound-api", "What is your name?"),
        ("inbound", "Ann"),
        ("outbound-api", "Hi Ann"),
    ]


def test_unknown_flow_lists_nothing(client: tuple[TestClient, Callboard]) -> None:
    c, _ = client
    r = c.get("/callboard/v1/Simulator/Messages", params={"FlowSid": "FW" + "0" * 32})
    assert r.status_code == 200 and r.json() == {"messages": []}
    r = c.post("/callboard/v1/Simulator/Calls", data={"FlowSid": "FW" + "0" * 32, "From": "+1"})
    assert r.status_code == 404


@pytest.mark.parametrize(
    ("form", "said"),
    [({"Digits": "1"}, "You chose 1"), ({"SpeechResult": "sales"}, "You chose sales")],
)
def test_simulated_call(
    client: tuple[TestClient, Callboard], form: dict[str, str], said: str
) -> None:
    c, _ = client
    flow = publish(c, voice_flow())
    r = c.post("/callboard/v1/Simulator/Calls", data={"FlowSid": flow, "From": "+1555", "To": "+1"})
    body = r.json()
    assert r.status_code == 201 and body["waiting_for"] == "gather"
    assert "<Say>Press 1 or say something</Say>" in body["twiml"]
    r = c.post(f"/callboard/v1/Simulator/Calls/{body['call_sid']}/Input", data=form)
    assert r.json()["status"] == "completed"
    assert [a["text"] for a in r.json()["actions"] if a["kind"] == "say"] == [said]


def test_hangup_ends_the_execution(client: tuple[TestClient, Callboard]) -> None:
    c, _ = client
    flow = publish(c, voice_flow())
    call = c.post("/callboard/v1/Simulator/Calls", data={"FlowSid": flow, "From": "+1555"}).json()
    c.post(f"/callboard/v1/Simulator/Calls/{call['call_sid']}/Input", data={"Hangup": "true"})
    ex = c.get(f"/v2/Flows/{flow}/Executions/{call['execution_sid']}").json()
    assert ex["status"] == "ended"


def test_a_call_the_flow_places_rings_until_answered(
    client: tuple[TestClient, Callboard],
) -> None:
    c, service = client
    definition = {
        "description": "outbound",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": [
            {
                **trigger(),
                "transitions": [
                    *trigger()["transitions"][:3],
                    {"event": "incomingRequest", "next": "dial"},
                    {"event": "incomingParent"},
                ],
            },
            state(
                "dial",
                "make-outgoing-call-v2",
                {"to": "{{contact.channel.address}}", "from": "{{flow.channel.address}}"},
                answered="hello",
                busy=None,
                noAnswer=None,
                failed=None,
            ),
            state("hello", "say-play", {"say": "This is Callboard calling"}, audioComplete=None),
        ],
    }
    flow = publish(c, definition)
    r = c.post(f"/v2/Flows/{flow}/Executions", data={"To": "+15550200002", "From": "+15550200000"})
    assert r.status_code == 201, r.text
    Worker(service).run_once()  # the worker places the call
    calls = c.get("/callboard/v1/Simulator/Calls", params={"FlowSid": flow}).json()["calls"]
    assert [x["status"] for x in calls] == ["queued"]
    r = c.post(
        f"/callboard/v1/Simulator/Calls/{calls[0]['call_sid']}/Input", data={"Answer": "true"}
    )
    assert [a["text"] for a in r.json()["actions"] if a["kind"] == "say"] == [
        "This is Callboard calling"
    ]


def test_callboard_call_plays_the_flow(tmp_path: Path) -> None:
    path = tmp_path / "ivr.json"
    path.write_text(json.dumps(voice_flow()))
    result = CliRunner().invoke(cli, ["call", "-q", str(path)], input="say: hello\n")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Press 1 or say something",
        "You chose hello",
        "[hangup] The flow hung up",
    ]


def test_callboard_call_silence_times_out(tmp_path: Path) -> None:
    path = tmp_path / "ivr.json"
    path.write_text(json.dumps(voice_flow()))
    result = CliRunner().invoke(cli, ["call", "-q", str(path)], input="\n")
    assert result.exit_code == 0
    assert "You chose" not in result.stdout
