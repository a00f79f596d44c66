"""The in-memory runner: effects performed, timers, HTTP (mocked and via httpx)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from callboard.contract.io import HttpRequest, SendMessage
from callboard.engine import Bundle, FlowRef
from callboard.engine.env import DEFAULT_FAKE_TIME, FakeEnv
from callboard.flow.model import FlowDefinition
from callboard.runtime.local import (
    LocalRunner,
    MockError,
    MockResponse,
    MockTable,
    http_result,
    message_resource,
)
from callboard.widgets.registry import WIDGETS
from tests.runtime.fake_widgets import flow, install, state


@pytest.fixture(autouse=True)
def _fake_widgets(monkeypatch: pytest.MonkeyPatch) -> None:
    install(monkeypatch)


def _runner(definition: dict[str, Any], **kwargs: Any) -> tuple[LocalRunner, list[SendMessage]]:
    sent: list[SendMessage] = []
    bundle = Bundle(
        FlowRef("FW" + "1" * 32, 1, FlowDefinition.from_json(definition)), widgets=WIDGETS
    )
    kwargs.setdefault("mocks", MockTable())
    runner = LocalRunner(bundle, FakeEnv(), on_message=sent.append, **kwargs)
    return runner, sent


SEND = state(
    "hi", "send-message", {"body": "Hi {{trigger.message.Body}}", "media_url": "https://m/1.png"}
)


def test_send_message_is_answered_with_a_message_resource() -> None:
    runner, sent = _runner(flow(SEND))
    runner.message("there")
    assert [m.body for m in sent] == ["Hi there"]
    assert runner.state is not None and runner.state.status == "ended"
    outbound = runner.state.context["widgets"]["hi"]["outbound"]
    assert outbound["Sid"].startswith("SM") and len(outbound["Sid"]) == 34
    assert outbound["Status"] == "sent"
    assert (outbound["To"], outbound["From"], outbound["Body"]) == (
        "+15550001111",
        "+15550002222",
        "Hi there",
    )
    assert (outbound["NumMedia"], outbound["NumSegments"]) == ("1", "1")
    assert [(s.transitioned_from, s.name, s.transitioned_to) for s in runner.steps] == [
        ("Trigger", "incomingMessage", "hi"),
        ("hi", "sent", "Ended"),
    ]


def test_inbound_message_looks_like_a_twilio_webhook() -> None:
    runner, _ = _runner(flow(state("ask", "test-ask")), contact="+4411", flow_address="+4422")
    runner.message("hello")
    assert runner.state is not None
    trigger = runner.state.context["trigger"]["message"]
    assert trigger["Body"] == "hello"
    assert (trigger["From"], trigger["To"]) == ("+4411", "+4422")
    assert trigger["MessageSid"].startswith("SM") and trigger["SmsSid"] == trigger["MessageSid"]
    assert trigger["AccountSid"].startswith("AC")
    assert trigger["NumMedia"] == "0"
    assert runner.state.context["contact"]["channel"]["address"] == "+4411"
    assert runner.state.context["flow"]["channel"]["address"] == "+4422"


def test_reply_goes_to_the_waiting_widget_and_cancels_its_timer() -> None:
    runner, _ = _runner(flow(state("ask", "test-ask", reply="hi")))
    runner.message("start")
    assert runner.waiting_for == "reply"
    assert len(runner.timers) == 1
    runner.message("answer")
    assert runner.timers == []
    assert runner.state is not None and runner.state.status == "ended"
    assert runner.state.context["widgets"]["ask"]["inbound"]["Body"] == "answer"


def test_fire_timeout_moves_the_fake_clock_and_fires_once() -> None:
    runner, sent = _runner(flow(state("ask", "test-ask", {"seconds": 90}, timeout="hi"), SEND))
    runner.message("start")
    assert runner.fire_timeout() is True
    assert runner.env.now() == DEFAULT_FAKE_TIME + timedelta(seconds=90)
    assert runner.state is not None
    assert (
        runner.state.context["widgets"]["ask"]["at"]
        == (DEFAULT_FAKE_TIME + timedelta(seconds=90)).isoformat()
    )
    assert [m.body for m in sent] == ["Hi start"]
    assert runner.fire_timeout() is False


def test_next_message_after_the_end_starts_a_new_execution() -> None:
    runner, sent = _runner(flow(SEND))
    runner.message("one")
    first = runner.state
    runner.message("two")
    assert runner.executions == 2
    assert runner.state is not first
    assert [m.body for m in sent] == ["Hi one", "Hi two"]


def test_start_request_sets_flow_data_and_ends_the_running_execution() -> None:
    body = "{{flow.data.name}}/{{trigger.request.parameters.name}}"
    runner, sent = _runner(
        flow(state("ask", "test-ask", reply="hi"), state("hi", "send-message", {"body": body}))
    )
    runner.message("x")
    assert runner.active
    runner.start_request({"name": "Zed"})
    runner.message("reply")
    assert [m.body for m in sent] == ["Zed/Zed"]
    assert runner.executions == 2


def test_end_from_outside() -> None:
    runner, _ = _runner(flow(state("ask", "test-ask")))
    assert runner.end() == []
    runner.message("x")
    runner.end()
    assert runner.state is not None and runner.state.ended_reason == "ended"
    assert runner.waiting_for is None and runner.timers == []


@pytest.mark.parametrize(("props", "needle"), [({}, "TwiML"), ({"call": True}, "place a call")])
def test_voice_effects_are_refused_with_a_notice(props: dict[str, Any], needle: str) -> None:
    notices: list[str] = []
    runner, _ = _runner(flow(state("v", "test-voice", props)), on_notice=notices.append)
    runner.message("x")
    assert runner.state is not None and runner.state.status == "ended"
    assert runner.state.ended_reason == "failed"
    assert len(notices) == 1 and needle in notices[0] and "'v'" in notices[0]


def test_message_to_a_widget_not_waiting_for_one_is_an_81002_warning() -> None:
    warnings: list[Any] = []
    runner, _ = _runner(flow(state("h", "test-hold")), on_warning=warnings.append)
    runner.message("x")
    assert runner.waiting_for == "nothing"
    before = runner.state.to_json() if runner.state else None
    runner.message("y")
    assert [w.code for w in warnings] == [81002]
    assert runner.state is not None and runner.state.to_json() == before
    assert runner.executions == 1


# ------------------------------------------------------------------------ HTTP


def _req(url: str = "https://api.test/x", **kw: Any) -> HttpRequest:
    return HttpRequest("t1", kw.pop("method", "GET"), url, **kw)


def test_http_via_transport_sends_the_request_and_reads_the_response() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"ok": True}, headers={"X-Thing": "y"})

    with httpx.Client(transport=httpx.MockTransport(handler), follow_redirects=True) as client:
        result = http_result(
            _req(method="post", headers={"Content-Type": "application/json"}, body='{"a":1}'),
            client=client,
        )
    assert result.ok and result.token == "t1"
    assert result.data["status_code"] == 201
    assert result.data["content_type"] == "application/json"
    assert json.loads(result.data["body"]) == {"ok": True}
    assert result.data["headers"]["x-thing"] == "y"
    (request,) = seen
    assert request.method == "POST" and request.content == b'{"a":1}'
    assert request.headers["content-type"] == "application/json"


def test_http_redirects_are_followed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/old":
            return httpx.Response(302, headers={"Location": "https://api.test/new"})
        return httpx.Response(200, text="moved here")

    with httpx.Client(transport=httpx.MockTransport(handler), follow_redirects=True) as client:
        result = http_result(_req("https://api.test/old"), client=client)
    assert result.ok and result.data["status_code"] == 200 and result.data["body"] == "moved here"


def test_http_size_cap_is_enforced_while_streaming() -> None:
    produced = 0

    def endless() -> Iterator[bytes]:
        nonlocal produced
        while produced < 10_000:
            produced += 1
            yield b"x" * 1024

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=_Stream(endless()))

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        result = http_result(_req(max_bytes=65536), client=client)
    assert not result.ok
    assert "larger than 65536 bytes" in result.data["error"]
    assert produced < 100  # stopped reading shortly after the cap


class _Stream(httpx.SyncByteStream):
    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        return self.chunks


@pytest.mark.parametrize(
    ("exc", "needle"),
    [
        (httpx.ReadTimeout("slow"), "timed out after 10 s"),
        (httpx.ConnectError("refused"), "ConnectError: refused"),
    ],
)
def test_http_network_errors_are_failed_results(exc: Exception, needle: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        result = http_result(_req(), client=client)
    assert not result.ok and needle in result.data["error"]


@pytest.mark.parametrize("url", ["", "not a url", "ftp://x/y", "https://"])
def test_http_bad_urls_are_failed_results(url: str) -> None:
    with httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200))) as client:
        result = http_result(_req(url), client=client)
    assert not result.ok and result.data["error"]


def test_runner_uses_the_injected_transport() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json={"n": 3}))
    runner, _ = _runner(
        flow(state("f", "test-fetch", {"url": "https://api.test/{{trigger.message.Body}}"})),
        mocks=None,
        transport=transport,
    )
    with runner:
        runner.message("abc")
    assert runner.state is not None
    assert runner.state.context["widgets"]["f"]["status_code"] == 200
    assert runner.steps[-1].name == "ok"


# ------------------------------------------------------------------------ mocks

TABLE = MockTable.from_json(
    {
        "POST https://api.test/a": {"status": 201, "body": {"via": "post"}},
        "https://api.test/a": {"status": 200, "body": "plain"},
        "https://api.test/pre*": {"status": 202, "body": "prefix"},
        "https://api.test/prefix/long*": {"status": 203, "body": "longer prefix"},
    }
)


@pytest.mark.parametrize(
    ("method", "url", "status", "content_type"),
    [
        ("POST", "https://api.test/a", 201, "application/json"),
        ("GET", "https://api.test/a", 200, "text/plain"),
        ("get", "https://api.test/a?x=1", 200, "text/plain"),
        ("GET", "https://api.test/prefix/x", 202, "text/plain"),
        ("GET", "https://api.test/prefix/longer", 203, "text/plain"),
        ("GET", "https://api.test/b", None, None),
    ],
)
def test_mock_lookup(method: str, url: str, status: int | None, content_type: str | None) -> None:
    result = http_result(_req(url, method=method), mocks=TABLE)
    if status is None:
        assert not result.ok and "no mock for GET https://api.test/b" in result.data["error"]
    else:
        assert result.ok
        assert result.data["status_code"] == status
        assert result.data["content_type"] == content_type


def test_mock_body_over_the_cap_fails() -> None:
    table = MockTable({"https://a/": MockResponse(body="x" * 100)})
    assert not http_result(_req("https://a/", max_bytes=50), mocks=table).ok


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ([], "expected a JSON object"),
        ({"https://a": "x"}, "expected an object"),
        ({"https://a": {"status": "200"}}, "status must be an integer"),
        ({"https://a": {"status": 99}}, "status must be an integer"),
        ({"https://a": {"content_type": 3}}, "content_type must be a string"),
        ({"https://a": {"headers": {"a": 1}}}, "headers must be"),
        ({"https://a": {"bogus": 1}}, "unknown field(s) bogus"),
        ({"": {}}, "the key must be a URL"),
    ],
)
def test_mock_table_rejects_bad_entries(data: Any, needle: str) -> None:
    with pytest.raises(MockError, match=None) as info:
        MockTable.from_json(data, "m.json")
    assert needle in str(info.value) and str(info.value).startswith("m.json")


def test_message_resource_segments_and_service() -> None:
    effect = SendMessage("t", "+1", "MG" + "0" * 32, "é" * 71)
    data = message_resource(effect, "SM1", "AC1", DEFAULT_FAKE_TIME)
    assert data["NumSegments"] == "2"
    assert data["MessagingServiceSid"] == effect.from_
    assert data["DateCreated"].endswith("GMT")
