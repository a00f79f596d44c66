"""Egress control against a real server (issue 17, item 5): Make HTTP Request, Run
Function, Event Streams webhook and Redis sinks never reach loopback, whatever the
spelling or redirect, unless ``CALLBOARD_OUTBOUND_ALLOW`` says so. The server here
allows only 127.0.0.2 (a loopback address standing for "an allowed host")."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx
import pytest
import redis

from tests.e2e.attack import Receiver, create_flow, definition, receiver, state, trigger, wait_for
from tests.e2e.server import Server, database, running_server, with_new_account

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

ALLOWED = "127.0.0.2"


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the module; each test gets an account of its own."""
    tmp = tmp_path_factory.mktemp("egress")
    with (
        database("sqlite", tmp) as url,
        running_server(url, tmp, CALLBOARD_OUTBOUND_ALLOW=f"{ALLOWED}/32") as s,
    ):
        yield s


@pytest.fixture
def server(shared: Server) -> Server:
    return with_new_account(shared)


@pytest.fixture
def internal() -> Iterator[Receiver]:
    """A service on 127.0.0.1 that must never be reached."""
    with receiver() as r:
        yield r


def http_flow(widget: str) -> dict[str, Any]:
    if widget == "make-http-request":
        props = {"method": "GET", "url": "{{flow.data.url}}", "content_type": "application/json"}
        fetch = state("fetch", widget, props, success="ok", failed="bad")
    else:
        fetch = state("fetch", widget, {"url": "{{flow.data.url}}"}, success="ok", fail="bad")
    mark = {"variables": [{"key": "seen", "value": "1"}]}
    return definition(
        trigger(incomingRequest="fetch"),
        fetch,
        state("ok", "set-variables", mark, next=None),
        state("bad", "set-variables", mark, next=None),
    )


def run(c: httpx.Client, flow: str, url: str) -> list[str]:
    """Start an execution fetching ``url``; the widgets it went through."""
    created = c.post(
        f"/v2/Flows/{flow}/Executions",
        data={"To": "+15550001111", "From": "+15550002222", "Parameters": json.dumps({"url": url})},
    )
    assert created.status_code == 201, created.text
    sid = created.json()["sid"]
    ended = wait_for(
        lambda: c.get(f"/v2/Flows/{flow}/Executions/{sid}").json()["status"] == "ended", 30
    )
    assert ended
    steps = c.get(f"/v2/Flows/{flow}/Executions/{sid}/Steps").json()["steps"]
    return [s["transitioned_to"] for s in steps]


@pytest.mark.parametrize("widget", ["make-http-request", "run-function"])
def test_flows_cannot_reach_internal_addresses(
    server: Server, internal: Receiver, widget: str
) -> None:
    port = internal.url.rsplit(":", 1)[1]

    def redirect(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", f"{internal.url}/secret")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    with (
        receiver(redirect, host=ALLOWED) as bouncer,
        receiver(host=ALLOWED) as allowed,
        httpx.Client(base_url=server.url, auth=(server.account_sid, server.auth_token)) as c,
    ):
        flow = create_flow(c, http_flow(widget))
        for url in (
            f"{internal.url}/",
            f"http://localhost:{port}/",
            f"http://2130706433:{port}/",  # 127.0.0.1 as one decimal number
            f"http://[::ffff:127.0.0.1]:{port}/",
            f"http://169.254.169.254:{port}/latest/meta-data/",
            f"{server.url}/v2/Flows",  # the server's own API
            f"{bouncer.url}/away",  # allowed, but redirects inside
        ):
            assert "bad" in run(c, flow, url), url
        assert "ok" in run(c, flow, f"{allowed.url}/fine")
    assert internal.hits == []
    assert len(allowed.hits) == 1


def test_event_sinks_cannot_reach_internal_addresses(server: Server, internal: Receiver) -> None:
    stream = f"cb-egress-{secrets.token_hex(4)}"
    with (
        receiver(host=ALLOWED) as allowed,
        httpx.Client(base_url=server.url, auth=(server.account_sid, server.auth_token)) as c,
    ):
        sinks = []
        for sink_type, config in (
            ("webhook", {"destination": f"{allowed.url}/ok", "method": "POST"}),
            ("webhook", {"destination": f"{internal.url}/hook", "method": "POST"}),
            ("redis-stream", {"url": "redis://127.0.0.1:6379/0", "stream": stream}),
        ):
            made = c.post(
                "/v1/Sinks",
                data={
                    "Description": sink_type,
                    "SinkType": sink_type,
                    "SinkConfiguration": json.dumps(config),
                },
            )
            assert made.status_code == 201, made.text
            sinks.append(made.json()["sid"])
            sub = c.post(
                "/v1/Subscriptions",
                data={
                    "Description": "all",
                    "SinkSid": sinks[-1],
                    "Types": json.dumps({"type": "com.twilio.studio.flow.execution.started"}),
                },
            )
            assert sub.status_code == 201, sub.text
        flow = create_flow(c, definition(trigger()))
        for _ in range(3):
            created = c.post(
                f"/v2/Flows/{flow}/Executions", data={"To": "+15550001111", "From": "+1555"}
            )
            assert created.status_code == 201
        assert wait_for(lambda: len(allowed.hits) >= 3, 30)
        time.sleep(2)  # the other sinks were due as early: give them time to be tried
        for sid in sinks[1:]:  # refused, so still waiting for a retry
            pending = c.get(f"/callboard/v1/Sinks/{sid}/Deliveries").json()["pending"]
            assert pending >= 1
    assert internal.hits == []
    assert redis.Redis(host="127.0.0.1", port=6379).exists(stream) == 0
