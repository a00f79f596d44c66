from __future__ import annotations

import json
from typing import Any

import pytest

from callboard.contract.io import EffectResult, HttpRequest, InboundMessage, SendMessage
from callboard.widgets import registry
from tests.widgets.kit import Harness, set_vars, trigger, w

URL = "https://jokes-1234.twil.io/jokes/next"


def fn_flow(**props: Any) -> Harness:
    props.setdefault("url", URL)
    states = [
        trigger("fn"),
        w("fn", "run-function", {"success": "ok", "fail": "ko"}, **props),
        set_vars("ok", outcome="success"),
        set_vars("ko", outcome="fail"),
    ]
    return Harness(states)


def answer(status: int, body: Any, content_type: str = "application/json") -> dict[str, Any]:
    text = body if isinstance(body, str) else json.dumps(body)
    return {"status_code": status, "content_type": content_type, "body": text, "headers": {}}


def test_posts_parameters_as_a_form() -> None:
    h = fn_flow(
        url="https://{{flow.data.host}}/jokes/rate",
        service_sid="ZS1",
        environment_sid="ZE1",
        function_sid="ZH1",
        parameters=[
            {"key": "JokeId", "value": "{{flow.data.id}}"},
            {"key": "Rating", "value": "5 stars"},
            {"key": "data", "value": "{{flow.data.obj}}"},
        ],
    )
    h.start(parameters={"host": "jokes-1234.twil.io", "id": "7", "obj": {"a": 1}})
    req = h.effect(HttpRequest)
    assert (req.method, req.url) == ("POST", "https://jokes-1234.twil.io/jokes/rate")
    assert req.headers == {"Content-Type": "application/x-www-form-urlencoded"}
    assert req.body == "JokeId=7&Rating=5+stars&data=%7B%22a%22%3A1%7D"
    assert (req.purpose, req.timeout, req.max_bytes) == ("function", 10.0, 65536)


def test_no_parameters_posts_an_empty_form() -> None:
    h = fn_flow()
    h.start()
    assert h.effect(HttpRequest).body == ""


@pytest.mark.parametrize(
    ("status", "event", "warned"),
    [
        (200, "success", False),
        (204, "success", False),
        (302, "success", False),
        (400, "fail", True),
        (404, "fail", True),
        (500, "fail", True),
    ],
)
def test_status_decides(status: int, event: str, warned: bool) -> None:
    h = fn_flow()
    h.start()
    result = h.feed(EffectResult(h.effect(HttpRequest).token, True, answer(status, {"x": 1})))
    assert ("fn", event, "ok" if event == "success" else "ko") in h.path
    assert h.context["widgets"]["fn"] == {
        "status_code": status,
        "content_type": "application/json",
        "body": '{"x": 1}',
        "parsed": {"x": 1},
    }
    assert (81010 in [x.code for x in result.warnings]) is warned


def test_concurrency_header_is_kept() -> None:
    h = fn_flow()
    h.start()
    data = answer(200, "ok", "text/plain")
    data["headers"] = {"X-Twilio-Function-Concurrency": "3", "x-other": "no"}
    h.feed(EffectResult(h.effect(HttpRequest).token, True, data))
    assert h.context["widgets"]["fn"]["headers"] == {"x-twilio-function-concurrency": "3"}
    assert "parsed" not in h.context["widgets"]["fn"]


@pytest.mark.parametrize(
    ("props", "code"),
    [
        ({"url": ""}, 81010),
        ({"url": "{{flow.data.nothing}}"}, 81010),
        ({"url": "/relative"}, 81010),
    ],
)
def test_empty_or_invalid_url_fails_without_calling(props: dict[str, Any], code: int) -> None:
    h = fn_flow(**props)
    h.start()
    assert not [e for e in h.effects if isinstance(e, HttpRequest)]
    assert ("fn", "fail", "ko") in h.path
    assert code in h.codes


def test_no_answer_fails_with_81017_and_sets_nothing() -> None:
    h = fn_flow()
    h.start()
    result = h.feed(EffectResult(h.effect(HttpRequest).token, False, {"error": "timed out"}))
    assert ("fn", "fail", "ko") in h.path
    assert "fn" not in h.context["widgets"]
    assert [x.code for x in result.warnings] == [81017]


def looping_flow() -> Harness:
    """fn runs, then asks; every reply runs fn again."""
    states = [
        trigger("fn"),
        w("fn", "run-function", {"success": "ask", "fail": "ask"}, url=URL),
        w("ask", "send-and-wait-for-reply", {"incomingMessage": "fn"}, body="again?"),
    ]
    return Harness(states)


def run_again(h: Harness, data: dict[str, Any]) -> dict[str, Any]:
    h.feed(EffectResult(h.effect(HttpRequest).token, True, data))
    variables: dict[str, Any] = h.context["widgets"]["fn"]
    h.feed(EffectResult(h.effect(SendMessage).token, True, {"Sid": "SM1"}))
    h.feed(InboundMessage({"Body": "yes"}))
    return variables


def test_parsed_is_deep_merged_across_runs() -> None:
    h = looping_flow()
    h.start()
    first = run_again(h, answer(200, {"a": {"x": 1, "y": 2}, "list": [1, 2], "keep": "k"}))
    assert first["parsed"] == {"a": {"x": 1, "y": 2}, "list": [1, 2], "keep": "k"}
    second = run_again(h, answer(200, {"a": {"y": 3, "z": {"deep": True}}, "list": [3]}))
    assert second["parsed"] == {
        "a": {"x": 1, "y": 3, "z": {"deep": True}},
        "list": [3],  # arrays are replaced, not merged
        "keep": "k",
    }
    third = run_again(h, answer(200, "plain text", "text/plain"))
    assert third["body"] == "plain text" and third["content_type"] == "text/plain"
    assert third["parsed"] == second["parsed"]  # a non-JSON answer leaves parsed alone
    fourth = run_again(h, answer(500, {"keep": "changed"}))
    assert fourth["status_code"] == 500
    assert fourth["parsed"]["keep"] == "changed"
    assert h.path.count(("fn", "success", "ask")) == 3
    assert h.path.count(("fn", "fail", "ask")) == 1


def test_first_array_answer_sets_no_parsed() -> None:
    h = looping_flow()
    h.start()
    assert "parsed" not in run_again(h, answer(200, [1, 2]))


def test_schema() -> None:
    widget = registry.get("run-function")
    assert widget is not None
    assert [(e.name, e.label) for e in widget.events] == [("success", "Success"), ("fail", "Fail")]
    url = widget.prop_spec("url")
    assert url is not None and url.required
    assert {"service_sid", "environment_sid", "function_sid", "parameters"} <= {
        p.name for p in widget.props
    }
