from __future__ import annotations

from typing import Any

import pytest

from callboard.contract.io import EffectResult, InboundMessage, SendMessage
from callboard.widgets import registry
from tests.widgets.kit import CONTACT, FLOW_ADDRESS, Harness, set_vars, trigger, w


def send_flow(**props: Any) -> Harness:
    props.setdefault("body", "Hello {{flow.data.name}}")
    states = [
        trigger("say"),
        w("say", "send-message", {"sent": "after_sent", "failed": "after_failed"}, **props),
        set_vars("after_sent", sid="{{widgets.say.outbound.Sid}}"),
        set_vars("after_failed", failed="yes"),
    ]
    return Harness(states)


def sent_effect(**props: Any) -> SendMessage:
    h = send_flow(**props)
    h.start(parameters={"name": "Ann", "to": "+15550000007", "img": "https://m.example/1.jpg"})
    effect: SendMessage = h.effect(SendMessage)
    return effect


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        pytest.param(
            {},
            {"to": CONTACT, "from_": FLOW_ADDRESS, "body": "Hello Ann", "media_urls": ()},
            id="defaults",
        ),
        pytest.param(
            {"to": "{{flow.data.to}}", "from": "MG" + "1" * 32},
            {"to": "+15550000007", "from_": "MG" + "1" * 32},
            id="explicit-to-from",
        ),
        pytest.param(
            {"to": "{{contact.channel.address}}", "from": "{{flow.channel.address}}"},
            {"to": CONTACT, "from_": FLOW_ADDRESS},
            id="export-defaults-written-out",
        ),
        pytest.param(
            {"media_url": "{{flow.data.img}}"}, {"media_urls": ("https://m.example/1.jpg",)}
        ),
        pytest.param(
            {"media_url": " https://m.example/a.png ,https://m.example/b.png, "},
            {"media_urls": ("https://m.example/a.png", "https://m.example/b.png")},
            id="media-list",
        ),
        pytest.param({"media_url": ""}, {"media_urls": ()}, id="no-media"),
        pytest.param(
            {
                "message_type": "content_template",
                "content_sid": "HX" + "2" * 32,
                "content_variables": [{"key": "1", "value": "{{flow.data.name}}"}],
            },
            {
                "message_type": "content_template",
                "content_sid": "HX" + "2" * 32,
                "content_variables": {"1": "Ann"},
            },
            id="content-template",
        ),
        pytest.param({"shorten_urls": True}, {"shorten_urls": True}, id="shorten"),
        pytest.param({"attributes": '{"n": "{{flow.data.name}}"}'}, {"attributes": '{"n": "Ann"}'}),
    ],
)
def test_effect(props: dict[str, Any], expected: dict[str, Any]) -> None:
    effect = sent_effect(**props)
    assert {k: getattr(effect, k) for k in expected} == expected


def test_sent_stores_the_message_resource_and_goes_on() -> None:
    h = send_flow()
    h.start(parameters={"name": "Ann"})
    resource = {"Sid": "SM9", "Status": "queued", "To": CONTACT, "From": FLOW_ADDRESS}
    result = h.feed(EffectResult(h.effect(SendMessage).token, True, resource))
    assert h.path[-2:] == [("say", "sent", "after_sent"), ("after_sent", "next", "Ended")]
    assert h.context["widgets"]["say"] == {"outbound": resource}
    assert h.context["flow"]["variables"]["sid"] == "SM9"
    assert not result.warnings and result.ended


@pytest.mark.parametrize(
    ("data", "stored"),
    [
        (
            {"error": "21610 unsubscribed", "ErrorCode": 21610},
            {"outbound": {"error": "21610 unsubscribed", "ErrorCode": 21610}},
        ),
        ({}, {}),  # an early failure sets nothing
    ],
)
def test_failed(data: dict[str, Any], stored: dict[str, Any]) -> None:
    h = send_flow()
    h.start()
    result = h.feed(EffectResult(h.effect(SendMessage).token, False, data))
    assert ("say", "failed", "after_failed") in h.path
    assert h.context["widgets"]["say"] == stored
    assert [x.code for x in result.warnings] == [81011]


def test_chat_defaults_come_from_the_trigger() -> None:
    h = Harness([trigger("say", event="incomingMessage"), w("say", "send-message", body="x")])
    h.start("incomingMessage", {"Body": "hi", "InstanceSid": "IS9", "ChannelSid": "CH9"})
    effect = h.effect(SendMessage)
    assert (effect.service, effect.channel) == ("IS9", "CH9")


def test_does_not_take_replies() -> None:
    h = send_flow()
    h.start()
    result = h.feed(InboundMessage({"Body": "hi"}))
    assert not result.accepted and [x.code for x in result.warnings] == [81002]


def test_schema() -> None:
    widget = registry.get("send-message")
    assert widget is not None
    assert [(e.name, e.label) for e in widget.events] == [("sent", "Sent"), ("failed", "Failed")]
    defaults = {p.name: p.default for p in widget.props}
    assert defaults["to"] == "{{contact.channel.address}}"
    assert defaults["from"] == "{{flow.channel.address}}"
