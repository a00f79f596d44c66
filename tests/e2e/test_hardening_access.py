"""Who may ask for what, against a real server (issue 17): forwarded headers only from
trusted proxies (item 3), cross-site requests (6), bounded Parameters (9), lone
surrogates (10), security headers and idle connections (13), SSE streams ending on
revocation (8)."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.e2e.attack import create_flow, definition, signed_post, trigger
from tests.e2e.server import Server, _cli, database, running_server, with_new_account

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the module; each test gets an account of its own."""
    tmp = tmp_path_factory.mktemp("access")
    with database("sqlite", tmp) as url, running_server(url, tmp) as s:
        yield s


@pytest.fixture
def server(shared: Server) -> Server:
    return with_new_account(shared)


def client(server: Server) -> httpx.Client:
    return httpx.Client(base_url=server.url, auth=(server.account_sid, server.auth_token))


def test_forwarded_headers_from_an_untrusted_client_are_ignored(server: Server) -> None:
    with client(server) as c:
        flow = create_flow(c, definition(trigger()))
        forged = {"X-Forwarded-Host": "attacker.example", "X-Forwarded-Proto": "https"}
        fetched = c.get(f"/v2/Flows/{flow}", headers=forged).json()
    assert "attacker.example" not in fetched["webhook_url"]
    assert fetched["webhook_url"].startswith(server.url + "/v1/Accounts/")
    # A webhook signed for the attacker's URL is not valid for this server.
    path = f"/v1/Accounts/{server.account_sid}/Flows/{flow}"
    params = {"MessageSid": "SM" + "2" * 32, "From": "+15550001111", "Body": "hi"}
    from callboard.api.signatures import sign

    signature = sign("https://attacker.example" + path, params, server.auth_token)
    response = httpx.post(
        server.url + path, data=params, headers={"X-Twilio-Signature": signature, **forged}
    )
    assert response.status_code == 403


def test_forwarded_headers_from_a_trusted_proxy_are_used(tmp_path: Path) -> None:
    with (
        database("sqlite", tmp_path) as url,
        running_server(url, tmp_path, CALLBOARD_TRUSTED_PROXIES="127.0.0.1") as server,
        client(server) as c,
    ):
        flow = create_flow(c, definition(trigger()))
        headers = {"X-Forwarded-Host": "cb.example.com", "X-Forwarded-Proto": "https"}
        fetched = c.get(f"/v2/Flows/{flow}", headers=headers).json()
        assert fetched["webhook_url"].startswith("https://cb.example.com/v1/Accounts/")
        path = f"/v1/Accounts/{server.account_sid}/Flows/{flow}"
        params = {
            "MessageSid": "SM" + "3" * 32,
            "From": "+15550001111",
            "To": "+15559990000",
            "Body": "hi",
        }
        internal = signed_post(server.url + path, params, server.auth_token)
        assert internal.status_code == 200  # the proxy added nothing: the request's own URL
        params["MessageSid"] = "SM" + "4" * 32
        from callboard.api.signatures import sign

        signature = sign("https://cb.example.com" + path, params, server.auth_token)
        ok = httpx.post(
            server.url + path,
            data=params,
            headers={"X-Twilio-Signature": signature, **headers},
        )
        assert ok.status_code == 200, ok.text


def test_cross_site_state_changes_are_refused(server: Server) -> None:
    definition_json = json.dumps(definition(trigger()))
    form = {"FriendlyName": "csrf", "Status": "published", "Definition": definition_json}
    with client(server) as c:
        foreign = c.post("/v2/Flows", data=form, headers={"Origin": "https://evil.example"})
        assert foreign.status_code == 403
        assert foreign.json()["code"] == 20403
        cross = c.post("/v2/Flows", data=form, headers={"Sec-Fetch-Site": "cross-site"})
        assert cross.status_code == 403
        null = c.post("/v2/Flows", data=form, headers={"Origin": "null"})
        assert null.status_code == 403
        assert c.get("/v2/Flows").json()["flows"] == []
        same = c.post(
            "/v2/Flows",
            data=form,
            headers={"Origin": server.url, "Sec-Fetch-Site": "same-origin"},
        )
        assert same.status_code == 201
        plain = c.post("/v2/Flows", data=form)  # twilio-python, curl: neither header
        assert plain.status_code == 201
        read = c.get("/v2/Flows", headers={"Origin": "https://evil.example"})
        assert read.status_code == 200


