"""The sinks for real: webhooks to a local HTTP receiver (signature checked with
twilio-python's validator, Basic auth, batching, failures) and Redis Streams against
the Redis server on this machine."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from twilio.request_validator import RequestValidator

from callboard.events.envelope import cloud_event
from callboard.events.sinks import (
    DeliveryError,
    RedisStreamSender,
    WebhookSender,
    check_configuration,
    sign,
    signed_url,
)
from callboard.runtime.records import InvalidParameter
from tests.events.conftest import REDIS_URL, Receiver, redis_or_skip

TOKEN = "0123456789abcdef0123456789abcdef"


def sample(n: int) -> list[str]:
    from datetime import UTC, datetime

    when = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    return [
        json.dumps(
            cloud_event("com.twilio.studio.flow.step.ended", "/x", {"n": i, "é": "ü"}, when),
            ensure_ascii=False,
        )
        for i in range(n)
    ]


def webhook(receiver: Receiver, client: httpx.Client, **config: Any) -> WebhookSender:
    conf = check_configuration("webhook", {"destination": receiver.url + "/hook?x=1", **config})
    return WebhookSender(conf, TOKEN, client)


@pytest.fixture
def client() -> Any:
    with httpx.Client() as c:
        yield c


def test_webhook_requests_validate_with_twilio_request_validator(
    receiver: Receiver, client: httpx.Client
) -> None:
    webhook(receiver, client, batch_events=True).send(sample(3))
    [req] = receiver.requests
    url = receiver.url + req.path
    assert "bodySHA256=" in req.path and req.path.startswith("/hook?x=1&")
    validator = RequestValidator(TOKEN)
    body = req.body.decode()
    assert validator.validate(url, body, req.headers["X-Twilio-Signature"])
    assert not RequestValidator("f" * 32).validate(url, body, req.headers["X-Twilio-Signature"])
    assert "ü" in body
    tampered = body.replace('"n": 2', '"n": 3')
    assert not validator.validate(url, tampered, req.headers["X-Twilio-Signature"])
    assert req.headers["Content-Type"].startswith("application/json")
    assert [e["data"]["n"] for e in json.loads(body)] == [0, 1, 2]


@pytest.mark.parametrize(("batch", "requests"), [(True, 1), (False, 3)])
def test_batch_events_decides_how_many_events_one_request_carries(
    receiver: Receiver, client: httpx.Client, batch: bool, requests: int
) -> None:
    sender = webhook(receiver, client, batch_events=batch)
    events = sample(3)
    for start in range(0, len(events), sender.batch):
        sender.send(events[start : start + sender.batch])
    assert len(receiver.requests) == requests
    assert all(isinstance(json.loads(r.body), list) for r in receiver.requests)
    assert [e["data"]["n"] for e in receiver.events()] == [0, 1, 2]


def test_credentials_in_the_destination_become_basic_auth(
    receiver: Receiver, client: httpx.Client
) -> None:
    dest = receiver.url.replace("http://", "http://bob:s%40cret@") + "/hook"
    sender = WebhookSender(check_configuration("webhook", {"destination": dest}), TOKEN, client)
    sender.send(sample(1))
    [req] = receiver.requests
    assert req.headers["Authorization"] == "Basic " + base64.b64encode(b"bob:s@cret").decode()
    # The signed URL is the one requested: without the credentials.
    assert RequestValidator(TOKEN).validate(
        receiver.url + req.path, req.body.decode(), req.headers["X-Twilio-Signature"]
    )


@pytest.mark.parametrize("status", [301, 400, 404, 500, 503])
def test_any_answer_but_2xx_is_a_failure(
    receiver: Receiver, client: httpx.Client, status: int
) -> None:
    receiver.status = status
    with pytest.raises(DeliveryError) as info:
        webhook(receiver, client).send(sample(1))
    assert info.value.status_code == status


def test_an_unreachable_receiver_is_a_failure(client: httpx.Client) -> None:
    from tests.e2e.server import free_port

    conf = check_configuration("webhook", {"destination": f"http://127.0.0.1:{free_port()}/"})
    with pytest.raises(DeliveryError, match="Connect"):
        WebhookSender(conf, TOKEN, client).send(sample(1))


def test_signature_is_over_the_url_with_the_body_hash() -> None:
    import hashlib

    body = b'[{"a":1}]'
    url = signed_url("https://example.com/hook", body)
    assert url == "https://example.com/hook?bodySHA256=" + hashlib.sha256(body).hexdigest()
    assert RequestValidator(TOKEN).validate(url, body.decode(), sign(TOKEN, url))
    assert not RequestValidator(TOKEN).validate(url, '[{"a":2}]', sign(TOKEN, url))


@pytest.mark.parametrize(
    ("sink_type", "config", "message"),
    [
        ("webhook", {}, "destination"),
        ("webhook", {"destination": "ftp://x"}, "http"),
        ("webhook", {"destination": "http://x", "method": "PUT"}, "method"),
        ("webhook", {"destination": "http://x", "batch_events": "yes"}, "batch_events"),
        ("webhook", [], "JSON object"),
        ("redis-stream", {"url": "http://x"}, "redis://"),
        ("redis-stream", {"url": "redis://x", "maxlen": 0}, "maxlen"),
        ("redis-stream", {"url": "redis://x", "stream": ""}, "stream"),
        ("kinesis", {"arn": "x"}, "not supported"),
        ("carrier-pigeon", {}, "SinkType"),
    ],
)
def test_bad_configurations_are_refused_with_a_clear_message(
    sink_type: str, config: Any, message: str
) -> None:
    with pytest.raises(InvalidParameter, match=message):
        check_configuration(sink_type, config)


def test_webhook_configuration_defaults() -> None:
    conf = check_configuration("webhook", {"destination": " https://x.test/h ", "method": "get"})
    assert conf == {"destination": "https://x.test/h", "method": "GET", "batch_events": False}


def test_redis_stream_sink_appends_every_event_to_the_stream() -> None:
    redis = redis_or_skip()
    stream = "callboard-test-" + __import__("secrets").token_hex(4)
    try:
        conf = check_configuration(
            "redis-stream", {"url": REDIS_URL, "stream": stream, "maxlen": 1000}
        )
        sender = RedisStreamSender(conf)
        events = sample(5)
        sender.send(events)
        sender.close()
        entries = redis.xrange(stream)
        assert len(entries) == 5
        got = [json.loads(fields[b"event"]) for _, fields in entries]
        assert got == [json.loads(e) for e in events]
        assert entries[0][1][b"type"] == b"com.twilio.studio.flow.step.ended"
        assert entries[0][1][b"id"].decode() == got[0]["id"]
    finally:
        redis.delete(stream)
        redis.close()


def test_an_unreachable_redis_is_a_delivery_failure() -> None:
    from tests.e2e.server import free_port

    conf = check_configuration("redis-stream", {"url": f"redis://127.0.0.1:{free_port()}/0"})
    sender = RedisStreamSender(conf)
    with pytest.raises(DeliveryError, match="Redis"):
        sender.send(sample(1))
