"""The simulator drawer against the real simulator channel (/callboard/v1/Simulator/...):
chat with a draft as a test user, call it with the keypad, hang up; the canvas highlights
the active widget from the flow's live event stream, or by polling when the stream fails.
Skipped on a server without the simulator routes."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from playwright.sync_api import Page, Request, expect

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


def _flow(api: httpx.Client, name: str, definition: dict[str, Any], status: str = "draft") -> str:
    r = api.post(
        "/v2/Flows",
        data={"FriendlyName": name, "Status": status, "Definition": json.dumps(definition)},
    )
    assert r.status_code == 201, r.text
    sid: str = r.json()["sid"]
    return sid


def voice_flow() -> dict[str, Any]:
    """Trigger -> welcome (Say/Play) -> menu (Gather) -> thanks (Say/Play)."""
    return {
        "description": "Voice menu",
        "states": [
            {
                "name": "Trigger",
                "type": "trigger",
                "transitions": [
                    {"event": "incomingMessage"},
                    {"event": "incomingCall", "next": "welcome"},
                    {"event": "incomingConversationMessage"},
                    {"event": "incomingRequest"},
                    {"event": "incomingParent"},
                ],
                "properties": {"offset": {"x": 0, "y": 0}},
            },
            {
                "name": "welcome",
                "type": "say-play",
                "transitions": [{"event": "audioComplete", "next": "menu"}],
                "properties": {"say": "Welcome to Callboard", "offset": {"x": 0, "y": 200}},
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
                    "offset": {"x": 0, "y": 400},
                },
            },
            {
                "name": "thanks",
                "type": "say-play",
                "transitions": [{"event": "audioComplete"}],
                "properties": {
                    "say": "You chose {{widgets.menu.Digits}}{{widgets.menu.SpeechResult}}",
                    "offset": {"x": 0, "y": 650},
                },
            },
        ],
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
    }


def _hl(page: Page, name: str, pattern: str) -> None:
    expect(node(page, name).locator(".wnode")).to_have_class(re.compile(pattern))


def _execution_polls(requests: list[Request], sid: str) -> int:
    """Requests for the list of the flow's executions (what the old 1 s polling sent)."""
    return sum(1 for r in requests if urlparse(r.url).path == f"/v2/Flows/{sid}/Executions")


def test_chat_with_a_draft_as_a_test_user_highlighted_live(
    page: Page, server: Server, api: httpx.Client, simulator: None, shot: Any
) -> None:
    """Send & Wait For Reply -> reply -> Split -> Send Message, on a draft (never
    published): the canvas follows the execution from the event stream."""
    sid = _flow(api, "Sim chat", small_flow())
    requests: list[Request] = []
    page.on("request", lambda r: requests.append(r))
    login(page, server)
    open_flow(page, server, sid)
    page.get_by_role("button", name="Simulator").click()
    drawer = page.get_by_label("Simulator")
    expect(drawer.locator(".live-badge")).to_have_text("Live")
    page.get_by_label("Message").fill("hi")
    page.get_by_role("button", name="Send").click()
    log = page.get_by_label("Conversation")
    expect(log.locator(".bubble.me", has_text="hi")).to_be_visible()
    expect(log.locator(".bubble.flow", has_text="Yes or no?")).to_be_visible()
    _hl(page, "ask", "hl-active")
    _hl(page, "Trigger", "hl-visited")
    _hl(page, "bye", "hl-dim")
    shot(page, "waiting")
    page.get_by_label("Message").fill("yes")
    page.get_by_role("button", name="Send").click()
    expect(log.locator(".bubble.flow", has_text="Bye")).to_be_visible()
    _hl(page, "check", "hl-visited")
    _hl(page, "bye", "hl-visited")  # the execution ended: nothing is active any more
    expect(page.locator(".wnode.hl-active")).to_have_count(0)
    shot(page, "done")
    # The highlight came from the stream, not from polling the executions every second.
    page.wait_for_timeout(2500)
    assert _execution_polls(requests, sid) <= 2, [r.url for r in requests]
    messages = api.get(
        "/callboard/v1/Simulator/Messages", params={"FlowSid": sid, "Contact": "+15550100001"}
    ).json()["messages"]
    assert [m["body"] for m in messages] == ["hi", "Yes or no?", "yes", "Bye"]


def test_highlight_falls_back_to_polling_when_the_stream_fails(
    page: Page, server: Server, api: httpx.Client, simulator: None, shot: Any
) -> None:
    sid = _flow(api, "Sim fallback", small_flow())
    page.route("**/Events/Stream*", lambda route: route.abort())
    requests: list[Request] = []
    page.on("request", lambda r: requests.append(r))
    login(page, server)
    open_flow(page, server, sid)
    page.get_by_role("button", name="Simulator").click()
    expect(page.get_by_label("Simulator").locator(".live-badge")).to_contain_text("polling")
    page.get_by_label("Message").fill("hello")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_label("Conversation").locator(".bubble.flow")).to_have_text(["Yes or no?"])
    _hl(page, "ask", "hl-active")
    page.get_by_label("Message").fill("no")
    page.get_by_role("button", name="Send").click()
    _hl(page, "bye", "hl-visited")
    expect(page.locator(".wnode.hl-active")).to_have_count(0)
    assert _execution_polls(requests, sid) >= 2
    shot(page, "polling")


