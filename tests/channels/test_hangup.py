"""An execution that ends outside its call's webhooks hangs the call up: on the simulator
channel the simulated call is marked completed (REST end, a timer, a placed call still
ringing); on the twilio channel retention ending a stuck execution leaves a Calls API
hang-up for the worker, which survives the execution's deletion. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from callboard.api.app import create_app
from callboard.channels.config import ChannelConfig
from callboard.channels.webhooks import Channels
from callboard.commands.compose import build_services
from callboard.runtime.inbound_results import EMPTY_TWIML
from callboard.runtime.retention import RetentionPolicy, purge
from callboard.runtime.service import Callboard
from callboard.runtime.worker import Worker
from callboard.store import tables as t
from tests.e2e.test_channels import say, state, trigger
from tests.e2e.test_channels_calls import outbound_flow, redirect_flow
from tests.e2e.twilio_standin import StandIn, twilio_standin

CALLS = "/callboard/v1/Simulator/Calls"


def voice_flow() -> dict[str, Any]:
    """Trigger -> menu (Gather: "Press 1 or say something") -> thanks ("You chose …")."""
    return {
        "description": "menu",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": [
            trigger(call="menu"),
            state(
                "menu",
                "gather-input-on-call",
                {"say": "Press 1 or say something"},
                keypress="thanks",
                speech="thanks",
                timeout=None,
            ),
            say("thanks", "You chose {{widgets.menu.Digits}}{{widgets.menu.SpeechResult}}"),
        ],
    }


@pytest.fixture
def standin() -> Iterator[StandIn]:
    with twilio_standin() as s:
        yield s


@pytest.fixture
def sim(db_url: str) -> Iterator[tuple[TestClient, Callboard]]:
    services = build_services(db_url, channel_config=ChannelConfig())
    service = services.callboard
    account = service.create_account("sim")
    with TestClient(create_app(services)) as c:
        c.auth = (account.sid, account.auth_token)
        yield c, service
    service.close()


def publish(c: TestClient, definition: dict[str, Any]) -> str:
    r = c.post(
        "/v2/Flows",
        data={"FriendlyName": "f", "Status": "published", "Definition": json.dumps(definition)},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["sid"])


def calls(c: TestClient, flow: str) -> list[dict[str, Any]]:
    return list(c.get(CALLS, params={"FlowSid": flow}).json()["calls"])


def hang_up_jobs(service: Callboard) -> int:
    with service.db.read() as conn:
        query = select(func.count()).where(t.outbox.c.kind == "hang_up_call")
        return int(conn.execute(query).scalar_one())


def test_rest_end_completes_a_simulated_call(sim: tuple[TestClient, Callboard]) -> None:
    c, service = sim
    flow = publish(c, voice_flow())
    call = c.post(CALLS, data={"FlowSid": flow, "From": "+15550300001"}).json()
    assert call["waiting_for"] == "gather"
    r = c.post(f"/v2/Flows/{flow}/Executions/{call['execution_sid']}", data={"Status": "ended"})
    assert r.status_code == 200, r.text
    assert [x["status"] for x in calls(c, flow)] == ["completed"]
    r = c.post(f"{CALLS}/{call['call_sid']}/Input", data={"Digits": "1"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "completed" and body["waiting_for"] is None
    assert [a["kind"] for a in body["actions"]] == ["hangup"]  # the flow is not asked
    assert hang_up_jobs(service) == 0  # nothing to tell Twilio


def test_rest_end_completes_a_placed_call_still_ringing(
    sim: tuple[TestClient, Callboard],
) -> None:
    c, service = sim
    flow = publish(c, outbound_flow())
    r = c.post(f"/v2/Flows/{flow}/Executions", data={"To": "+15550300002", "From": "+1555"})
    assert r.status_code == 201, r.text
    Worker(service).run_once()  # places the call
    assert [x["status"] for x in calls(c, flow)] == ["queued"]
    c.post(f"/v2/Flows/{flow}/Executions/{r.json()['sid']}", data={"Status": "ended"})
    (call,) = calls(c, flow)
    assert call["status"] == "completed"
    r = c.post(f"{CALLS}/{call['call_sid']}/Input", data={"Answer": "true"})
    assert r.status_code == 200 and r.json()["status"] == "completed"
    assert [a["kind"] for a in r.json()["actions"]] == ["hangup"]


def test_a_timer_ending_the_execution_completes_the_simulated_call(
    sim: tuple[TestClient, Callboard], standin: StandIn
) -> None:
    c, service = sim
    standin.twiml["/twiml/hold"] = lambda form: '<Response><Gather input="dtmf" /></Response>'
    flow = publish(c, redirect_flow(f"{standin.url}/twiml/hold"))
    call = c.post(CALLS, data={"FlowSid": flow, "From": "+15550300003"}).json()
    assert call["waiting_for"] == "gather" and call["status"] == "in-progress"
    assert service.fire_due_timers(now=service.env.now() + timedelta(seconds=30)) == 1
    assert [x["status"] for x in calls(c, flow)] == ["completed"]
    r = c.post(f"{CALLS}/{call['call_sid']}/Input", data={"Digits": "5"})
    assert r.json()["status"] == "completed"


def test_an_execution_ending_during_its_own_call_leaves_the_call_to_its_answer(
    sim: tuple[TestClient, Callboard],
) -> None:
    c, _ = sim
    flow = publish(c, voice_flow())
    call = c.post(CALLS, data={"FlowSid": flow, "From": "+15550300004"}).json()
    r = c.post(f"{CALLS}/{call['call_sid']}/Input", data={"Digits": "7"}).json()
    assert [a["text"] for a in r["actions"] if a["kind"] == "say"] == ["You chose 7"]
    assert r["status"] == "completed"


@pytest.fixture
def on_twilio(db_url: str, standin: StandIn) -> Iterator[tuple[Callboard, Channels, str, str]]:
    config = ChannelConfig("AC" + "5" * 32, "token", standin.url, False, "http://cb.test")
    services = build_services(db_url, channel_config=config)
    service, channels = services.callboard, services.channels
    account = service.create_account("twilio")
    flow = service.create_flow(
        account.sid, friendly_name="ivr", status="published", definition=voice_flow()
    )
    yield service, channels, account.sid, flow.sid
    service.close()


def test_retention_ending_a_stuck_call_hangs_it_up_through_the_calls_api(
    on_twilio: tuple[Callboard, Channels, str, str], standin: StandIn
) -> None:
    service, channels, account_sid, flow_sid = on_twilio
    call_sid = "CA" + "6" * 32
    params = {"CallSid": call_sid, "From": "+15550300005", "To": "+15550300000"}
    answer = channels.flow_webhook(account_sid, flow_sid, {**params, "CallStatus": "ringing"})
    assert "<Gather" in answer.body
    assert hang_up_jobs(service) == 0
    later = service.env.now() + timedelta(days=3)
    report = purge(service.executor, RetentionPolicy(days_after_end=1, stuck_days=1), now=later)
    assert (report.stuck_ended, report.stuck_deleted) == (1, 1)
    assert hang_up_jobs(service) == 1  # kept although its execution was deleted
    Worker(service).run_once()
    assert standin.call_updates() == [(call_sid, {"Status": "completed"})]
    status = channels.flow_webhook(account_sid, flow_sid, {**params, "CallStatus": "completed"})
    assert status.body == EMPTY_TWIML  # Twilio's call-back for a deleted execution
    purge(
        service.executor,
        RetentionPolicy(days_after_end=1, stuck_days=1),
        now=later + timedelta(days=2),
    )
    assert hang_up_jobs(service) == 0  # the finished job is pruned in time


def test_a_call_ending_by_itself_is_not_hung_up(
    on_twilio: tuple[Callboard, Channels, str, str], standin: StandIn
) -> None:
    service, channels, account_sid, flow_sid = on_twilio
    params = {"CallSid": "CA" + "7" * 32, "From": "+15550300006", "To": "+15550300000"}
    channels.flow_webhook(account_sid, flow_sid, {**params, "CallStatus": "ringing"})
    channels.flow_webhook(account_sid, flow_sid, {**params, "CallStatus": "completed"})
    Worker(service).run_once()
    assert hang_up_jobs(service) == 0 and standin.call_updates() == []
