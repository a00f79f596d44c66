from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from callboard.contract.io import EffectResult, HttpRequest, InboundMessage, SendMessage
from callboard.widgets import registry
from tests.widgets.kit import CONTACT, Harness, set_vars, trigger, w

FORM = "application/x-www-form-urlencoded;charset=utf-8"
JSON_TYPE = "application/json;charset=utf-8"


def http_flow(**props: Any) -> Harness:
    states = [
        trigger("call"),
        w("call", "make-http-request", {"success": "ok", "failed": "ko"}, **props),
        set_vars("ok", outcome="success"),
        set_vars("ko", outcome="failed"),
    ]
    return Harness(states)


def request_for(**props: Any) -> HttpRequest:
    h = http_flow(**props)
    h.start(parameters={"name": "Ann", "id": "42"})
    req: HttpRequest = h.effect(HttpRequest)
    return req


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    ("props", "method", "url", "headers", "body"),
    [
        pytest.param(
            {"url": "https://api.example.com/users"},
            "GET",
            "https://api.example.com/users",
            {},
            None,
            id="defaults-get",
        ),
        pytest.param(
            {
                "method": "GET",
                "content_type": FORM,
                "url": "https://api.example.com/users/{{flow.data.id}}?v=2",
                "parameters": [
                    {"key": "who", "value": "{{contact.channel.address}}"},
                    {"key": "q", "value": "a b&c"},
                ],
                "body": "ignored for GET",
            },
            "GET",
            "https://api.example.com/users/42?v=2&who=%2B15551230001&q=a+b%26c",
            {},
            None,
            id="get-params-query-string",
        ),
        pytest.param(
            {
                "method": "POST",
                "content_type": FORM,
                "url": "https://api.example.com/form",
                "parameters": [
                    {"key": "name", "value": "{{flow.data.name}}"},
                    {"key": "n", "value": "1"},
                ],
            },
            "POST",
            "https://api.example.com/form",
            {"Content-Type": FORM},
            "name=Ann&n=1",
            id="post-form",
        ),
        pytest.param(
            {
                "method": "POST",
                "content_type": "application/x-www-form-urlencoded",
                "url": "https://api.example.com/form",
                "body": "raw={{flow.data.name}}",
            },
            "POST",
            "https://api.example.com/form",
            {"Content-Type": "application/x-www-form-urlencoded"},
            "raw=Ann",
            id="post-form-without-parameters-sends-body",
        ),
        pytest.param(
            {
                "method": "POST",
                "content_type": JSON_TYPE,
                "url": "https://api.example.com/json",
                "body": '{\n "name": "{{flow.data.name}}",\n'
                ' "to": "{{contact.channel.address}}"\n}',
            },
            "POST",
            "https://api.example.com/json",
            {"Content-Type": JSON_TYPE},
            '{\n "name": "Ann",\n "to": "' + CONTACT + '"\n}',
            id="post-json",
        ),
        pytest.param(
            {
                "method": "POST",
                "content_type": "application/json",
                "url": "https://api.example.com/json",
                "body": "{}",
                "parameters": [{"key": "k", "value": "v"}],
            },
            "POST",
            "https://api.example.com/json?k=v",
            {"Content-Type": "application/json"},
            "{}",
            id="post-json-parameters-in-query",
        ),
        pytest.param(
            {"url": "https://bob:s%3Dcret@api.example.com:8443/private"},
            "GET",
            "https://api.example.com:8443/private",
            {"Authorization": basic("bob", "s=cret")},
            None,
            id="basic-auth-in-url",
        ),
        pytest.param(
            {"method": "post", "url": "https://token@api.example.com/x", "body": "b"},
            "POST",
            "https://api.example.com/x",
            {
                "Authorization": basic("token", ""),
                "Content-Type": "application/x-www-form-urlencoded",
            },
            "b",
            id="user-only-and-lowercase-method",
        ),
    ],
)
def test_request(
    props: dict[str, Any], method: str, url: str, headers: dict[str, str], body: str | None
) -> None:
    req = request_for(**props)
    assert (req.method, req.url, req.headers, req.body) == (method, url, headers, body)
    assert (req.timeout, req.max_bytes, req.purpose, req.twilio_auth) == (
        10.0,
        65536,
        "http",
        False,
    )


def test_twilio_auth_on_a_twilio_url() -> None:
    req = request_for(
        url="https://user:pw@verify.twilio.com/v2/Services", add_twilio_auth=True, method="POST"
    )
    assert req.twilio_auth
    assert req.url == "https://verify.twilio.com/v2/Services"
    assert "Authorization" not in req.headers  # the runtime signs it


@pytest.mark.parametrize(
    "props",
    [
        pytest.param({"url": "{{flow.data.missing}}"}, id="empty-after-liquid"),
        pytest.param({"url": "not a url"}, id="no-scheme"),
        pytest.param({"url": "ftp://files.example.com/x"}, id="ftp"),
        pytest.param({"url": "https://"}, id="no-host"),
        pytest.param({"url": "https://host:99999/"}, id="bad-port"),
        pytest.param({"url": "https://ex ample.com/"}, id="space"),
        pytest.param({"url": "https://[::1/"}, id="bad-ipv6"),
        pytest.param({"url": "https://{{flow.data.name}"}, id="liquid-error"),
        pytest.param({"url": "https://a.example/", "method": "PUT"}, id="method"),
        pytest.param(
            {"url": "https://a.example/", "parameters": [{"key": "method", "value": "x"}]},
            id="reserved-parameter",
        ),
        pytest.param(
            {"url": "https://evil.example/twilio.com", "add_twilio_auth": True},
            id="twilio-auth-elsewhere",
        ),
        pytest.param(
            {"url": "https://api.twilio.com.evil.example/", "add_twilio_auth": True},
            id="twilio-auth-lookalike",
        ),
    ],
)
def test_not_sent_fails_with_81014(props: dict[str, Any]) -> None:
    h = http_flow(**props)
    result = h.start(parameters={"name": "Ann"})
    assert not [e for e in result.effects if isinstance(e, HttpRequest)]
    assert ("call", "failed", "ko") in h.path
    assert 81014 in h.codes
    assert "call" not in h.context["widgets"]