def test_call_through_say_play_and_gather_with_keypad_digits(
    page: Page, server: Server, api: httpx.Client, simulator: None, shot: Any
) -> None:
    sid = _flow(api, "Sim call", voice_flow())
    login(page, server)
    open_flow(page, server, sid)
    page.get_by_role("button", name="Simulator").click()
    page.get_by_role("tab", name="Voice call").click()
    page.get_by_role("button", name="Call the flow").click()
    transcript = page.get_by_label("Call transcript")
    expect(transcript.locator(".call-line.say")).to_have_text(
        ["Flow saysWelcome to Callboard", "Flow saysPress 1 or say something"]
    )
    expect(transcript).to_contain_text("Waiting for keys or speech")
    _hl(page, "menu", "hl-active")
    _hl(page, "welcome", "hl-visited")
    shot(page, "gather")
    keypad = page.get_by_label("Keypad")
    keypad.get_by_role("button", name="1", exact=True).click()
    expect(page.get_by_label("Digits")).to_have_value("1")
    page.get_by_role("button", name="Send digits").click()
    expect(transcript).to_contain_text("You pressed 1")
    expect(transcript).to_contain_text("You chose 1")
    expect(transcript.locator(".call-line.hangup")).to_have_count(1)
    expect(page.get_by_role("button", name="Call again")).to_be_visible()
    expect(keypad).to_have_count(0)
    _hl(page, "thanks", "hl-visited")
    expect(page.locator(".wnode.hl-active")).to_have_count(0)
    shot(page, "ended")
    calls = api.get(
        "/callboard/v1/Simulator/Calls", params={"FlowSid": sid, "Contact": "+15550100001"}
    ).json()["calls"]
    assert [c["status"] for c in calls] == ["completed"]


def test_hang_up_ends_the_call_on_the_server(
    page: Page, server: Server, api: httpx.Client, simulator: None, shot: Any
) -> None:
    sid = _flow(api, "Sim hang-up", voice_flow())
    login(page, server)
    open_flow(page, server, sid)
    page.get_by_role("button", name="Simulator").click()
    page.get_by_role("tab", name="Voice call").click()
    page.get_by_label("Test user number").fill("+15550100009")
    page.get_by_role("button", name="Call the flow").click()
    transcript = page.get_by_label("Call transcript")
    expect(transcript).to_contain_text("Press 1 or say something")
    _hl(page, "menu", "hl-active")
    page.get_by_role("button", name="Hang up").click()
    expect(transcript).to_contain_text("You hung up")
    expect(page.get_by_role("button", name="Call again")).to_be_visible()
    expect(page.locator(".wnode.hl-active")).to_have_count(0)
    shot(page, "hung-up")
    calls = api.get(
        "/callboard/v1/Simulator/Calls", params={"FlowSid": sid, "Contact": "+15550100009"}
    ).json()["calls"]
    assert [c["status"] for c in calls] == ["completed"]
    execution = calls[0]["execution_sid"]
    assert api.get(f"/v2/Flows/{sid}/Executions/{execution}").json()["status"] == "ended"


