"""Event Streams fairness against a real server (issue 17, item 7): one account's
hanging receivers do not hold back another account's deliveries, and a failing
receiver is not hit once per new event."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx
import pytest

from tests.e2e.attack import create_flow, definition, receiver, trigger, wait_for
from tests.e2e.server import Server, create_account, database, running_server

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

STARTED = json.dumps({"type": "com.twilio.studio.flow.execution.started"})


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with database("sqlite", tmp_path) as url, running_server(url, tmp_path) as s:
        yield s


def subscribe(c: httpx.Client, destination: str) -> str:
    config = {"destination": destination, "method": "POST", "batch_events": False}
    sink = c.post(
        "/v1/Sinks",
        data={"Description": "s", "SinkType": "webhook", "SinkConfiguration": json.dumps(config)},
    )
    assert sink.status_code == 201, sink.text
    sid = str(sink.json()["sid"])
    sub = c.post("/v1/Subscriptions", data={"Description": "s", "SinkSid": sid, "Types": STARTED})
    assert sub.status_code == 201, sub.text
    return sid


def start(c: httpx.Client, flow: str) -> None:
    created = c.post(f"/v2/Flows/{flow}/Executions", data={"To": "+15550001", "From": "+15550002"})
    assert created.status_code == 201, created.text


def test_hanging_receivers_of_one_account_do_not_delay_another(server: Server) -> None:
    release = threading.Event()

    def hang(handler: BaseHTTPRequestHandler) -> None:
        release.wait(60)

    other_auth = create_account(server.database_url)
    with (
        receiver(hang) as hanging,
        receiver() as healthy,
        httpx.Client(base_url=server.url, auth=(server.account_sid, server.auth_token)) as a,
        httpx.Client(base_url=server.url, auth=other_auth) as b,
    ):
        for i in range(16):
            subscribe(a, f"{hanging.url}/{i}")
        subscribe(b, f"{healthy.url}/b")
        flow_a = create_flow(a, definition(trigger()))
        flow_b = create_flow(b, definition(trigger()))
        start(a, flow_a)
        assert wait_for(lambda: len(hanging.hits) >= 1, 30)
        start(b, flow_b)
        try:
            assert wait_for(lambda: healthy.hits, 60)
            hanging_then = len(hanging.hits)
        finally:
            release.set()
    # B's event went out beside A's first requests, not after waves of A's time-outs
    assert hanging_then <= 8, hanging_then


def test_a_failing_receiver_is_not_hit_once_per_new_event(server: Server) -> None:
    def fail(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(500)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    with (
        receiver(fail) as failing,
        httpx.Client(base_url=server.url, auth=(server.account_sid, server.auth_token)) as c,
    ):
        subscribe(c, f"{failing.url}/hook")
        flow = create_flow(c, definition(trigger()))
        start(c, flow)
        assert wait_for(lambda: failing.hits, 30)
        for _ in range(40):
            start(c, flow)
            time.sleep(0.1)
        hits = len(failing.hits)
    assert hits <= 8, hits  # back-off applies to the new events too