JSON_OBJECT = {"id": "1001", "items": ["mug"], "nested": {"a": 1}}


@pytest.mark.parametrize(
    ("data", "event", "variables", "warned"),
    [
        pytest.param(
            {
                "status_code": 200,
                "content_type": "application/json",
                "body": json.dumps(JSON_OBJECT),
            },
            "success",
            {
                "status_code": 200,
                "content_type": "application/json",
                "body": json.dumps(JSON_OBJECT),
                "parsed": JSON_OBJECT,
            },
            False,
            id="200-json-object",
        ),
        pytest.param(
            {"status_code": 201, "content_type": "application/json; charset=utf-8", "body": "[1]"},
            "success",
            {"status_code": 201, "content_type": "application/json; charset=utf-8", "body": "[1]"},
            False,
            id="json-array-not-parsed",
        ),
        pytest.param(
            {"status_code": 200, "content_type": "text/plain", "body": '{"a": 1}'},
            "success",
            {"status_code": 200, "content_type": "text/plain", "body": '{"a": 1}'},
            False,
            id="object-but-not-json-type",
        ),
        pytest.param(
            {"status_code": 204, "content_type": "application/json", "body": ""},
            "success",
            {"status_code": 204, "content_type": "application/json", "body": ""},
            False,
            id="204-empty",
        ),
        pytest.param(
            {"status_code": 200, "content_type": "application/problem+json", "body": '{"a":1}'},
            "success",
            {
                "status_code": 200,
                "content_type": "application/problem+json",
                "body": '{"a":1}',
                "parsed": {"a": 1},
            },
            False,
            id="plus-json",
        ),
        pytest.param(
            {"status_code": 404, "content_type": "application/json", "body": '{"error": "no"}'},
            "failed",
            {
                "status_code": 404,
                "content_type": "application/json",
                "body": '{"error": "no"}',
                "parsed": {"error": "no"},
            },
            True,
            id="404-same-keys",
        ),
        pytest.param(
            {"status_code": 302, "content_type": "text/html", "body": "moved"},
            "failed",
            {"status_code": 302, "content_type": "text/html", "body": "moved"},
            True,
            id="3xx-fails",
        ),
        pytest.param(
            {"status_code": 500, "content_type": "application/json", "body": "{oops"},
            "failed",
            {"status_code": 500, "content_type": "application/json", "body": "{oops"},
            True,
            id="500-invalid-json",
        ),
    ],
)
def test_response(
    data: dict[str, Any], event: str, variables: dict[str, Any], warned: bool
) -> None:
    h = http_flow(url="https://api.example.com/x")
    h.start()
    req = h.effect(HttpRequest)
    result = h.feed(EffectResult(req.token, True, {**data, "headers": {"x-a": "1"}}))
    assert ("call", event, "ok" if event == "success" else "ko") in h.path
    assert h.context["widgets"]["call"] == variables
    assert (81016 in [x.code for x in result.warnings]) is warned


def test_network_failure_sets_nothing_and_keeps_previous_variables() -> None:
    states = [
        trigger("call"),
        w(
            "call",
            "make-http-request",
            {"success": "ask", "failed": "ask"},
            url="https://a.example/",
        ),
        w("ask", "send-and-wait-for-reply", {"incomingMessage": "call"}, body="again?"),
    ]
    h = Harness(states)
    h.start()
    first = {"status_code": 200, "content_type": "application/json", "body": '{"n": 1}'}
    h.feed(EffectResult(h.effect(HttpRequest).token, True, first))
    h.feed(EffectResult(h.effect(SendMessage).token, True, {"Sid": "SM1"}))
    h.feed(InboundMessage({"Body": "yes"}))
    result = h.feed(
        EffectResult(h.effect(HttpRequest).token, False, {"error": "timed out after 10 s"})
    )
    assert h.path[-1] == ("call", "failed", "ask")
    assert h.context["widgets"]["call"] == {**first, "parsed": {"n": 1}}
    assert [x.code for x in result.warnings] == [81016]
    assert "timed out" in result.warnings[0].message


def test_other_events_are_not_accepted_while_waiting() -> None:
    h = http_flow(url="https://a.example/")
    h.start()
    assert h.state is not None
    before = h.state.to_json()
    result = h.feed(InboundMessage({"Body": "hi"}))
    assert not result.accepted
    assert [x.code for x in result.warnings] == [81002]
    assert h.state.to_json() == before


def test_schema() -> None:
    widget = registry.get("make-http-request")
    assert widget is not None
    assert [(e.name, e.label) for e in widget.events] == [
        ("success", "Success"),
        ("failed", "Fail"),
    ]
    defaults = {p.name: p.default for p in widget.props}
    assert defaults["method"] == "GET"
    assert defaults["content_type"] == "application/x-www-form-urlencoded"
    assert set(widget.variables) == {"body", "content_type", "status_code", "parsed"}