def test_drawer_requests_and_rendering_of_the_simulator_api(
    page: Page, server: Server, api: httpx.Client, shot: Any
) -> None:
    """The drawer's requests and how it renders answers (actions, waiting_for, status), with
    the simulator routes answered in the browser: form fields, record, silence, hang-up."""
    sid = _flow(api, "Sim contract", small_flow())
    sent: list[dict[str, list[str]]] = []
    conversation: list[dict[str, Any]] = []

    def messages(route: Any) -> None:
        request = route.request
        if request.method == "POST":
            form = parse_qs(request.post_data or "")
            sent.append(form)
            text = form["Body"][0]
            for direction, body in (("inbound", text), ("outbound-api", f"echo {text}")):
                conversation.append(
                    {
                        "sid": f"SM{len(conversation)}",
                        "direction": direction,
                        "from": form["From"][0],
                        "to": form["To"][0],
                        "body": body,
                        "status": "received",
                        "date_created": "2026-01-01T00:00:00Z",
                    }
                )
            route.fulfill(status=201, json=conversation[-2])
        else:
            assert parse_qs(urlparse(request.url).query)["FlowSid"] == [sid]
            route.fulfill(json={"messages": conversation})

    inputs: list[dict[str, list[str]]] = []
    answers = [
        # After the first input: a Record.
        {
            "actions": [{"kind": "say", "text": "Leave a message"}, {"kind": "record", "text": ""}],
            "waiting_for": "record",
            "status": "in-progress",
        },
        # After the recording: a Gather again.
        {
            "actions": [{"kind": "gather", "text": "dtmf"}],
            "waiting_for": "gather",
            "status": "in-progress",
        },
        # After the silence: still at the Gather. Then the hang-up ends the call.
        {
            "actions": [
                {"kind": "say", "text": "Still there?"},
                {"kind": "gather", "text": "dtmf"},
            ],
            "waiting_for": "gather",
            "status": "in-progress",
        },
        {"actions": [], "waiting_for": None, "status": "completed"},
    ]

    def calls(route: Any) -> None:
        form = parse_qs(route.request.post_data or "")
        if route.request.url.endswith("/Input"):
            inputs.append(form)
            body = answers[len(inputs) - 1]
        else:
            assert form["FlowSid"] == [sid]
            body = {
                "actions": [
                    {"kind": "say", "text": "Press 1"},
                    {"kind": "gather", "text": "dtmf speech"},
                ],
                "waiting_for": "gather",
                "status": "in-progress",
            }
        route.fulfill(json={"call_sid": "CA" + "1" * 32, "twiml": "<Response/>", **body})

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
    expect(transcript).to_contain_text("Waiting for keys or speech")
    keypad = page.get_by_label("Keypad")
    keypad.get_by_role("button", name="4", exact=True).click()
    keypad.get_by_role("button", name="2", exact=True).click()
    page.get_by_role("button", name="Send digits").click()
    expect(transcript).to_contain_text("Leave a message")
    expect(keypad).to_have_count(0)  # a Record takes no keys
    page.get_by_role("button", name="Leave a message").click()
    expect(transcript).to_contain_text("Waiting for keys")
    page.get_by_role("button", name="Stay silent").click()
    expect(transcript).to_contain_text("Still there?")
    page.get_by_role("button", name="Hang up").click()
    expect(transcript).to_contain_text("The call ended")
    expect(page.get_by_role("button", name="Call again")).to_be_visible()
    assert inputs == [{"Digits": ["42"]}, {"Recording": ["true"]}, {}, {"Hangup": ["true"]}]
    shot(page, "call")


def conversation_flow() -> dict[str, Any]:
    """small_flow started by incomingConversationMessage instead of incomingMessage."""
    definition = small_flow()
    trigger = definition["states"][0]
    for t in trigger["transitions"]:
        t.pop("next", None)
        if t["event"] == "incomingConversationMessage":
            t["next"] = "ask"
    return definition


def test_conversation_in_the_simulator_and_the_conversation_widgets_in_the_library(
    page: Page, server: Server, api: httpx.Client, simulator: None, shot: Any
) -> None:
    """The drawer's Conversation tab writes in a Conversation (onMessageAdded): the first
    message creates it and starts an execution on incomingConversationMessage, the reply
    resumes it; the library offers Start / Resume Conversation and Run ConversationRelay."""
    sid = _flow(api, "Sim conversation", conversation_flow())
    login(page, server)
    open_flow(page, server, sid)
    library = page.get_by_label("Widget Library")
    for wtype in ("start-conversation", "resume-conversation", "run-conversation-relay"):
        expect(library.locator(f'.library-item[data-type="{wtype}"]')).to_have_count(1)
    page.get_by_role("button", name="Simulator").click()
    page.get_by_role("tab", name="Conversation").click()
    page.get_by_label("Message").fill("hi")
    page.get_by_role("button", name="Send").click()
    log = page.get_by_label("Conversation", exact=True)
    expect(log.locator(".bubble.me", has_text="hi")).to_be_visible()
    expect(log.locator(".bubble.flow", has_text="Yes or no?")).to_be_visible()
    drawer = page.get_by_label("Simulator")
    expect(drawer.locator(".sim-conversation")).to_contain_text("Conversation CH")
    _hl(page, "ask", "hl-active")
    shot(page, "conversation")
    page.get_by_label("Message").fill("yes")
    page.get_by_role("button", name="Send").click()
    expect(log.locator(".bubble.flow", has_text="Bye")).to_be_visible()
    (ex,) = api.get(f"/v2/Flows/{sid}/Executions").json()["executions"]
    conversation = ex["contact_channel_address"]
    assert conversation.startswith("CH")
    messages = api.get(
        "/callboard/v1/Simulator/Messages", params={"FlowSid": sid, "Contact": conversation}
    ).json()["messages"]
    assert [m["body"] for m in messages] == ["hi", "Yes or no?", "yes", "Bye"]
    # Save as test: a test that writes in a Conversation, and passes
    page.get_by_role("button", name="Save as test").click()
    expect(
        page.locator(".toast", has_text='Saved as test "simulator Conversation"')
    ).to_be_visible()
    stored = api.get(f"/callboard/v1/Flows/{sid}/Tests").json()["tests"]
    assert 'conversation: {author: "+15550100001"}' in stored and '- send: "yes"' in stored
    report = api.post(f"/callboard/v1/Flows/{sid}/Tests/Run").json()
    assert report["passed"] is True, report
