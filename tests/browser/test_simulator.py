"""The simulator drawer: chat with a flow over SMS, call it with keypad and speech, while
the canvas highlights the active widget. Needs the simulator channel routes
(/callboard/v1/Simulator/...); skipped on a server without them."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import login, node, open_flow
from tests.browser.test_flows_page import small_flow
from tests.e2e.server import Server

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def simulator(api: httpx.Client) -> None:
    r = api.get(
        "/callboard/v1/Simulator/Messages", params={"FlowSid": "FW" + "0" * 32, "Contact": "+1"}
    )
    if r.status_code in (404, 405):
        pytest.skip("this server has no simulator channel (/callboard/v1/Simulator)")


def _published(api: httpx.Client, name: str, definition: dict[str, Any]) -> str:
    r = api.post(
        "/v2/Flows",
        data={"FriendlyName": name, "Status": "published", "Definition": json.dumps(definition)},
    )
    assert r.status_code == 201, r.text
    sid: str = r.json()["sid"]
    return sid


def voice_flow() -> dict[str, Any]:
    return {
        "description": "Voice menu",
        "states": [
            {
                "name": "Trigger",
                "type": "trigger",
                "transitions": [
                    {"event": "incomingMessage"},
                    {"event": "incomingCall", "next": "menu"},
                    {"event": "incomingConversationMessage"},
                    {"event": "incomingRequest"},
                    {"event": "incomingParent"},
                ],
                "properties": {"offset": {"x": 0, "y": 0}},
            },
            {
                "name": "menu",
                "type": "gather-input-on-call",
                "transitions": [
                    {"event": "keypress", "next": "thanks"},
                    {"event": "speech", "next": "thanks"},
                    {"event": "timeout"},
                ],
                "properties": {
                    "say": "Press 1 or say something",
                    "timeout": 5,
                    "offset": {"x": 0, "y": 250},
                },
            },
            {
                "name": "thanks",
                "type": "say-play",
                "transitions": [{"event": "audioComplete"}],
                "properties": {
                    "say": "You chose {{widgets.menu.Digits}}{{widgets.menu.SpeechResult}}",
                    "offset": {"x": 0, "y": 500},
                },
            },
        ],
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
    }


def test_chat_with_the_flow_and_see_the_active_widget(
    page: Page, server: Server, api: httpx.Client, simulator: None, shot: Any
) -> None:
    sid = _published(api, "Sim chat", small_flow())
    login(page, server)
    open_flow(page, server, sid)
    page.get_by_role("button", name="Simulator").click()
    page.get_by_label("Message").fill("hi")
    page.get_by_role("button", name="Send").click()
    log = page.get_by_label("Conversation")
    expect(log.locator(".bubble.flow", has_text="Yes or no?")).to_be_visible()
    expect(node(page, "ask").locator(".wnode")).to_have_class(re.compile("hl-active"))
    shot(page, "waiting")
    page.get_by_label("Message").fill("yes")
    page.get_by_role("button", name="Send").click()
    expect(log.locator(".bubble.flow", has_text="Bye")).to_be_visible()
    expect(node(page, "bye").locator(".wnode")).to_have_class(re.compile("hl-(visited|active)"))
    shot(page, "done")


def test_call_the_flow_with_keypad_and_speech(
    page: Page, server: Server, api: httpx.Client, simulator: None, shot: Any
) -> None:
    sid = _published(api, "Sim call", voice_flow())
    login(page, server)
    open_flow(page, server, sid)
    page.get_by_role("button", name="Simulator").click()
    page.get_by_role("tab", name="Voice call").click()
    page.get_by_role("button", name="Call the flow").click()
    transcript = page.get_by_label("Call transcript")
    expect(transcript).to_contain_text("Press 1 or say something")
    expect(node(page, "menu").locator(".wnode")).to_have_class(re.compile("hl-active"))
    page.get_by_label("Keypad").get_by_role("button", name="1", exact=True).click()
    page.get_by_role("button", name="Send digits").click()
    expect(transcript).to_contain_text("You chose 1")
    shot(page, "call")


def test_drawer_speaks_the_planned_simulator_api(
    page: Page, server: Server, api: httpx.Client, shot: Any
) -> None:
    """The drawer's requests and rendering, against a stand-in for the simulator routes
    (intercepted in the browser), so the UI is checked even before the server has them."""
    sid = _published(api, "Sim contract", small_flow())
    sent: list[dict[str, list[str]]] = []
    conversation: list[dict[str, str]] = []

    def messages(route: Any) -> None:
        from urllib.parse import parse_qs, urlparse

        request = route.request
        if request.method == "POST":
            form = parse_qs(request.post_data or "")
            sent.append(form)
            conversation.append(
                {
                    "sid": f"SM{len(conversation)}",
                    "direction": "inbound",
                    "from": form["From"][0],
                    "to": form["To"][0],
                    "body": form["Body"][0],
                    "date_created": "2026-01-01T00:00:00Z",
                }
            )
            conversation.append(
                {
                    "sid": f"SM{len(conversation)}",
                    "direction": "outbound-api",
                    "from": form["To"][0],
                    "to": form["From"][0],
                    "body": f"echo {form['Body'][0]}",
                    "date_created": "2026-01-01T00:00:01Z",
                }
            )
            route.fulfill(status=201, json=conversation[-2])
        else:
            query = parse_qs(urlparse(request.url).query)
            assert query["FlowSid"] == [sid]
            route.fulfill(json={"messages": conversation})

    inputs: list[dict[str, list[str]]] = []

    def calls(route: Any) -> None:
        from urllib.parse import parse_qs

        form = parse_qs(route.request.post_data or "")
        if route.request.url.endswith("/Input"):
            inputs.append(form)
            twiml = "<Response><Say>Got it</Say><Hangup/></Response>"
        else:
            assert form["FlowSid"] == [sid]
            twiml = '<Response><Gather input="dtmf speech"><Say>Press 1</Say></Gather></Response>'
        route.fulfill(json={"call_sid": "CA" + "1" * 32, "twiml": twiml})

    page.route("**/callboard/v1/Simulator/Messages*", messages)
    page.route("**/callboard/v1/Simulator/Calls**", calls)
    login(page, server)
    open_flow(page, server, sid)
    page.get_by_role("button", name="Simulator").click()
    page.get_by_label("Message").fill("hello there")
    page.get_by_role("button", name="Send").click()
    log = page.get_by_label("Conversation")
    expect(log.locator(".bubble.me", has_text="hello there")).to_be_visible()
    expect(log.locator(".bubble.flow", has_text="echo hello there")).to_be_visible()
    assert sent[0]["FlowSid"] == [sid] and sent[0]["Body"] == ["hello there"]
    assert sent[0]["From"] == ["+15550100001"] and sent[0]["To"] == ["+15550100000"]
    shot(page, "chat")

    page.get_by_role("tab", name="Voice call").click()
    page.get_by_role("button", name="Call the flow").click()
    transcript = page.get_by_label("Call transcript")
    expect(transcript).to_contain_text("Press 1")
    expect(transcript).to_contain_text("Waiting for dtmf or speech")
    page.get_by_label("Keypad").get_by_role("button", name="4", exact=True).click()
    page.get_by_label("Keypad").get_by_role("button", name="2", exact=True).click()
    page.get_by_role("button", name="Send digits").click()
    expect(transcript).to_contain_text("Got it")
    expect(transcript).to_contain_text("The flow hung up")
    assert inputs == [{"Digits": ["42"]}]
    shot(page, "call")
