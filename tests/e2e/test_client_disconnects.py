"""A client that closes its connection mid-request: a request whose body never fully
came is not run (no execution from a truncated form), and nothing is logged at ERROR
or with a traceback — also for clients that go away while their request runs."""

from __future__ import annotations

import base64
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from tests.e2e.durability import ENDS_AT_ONCE, create_flow
from tests.e2e.server import Server, database, running_server

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with database("sqlite", tmp_path) as url, running_server(url, tmp_path) as s:
        yield s


def _send(server: Server, path: str, body: str, declared: int, *, reset: bool) -> None:
    auth = base64.b64encode(f"{server.account_sid}:{server.auth_token}".encode()).decode()
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as s:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic {auth}\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {declared}\r\n\r\n"
        )
        s.sendall((head + body).encode())
        time.sleep(0.2)
        if reset:  # RST instead of FIN
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")


def test_disconnects_are_quiet_and_truncated_requests_do_not_run(
    server: Server, tmp_path: Path
) -> None:
    with httpx.Client(base_url=server.url, auth=(server.account_sid, server.auth_token)) as c:
        flow = create_flow(c, ENDS_AT_ONCE)
        path = f"/v2/Flows/{flow}/Executions"
        for i, reset in enumerate((False, True)):
            body = urlencode({"To": f"+1555000{i}", "From": "+15559990000"})
            _send(server, path, body, len(body) + 100, reset=reset)  # body cut short
        for i in range(10):  # whole requests, the client gone before the answer
            body = urlencode({"To": f"+1555100{i}", "From": "+15559990000"})
            _send(server, path, body, len(body), reset=bool(i % 2))
        body = json.dumps({"x": 1})
        _send(server, "/v2/Flows", body, len(body) + 50, reset=True)
        time.sleep(1.5)
        listed = c.get(f"{path}?PageSize=100").json()["executions"]
        contacts = {e["contact_channel_address"] for e in listed}
        assert not contacts & {"+15550000", "+15550001"}  # the truncated ones never ran
        assert len(contacts) == 10
        assert c.get("/callboard/v1/Health").status_code == 200
    log = "".join(p.read_text() for p in tmp_path.glob("server-*.log"))
    assert "Traceback" not in log
    assert "ERROR" not in log
