"""The Inspector has a form for every widget type the server publishes, with a field for
every property, generated from GET /callboard/v1/WidgetTypes."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import login, node, open_flow
from tests.e2e.server import Server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EMPTY = {
    "description": "Inspector",
    "states": [
        {
            "name": "Trigger",
            "type": "trigger",
            "transitions": [{"event": "incomingMessage"}],
            "properties": {"offset": {"x": 0, "y": 0}},
        }
    ],
    "initial_state": "Trigger",
    "flags": {"allow_concurrent_calls": True},
}


def test_every_widget_type_has_a_form_with_every_property(
    page: Page, server: Server, api: httpx.Client, shot: Any
) -> None:
    types: list[dict[str, Any]] = api.get("/callboard/v1/WidgetTypes").json()["widget_types"]
    r = api.post(
        "/v2/Flows",
        data={"FriendlyName": "Inspector", "Status": "draft", "Definition": json.dumps(EMPTY)},
    )
    sid = r.json()["sid"]
    login(page, server)
    open_flow(page, server, sid)
    library = page.get_by_label("Widget Library")
    groups = library.locator(".library-group h4").all_text_contents()
    # Widgets Callboard cannot run (runnable false) are kept in flows but not offered.
    offered = [t for t in types if t["type"] != "trigger" and t.get("runnable", True)]
    published = {t["group"] for t in offered}
    assert {g.strip() for g in groups} == published
    hidden = [t["type"] for t in types if not t.get("runnable", True)]
    for kind in hidden:
        expect(library.locator(f'.library-item[data-type="{kind}"]')).to_have_count(0)
    for schema in offered:
        page.locator(".react-flow__pane").click(position={"x": 5, "y": 5})
        library.locator(f'.library-item[data-type="{schema["type"]}"]').dblclick()
        inspector = page.get_by_label("Inspector")
        expect(inspector).to_have_attribute("data-widget", __import__("re").compile(".+"))
        name = inspector.get_attribute("data-widget")
        assert name
        expect(node(page, name).locator(".wnode-type")).to_have_text(schema["label"])
        # One handle per (non-repeatable) event, labelled as the server says.
        for event in schema["events"]:
            if event["name"] in schema["repeatable_events"]:
                continue
            expect(
                node(page, name).locator(f'.slot[data-event="{event["name"]}"] .slot-label')
            ).to_have_text(event["label"])
        for prop in schema["properties"]:
            if prop["editor"] == "hidden" or prop["name"] == "offset":
                continue
            expect(inspector.locator(f'[data-field="{prop["name"]}"]')).to_have_count(1)
        if schema["repeatable_events"]:
            expect(inspector.get_by_role("button", name="+ New condition")).to_be_visible()
        if schema["type"] == "gather-input-on-call":
            shot(page, "gather")
