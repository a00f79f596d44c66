"""End to end: build a flow from nothing in the editor, publish it, run it, inspect it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import drag_from_library, edges, login, node, select, wire
from tests.e2e.server import Server

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _state(definition: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in definition["states"] if s["name"] == name)


def _next(state: dict[str, Any], event: str) -> str | None:
    for t in state["transitions"]:
        if t["event"] == event:
            return t.get("next")
    return None


def test_build_wire_configure_publish_and_open_execution(
    page: Page, server: Server, api: httpx.Client, shot: Any
) -> None:
    login(page, server)
    shot(page, "01-flows")
    page.get_by_role("button", name="+ Create new flow").click()
    page.fill("#new-flow-name", "Greeter")
    page.get_by_role("button", name="Create", exact=True).click()
    expect(node(page, "Trigger")).to_be_visible()
    sid = page.url.rsplit("/", 1)[-1]
    assert sid.startswith("FW")

    # Drag three widgets from the library and wire them.
    drag_from_library(page, "set-variables", 250, 260)
    expect(node(page, "set_variables_1")).to_be_visible()
    drag_from_library(page, "split-based-on", 250, 430)
    drag_from_library(page, "send-message", 120, 640)
    expect(node(page, "send_message_1")).to_be_visible()
    page.get_by_role("button", name="Auto-layout").click()
    page.locator(".react-flow__controls-fitview").click()
    wire(page, "Trigger", "incomingRequest", "set_variables_1")
    wire(page, "set_variables_1", "next", "split_1")
    assert edges(page) == 2

    # Configure: variables, the split's condition, the message body (with completion).
    select(page, "set_variables_1")
    page.locator('[data-field="variables"] .link-btn').click()
    page.get_by_label("Key 1").fill("greeting")
    page.locator('[data-field="variables"] .kv-value input').fill("Hello {{flow.data.name}}")
    select(page, "split_1")
    page.locator("#prop-input").fill("{{flow.variables.")
    expect(page.locator(".completions")).to_contain_text("flow.variables.greeting")
    page.keyboard.press("Enter")
    expect(page.locator("#prop-input")).to_have_value("{{flow.variables.greeting}}")
    page.get_by_role("button", name="+ New condition").click()
    page.get_by_label("Condition name").fill("Says hello")
    page.get_by_label("Operator").select_option("contains")
    page.locator(".transition.cond .liquid input").fill("hello")
    expect(node(page, "split_1").locator(".slot-label", has_text="Says hello")).to_be_visible()
    wire(page, "split_1", "match", "send_message_1")
    assert edges(page) == 3
    select(page, "send_message_1")
    expect(page.locator('[data-field="body"] .error-text')).to_contain_text("required")
    page.locator("#prop-body").fill("{{flow.variables.greeting}}!")
    expect(page.locator('[data-field="body"] .error-text')).to_have_count(0)
    shot(page, "02-built")

    # Save a draft with a commit message, then publish.
    page.get_by_role("button", name="Save", exact=True).click()
    page.fill("#commit-message", "First version")
    page.locator(".modal").get_by_role("button", name="Save").click()
    expect(page.locator(".toast.success", has_text="Saved revision 2")).to_be_visible()
    page.get_by_role("button", name="Publish", exact=True).click()
    page.fill("#commit-message", "Go live")
    page.locator(".modal").get_by_role("button", name="Publish").click()
    expect(page.locator(".topbar .status-badge")).to_have_text("Published")
    shot(page, "03-published")

    definition = api.get(f"/v2/Flows/{sid}").json()["definition"]
    assert _next(_state(definition, "Trigger"), "incomingRequest") == "set_variables_1"
    assert _next(_state(definition, "set_variables_1"), "next") == "split_1"
    split = _state(definition, "split_1")
    match = next(t for t in split["transitions"] if t["event"] == "match")
    assert match["next"] == "send_message_1"
    assert match["conditions"] == [
        {
            "friendly_name": "Says hello",
            "arguments": ["{{flow.variables.greeting}}"],
            "type": "contains",
            "value": "hello",
        }
    ]
    assert _state(definition, "set_variables_1")["properties"]["variables"] == [
        {"key": "greeting", "value": "Hello {{flow.data.name}}"}
    ]
    assert "offset" in _state(definition, "send_message_1")["properties"]

    # Run it through the REST API, then open the execution in the editor.
    created = api.post(
        f"/v2/Flows/{sid}/Executions",
        data={"To": "+15550001111", "From": "+15550002222", "Parameters": '{"name": "Ada"}'},
    )
    assert created.status_code == 201, created.text
    execution = created.json()["sid"]
    page.get_by_role("button", name="Executions").click()
    page.locator(f'.exec-item[data-sid="{execution}"]').click()
    timeline = page.get_by_label("Step timeline")
    expect(timeline.locator(".step").first).to_be_visible()
    expect(timeline).to_contain_text("set_variables_1")
    expect(timeline).to_contain_text("split_1")
    for name in ("Trigger", "set_variables_1", "split_1", "send_message_1"):
        expect(node(page, name).locator(".wnode")).to_have_class(
            __import__("re").compile(r"hl-(visited|active)")
        )
    assert page.locator(".react-flow__edge.path").count() == 3
    timeline.locator(".step-head").nth(1).click()
    expect(timeline.locator(".json-viewer").first).to_be_visible()
    expect(timeline.locator(".json-viewer").first).to_contain_text("flow")
    shot(page, "04-execution")
