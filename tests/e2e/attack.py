"""Helpers for the hardening tests: flows, local receivers, and a Health watcher that
fails the test when ``/callboard/v1/Health`` stops answering within a second."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from callboard.api.signatures import SIGNATURE_HEADER, sign


def trigger(**events: str) -> dict[str, Any]:
    names = [
        "incomingMessage",
        "incomingCall",
        "incomingConversationMessage",
        "incomingRequest",
        "incomingParent",
    ]
    transitions = [{"event": e, **({"next": events[e]} if e in events else {})} for e in names]
    return {"name": "Trigger", "type": "trigger", "transitions": transitions, "properties": {}}


def state(name: str, type_: str, props: dict[str, Any], **events: str | None) -> dict[str, Any]:
    transitions = [{"event": e, **({"next": n} if n else {})} for e, n in events.items()]
    return {"name": name, "type": type_, "transitions": transitions, "properties": props}


def definition(*states: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": "hardening",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": list(states),
    }


def create_flow(client: httpx.Client, flow: dict[str, Any]) -> str:
    response = client.post(
        "/v2/Flows",
        data={"FriendlyName": "hardening", "Status": "published", "Definition": json.dumps(flow)},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["sid"])


def signed_post(
    url: str, params: dict[str, str], token: str, timeout: float = 30
) -> httpx.Response:
    headers = {SIGNATURE_HEADER: sign(url, params, token)}
    return httpx.post(url, data=params, headers=headers, timeout=timeout)


@dataclass
class HealthWatch:
    """Polls Health every 0.1 s, each with a one-second timeout."""

    url: str
    answered: int = 0
    slowest: float = 0.0
    failures: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(timeout=1.0) as client:
            while not self.stop.is_set():
                began = time.monotonic()
                try:
                    response = client.get(f"{self.url}/callboard/v1/Health")
                    self.slowest = max(self.slowest, time.monotonic() - began)
                    if response.status_code == 200:
                        self.answered += 1
                    else:
                        self.failures.append(f"Health answered {response.status_code}")
                except httpx.HTTPError as exc:
                    self.failures.append(f"Health did not answer within 1 s: {exc!r}")
                self.stop.wait(0.1)


@contextmanager
def health_keeps_answering(url: str) -> Iterator[HealthWatch]:
    """Fails when Health did not answer within a second at any time inside the block."""
    watch = HealthWatch(url)
    thread = threading.Thread(target=watch.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while watch.answered == 0 and not watch.failures and time.monotonic() < deadline:
        time.sleep(0.05)  # the watch is running before the attack starts
    try:
        yield watch
    finally:
        watch.stop.set()
        thread.join(5)
    print(f"Health: {watch.answered} answers, slowest {watch.slowest:.3f} s")
    assert not watch.failures, watch.failures[:3]
    assert watch.answered > 0
    last = httpx.get(f"{url}/callboard/v1/Health", timeout=1.0)  # and still answers after
    assert last.status_code == 200


@dataclass
class Receiver:
    url: str
    hits: list[tuple[str, str, bytes]]


@contextmanager
def receiver(
    answer: Callable[[BaseHTTPRequestHandler], None] | None = None, host: str = "127.0.0.1"
) -> Iterator[Receiver]:
    """A local HTTP server recording every request (method, path, body)."""
    hits: list[tuple[str, str, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            hits.append((self.command, self.path, self.rfile.read(length) if length else b""))
            if answer is not None:
                answer(self)
                return
            body = b'{"ok": true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _any

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Receiver(f"http://{host}:{server.server_address[1]}", hits)
    finally:
        server.shutdown()
        server.server_close()


def wait_for(check: Callable[[], Any], seconds: float = 30.0, every: float = 0.2) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            return value
        time.sleep(every)
