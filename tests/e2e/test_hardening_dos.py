"""Denial of service against a real server (issue 17): each attack runs while
``/callboard/v1/Health`` must keep answering within a second.

Items: 1 (form-field flood before the signature check), 2 (catastrophic regex from an
SMS), 4 (unbounded bodies), 10/11 (simulator TwiML fetches: slow, closed, many),
12 (wrong-credential throttling)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler

import httpx
import pytest

from tests.e2e.attack import (
    create_flow,
    definition,
    health_keeps_answering,
    receiver,
    signed_post,
    state,
    trigger,
)
from tests.e2e.server import Server, database, running_server, with_new_account

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the module (each test attacks it anew; it must keep answering)."""
    tmp = tmp_path_factory.mktemp("dos")
    with database("sqlite", tmp) as url, running_server(url, tmp) as s:
        yield s


@pytest.fixture
def server(shared: Server) -> Server:
    return with_new_account(shared)


def client(server: Server) -> httpx.Client:
    return httpx.Client(base_url=server.url, auth=(server.account_sid, server.auth_token))


def test_a_form_field_flood_is_refused_before_the_signature_check(server: Server) -> None:
    with client(server) as c:
        flow = create_flow(c, definition(trigger()))
    url = f"{server.url}/v1/Accounts/{server.account_sid}/Flows/{flow}"
    body = "&".join(f"f{i}=x" for i in range(40_000))
    headers = {
        "X-Twilio-Signature": "forged",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    with health_keeps_answering(server.url), ThreadPoolExecutor(4) as pool:
        answers = list(
            pool.map(
                lambda _: httpx.post(url, content=body, headers=headers, timeout=120), range(4)
            )
        )
    for response in answers:
        assert response.status_code == 413
        assert response.json()["code"] == 20413


def test_huge_bodies_are_cut_off_before_they_are_read(server: Server) -> None:
    with client(server) as c:
        flow = create_flow(c, definition(trigger()))
    path = f"/v1/Accounts/{server.account_sid}/Flows/{flow}"
    port = int(server.url.rsplit(":", 1)[1])
    with health_keeps_answering(server.url):
        # Declares 512 MiB: refused at once, without waiting for the body.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {512 * 1024 * 1024}\r\n\r\n".encode()
            )
            head = sock.recv(65536).decode("latin-1")
        assert head.startswith("HTTP/1.1 413"), head[:200]

        # No length given: the stream is cut when it passes the limit.
        def chunks() -> Iterator[bytes]:
            for _ in range(64):
                yield b"a" * (1024 * 1024)

        for url, auth in ((server.url + path, None), (f"{server.url}/v2/Flows", WRONG)):
            # the REST API too, before authentication
            status = _streamed_status(url, chunks(), auth)
            assert status in (413, "cut off"), (url, status)


WRONG = ("AC" + "0" * 32, "wrong")


def _streamed_status(url: str, body: Iterator[bytes], auth: tuple[str, str] | None) -> int | str:
    """The answer to a streamed upload; "cut off" when the server answered and closed
    the connection while the client was still sending (which is the point)."""
    try:
        response = httpx.post(
            url,
            content=body,
            auth=auth,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=60,
        )
    except (httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadError):
        return "cut off"
    return response.status_code


def test_a_catastrophic_regex_on_an_sms_does_not_freeze_the_server(server: Server) -> None:
    condition = {
        "friendly_name": "evil",
        "arguments": ["{{trigger.message.Body}}"],
        "type": "regex",
        "value": "(a+)+$",
    }
    split = {
        "name": "check",
        "type": "split-based-on",
        "transitions": [
            {"event": "noMatch"},
            {"event": "match", "conditions": [condition]},
        ],
        "properties": {"input": "{{trigger.message.Body}}"},
    }
    with client(server) as c:
        flow = create_flow(c, definition(trigger(incomingMessage="check"), split))
    url = f"{server.url}/v1/Accounts/{server.account_sid}/Flows/{flow}"
    params = {
        "MessageSid": "SM" + "1" * 32,
        "AccountSid": server.account_sid,
        "From": "+15550001111",
        "To": "+15559990000",
        "Body": "a" * 40 + "!",
    }
    with health_keeps_answering(server.url):
        response = signed_post(url, params, server.auth_token, timeout=60)
    assert response.status_code == 200, response.text
    with client(server) as c:
        executions = c.get(f"/v2/Flows/{flow}/Executions").json()["executions"]
        assert len(executions) == 1
    assert executions[0]["status"] == "ended"  # the split took noMatch, which ends it


def _slow(seconds: float):  # type: ignore[no-untyped-def]
    def answer(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)
        body = b"<Response><Say>late</Say></Response>"
        try:
            handler.send_response(200)
            handler.send_header("Content-Type", "text/xml")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except OSError:
            pass

    return answer


def _redirect_flow(url: str) -> dict[str, object]:
    return definition(
        trigger(incomingCall="away"),
        state(
            "away",
            "add-twiml-redirect",
            {"url": url, "timeout": "60"},
            **{"return": None, "timeout": None, "fail": None},
        ),
    )


def test_simulated_calls_to_slow_twiml_do_not_hold_the_server(server: Server) -> None:
    with receiver(_slow(4)) as slow, client(server) as c:
        flow = create_flow(c, _redirect_flow(slow.url + "/twiml"))

        def call(_: int) -> httpx.Response:
            return httpx.post(
                f"{server.url}/callboard/v1/Simulator/Calls",
                data={"FlowSid": flow, "From": "+15550001111"},
                auth=(server.account_sid, server.auth_token),
                timeout=120,
            )

        # Three times the simulator's slots (SIMULATED_CALLS_AT_ONCE, 4) and the server's
        # request threads (4 on SQLite): were the calls run on the request threads, these
        # would hold every one of them for 12 s; queued beyond the slots, they must not.
        with health_keeps_answering(server.url), ThreadPoolExecutor(12) as pool:
            calls = [pool.submit(call, i) for i in range(12)]
            time.sleep(1.0)  # the calls are now waiting on the slow URL
            for _ in range(5):  # authenticated requests of another kind still answer
                flows = c.get("/v2/Flows", timeout=1.0)
                assert flows.status_code == 200
            answers = [f.result() for f in calls]
    assert all(a.status_code == 201 for a in answers), [a.text for a in answers][:2]


def test_a_twiml_url_that_times_out_or_is_closed_ends_the_call_not_the_request(
    server: Server,
) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    with receiver(_slow(30)) as hanging, client(server) as c:
        for url in (hanging.url + "/twiml", f"http://127.0.0.1:{closed_port}/twiml"):
            flow = create_flow(c, _redirect_flow(url))
            with health_keeps_answering(server.url):
                response = c.post(
                    "/callboard/v1/Simulator/Calls",
                    data={"FlowSid": flow, "From": "+15550001111"},
                    timeout=60,
                )
            assert response.status_code == 201, response.text
            assert response.json()["status"] == "completed"


def test_wrong_credentials_are_throttled(server: Server) -> None:
    answers = []
    with health_keeps_answering(server.url):
        for i in range(12):
            answers.append(
                httpx.get(f"{server.url}/v2/Flows", auth=(server.account_sid, f"wrong{i}"))
            )
    assert [a.status_code for a in answers[:10]] == [401] * 10
    throttled = answers[10]
    assert throttled.status_code == 429
    assert throttled.json()["code"] == 20429
    assert int(throttled.headers["Retry-After"]) >= 1
    # another user name from the same address is not throttled yet
    other = httpx.get(f"{server.url}/v2/Flows", auth=("SK" + "0" * 32, "wrong"))
    assert other.status_code == 401
