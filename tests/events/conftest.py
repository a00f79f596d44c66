"""Fixtures for the Event Streams tests: the service (SQLite and PostgreSQL via the
shared ``db_url``), the events service and a delivery engine on a fake clock with a
recording sender, and a local HTTP receiver for webhook sinks."""

from __future__ import annotations

import json
import os
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from callboard.api.services import Services
from callboard.events.delivery import DeliveryConfig, EventDelivery
from callboard.events.service import EventStreams
from callboard.events.sinks import DeliveryError
from callboard.runtime.service import Callboard
from tests.runtime.conftest import flow_definition, widget

REDIS_URL = os.environ.get("CALLBOARD_TEST_REDIS", "redis://127.0.0.1:6379/15")


def redis_or_skip() -> Any:
    """A client on the test Redis; skipped when unreachable (a failure under CI=true)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        message = f"Redis at {REDIS_URL} is not reachable: {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: the Redis sink tests must run)")
        pytest.skip(message)
    return client


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class FakeSender:
    """A sink stand-in: records what it got; fails while ``failing`` is set."""

    batch: int = 1
    failing: bool = False
    received: list[dict[str, Any]] = field(default_factory=list)
    calls: int = 0

    def send(self, events: list[str]) -> None:
        self.calls += 1
        if self.failing:
            raise DeliveryError("the receiver answered HTTP 503", 503)
        self.received.extend(json.loads(e) for e in events)

    def close(self) -> None:
        pass


class Senders:
    """One FakeSender per sink SID."""

    def __init__(self) -> None:
        self.by_sink: dict[str, FakeSender] = {}

    def factory(
        self, sink_type: str, config: dict[str, Any], token: str, client: httpx.Client
    ) -> FakeSender:
        key = config.get("destination") or config.get("stream") or ""
        return self.by_sink.setdefault(str(key), FakeSender())

    def __getitem__(self, destination: str) -> FakeSender:
        return self.by_sink.setdefault(destination, FakeSender())


def two_step_flow() -> dict[str, Any]:
    """REST → set-variables → send-message → end (two steps, ends at once)."""
    return flow_definition(
        widget("first", "set-variables", {"variables": [{"key": "x", "value": "1"}]}, next="say"),
        widget("say", "send-message", {"body": "hi"}, sent=None, failed=None),
    )


def ask_definition() -> dict[str, Any]:
    from tests.runtime.conftest import ask_flow

    return ask_flow()


@pytest.fixture
def streams(services: Services) -> EventStreams:
    return services.events


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def senders() -> Senders:
    return Senders()


@pytest.fixture
def delivery(service: Callboard, clock: Clock, senders: Senders) -> Iterator[EventDelivery]:
    engine = EventDelivery(
        service.db,
        config=DeliveryConfig(max_retry_seconds=3600, base_backoff=2, max_backoff=300),
        clock=clock,
        rng=random.Random(7),
        sender_factory=senders.factory,  # type: ignore[arg-type]
    )
    try:
        yield engine
    finally:
        engine.stop()


# ------------------------------------------------------------------------ HTTP receiver


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """A threaded local HTTP server. ``fail_next`` requests answer 503 first."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.fail_next = 0
        self.status = 200
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver.lock:
                    failing = receiver.fail_next > 0
                    if failing:
                        receiver.fail_next -= 1
                    else:
                        receiver.requests.append(
                            Received(self.path, dict(self.headers.items()), body)
                        )
                    status = 503 if failing else receiver.status
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = _handle
            do_GET = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self) -> list[dict[str, Any]]:
        with self.lock:
            bodies = [r.body for r in self.requests]
        out: list[dict[str, Any]] = []
        for body in bodies:
            value = json.loads(body)
            out.extend(value if isinstance(value, list) else [value])
        return out

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    try:
        yield r
    finally:
        r.close()