def test_lone_surrogates_are_400_not_500(server: Server) -> None:
    lone = '{"x": "\\ud800"}'
    with client(server) as c:
        flow = create_flow(c, definition(trigger()))
        bad_definition = json.dumps(definition(trigger())).replace(
            '"hardening"', '"\\udc00 broken"'
        )
        answers = [
            c.post(
                "/v2/Flows",
                data={"FriendlyName": "x", "Status": "draft", "Definition": bad_definition},
            ),
            c.post(
                f"/v2/Flows/{flow}/Executions",
                data={"To": "+15550001111", "From": "+15550002222", "Parameters": lone},
            ),
            c.post(
                "/v1/Sinks",
                data={
                    "Description": "s",
                    "SinkType": "webhook",
                    "SinkConfiguration": '{"destination": "http://h.example/\\ud800"}',
                },
            ),
        ]
    # Parameters that cannot be processed are Twilio's 84004 (issue 13); the others 20001
    for answer, code in zip(answers, (20001, 84004, 20001), strict=True):
        assert answer.status_code == 400, answer.text
        assert answer.json()["code"] == code
    # a proper pair is fine
    with client(server) as c:
        ok = c.post(
            f"/v2/Flows/{flow}/Executions",
            data={"To": "+1555", "From": "+1556", "Parameters": '{"x": "\\ud83d\\ude00"}'},
        )
    assert ok.status_code == 201, ok.text


def test_parameters_are_bounded(server: Server) -> None:
    with client(server) as c:
        flow = create_flow(c, definition(trigger()))
        big = json.dumps({"blob": "x" * (2 * 1024 * 1024)})
        response = c.post(
            f"/v2/Flows/{flow}/Executions",
            data={"To": "+15550001111", "From": "+15550002222", "Parameters": big},
        )
        assert response.status_code == 400
        assert response.json()["code"] == 20001
        assert "Parameters" in response.json()["message"]
        assert c.get(f"/v2/Flows/{flow}/Executions").json()["executions"] == []


def test_the_editor_is_served_with_security_headers(server: Server) -> None:
    for path in ("/", "/docs", "/callboard/v1/Health"):
        response = httpx.get(server.url + path)
        csp = response.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp, path
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("style-src")[0]
        assert response.headers.get("x-frame-options") == "DENY"
        assert response.headers.get("referrer-policy") == "no-referrer"


def _closed_by_server(sock: socket.socket) -> bool:
    try:
        while sock.recv(65536):
            pass
        return True
    except TimeoutError:
        return False


def test_idle_connections_are_closed(server: Server) -> None:
    port = int(server.url.rsplit(":", 1)[1])

    def idle_after_a_response() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(
                f"GET /callboard/v1/Health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
            )
            received = b""
            while b"\r\n\r\n" not in received:
                received += sock.recv(65536)
            assert received.startswith(b"HTTP/1.1 200")
            return _closed_by_server(sock)

    def silent() -> bool:  # connected, never sent a byte
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            return _closed_by_server(sock)

    def half_a_head() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(b"GET /callboard/v1/Health HTTP/1.1\r\nHost: x\r\n")
            return _closed_by_server(sock)

    # at the same time: each waits out a server time-out (5 s keep-alive, 10 s for a head)
    with ThreadPoolExecutor(3) as pool:
        closed = [pool.submit(check) for check in (idle_after_a_response, silent, half_a_head)]
        assert [f.result() for f in closed] == [True, True, True]


def test_an_event_stream_ends_when_its_api_key_is_deleted(server: Server) -> None:
    made = subprocess.run(
        _cli("keys", "create", server.account_sid, "--json"),
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    key = json.loads(made.stdout)
    with client(server) as c:
        flow = create_flow(c, definition(trigger()))
    ended = threading.Event()
    opened = threading.Event()

    def listen() -> None:
        with (
            httpx.Client(auth=(key["sid"], key["secret"]), timeout=httpx.Timeout(30.0)) as s,
            s.stream("GET", f"{server.url}/callboard/v1/Flows/{flow}/Events/Stream") as stream,
        ):
            assert stream.status_code == 200
            opened.set()
            for _ in stream.iter_bytes():
                pass
        ended.set()

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    assert opened.wait(30)
    time.sleep(1.5)
    assert not ended.is_set()  # open while the key is valid
    deleted = subprocess.run(
        _cli("keys", "delete", server.account_sid, key["sid"]),
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert deleted.returncode == 0, deleted.stderr
    assert ended.wait(10), "the stream stayed open after its API key was deleted"
