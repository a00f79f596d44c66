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
    r = api.get("/callboard/v1/Simulator/Messages", params={"FlowSid": "FW" + "0" * 32, "Contact": "+1"})
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
                "properties": {"say": "Press 1 or say something", "timeout": 5,
                               "offset": {"x": 0, "y": 250}},
            },
            {
                "name": "thanks",
                "type": "say-play",
                "transitions": [{"event": "audioComplete"}],
                "properties": {"say": "You chose {{widgets.menu.Digits}}{{widgets.menu.SpeechResult}}",
                               "offset": {"x": 0, "y": 500}},
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
