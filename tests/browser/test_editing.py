"""Editing on the canvas: undo/redo, copy/paste, duplicate, delete; validation (client and
server) shown on widgets and fields; publishing blocked while errors remain; revisions
compared and restored; saving over a newer revision warns."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import drag_from_library, login, node, open_flow, select, wire
from tests.browser.test_flows_page import small_flow
from tests.e2e.server import Server

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _create(api: httpx.Client, name: str, definition: dict[str, Any]) -> str:
    r = api.post(
        "/v2/Flows",
        data={"FriendlyName": name, "Status": "draft", "Definition": json.dumps(definition)},
    )
    assert r.status_code == 201, r.text
    sid: str = r.json()["sid"]
    return sid


def _widgets(page: Page) -> list[str]:
    names: list[str] = page.locator(".wnode").evaluate_all("els => els.map(e => e.dataset.name)")
    return sorted(names)


def test_undo_redo_copy_paste_duplicate_delete(
    page: Page, server: Server, api: httpx.Client, shot: Any
) -> None:
    sid = _create(api, "Editing", small_flow())
    login(page, server)
    open_flow(page, server, sid)
    before = _widgets(page)

    drag_from_library(page, "say-play", 600, 300)
    expect(node(page, "say_play_1")).to_be_visible()
    page.keyboard.press("Control+z")
    expect(node(page, "say_play_1")).to_have_count(0)
    page.keyboard.press("Control+Shift+z")
    expect(node(page, "say_play_1")).to_be_visible()

    # Copy + paste a selection of two wired widgets: names are made unique, the edge
    # between them is copied too.
    select(page, "check")
    node(page, "bye").locator(".wnode-head").click(modifiers=["Shift"])
    edges_before = page.locator(".react-flow__edge").count()
    page.keyboard.press("Control+c")
    page.keyboard.press("Control+v")
    expect(node(page, "check_1")).to_be_visible()
    expect(node(page, "bye_1")).to_be_visible()
    assert page.locator(".react-flow__edge").count() == edges_before + 2
    shot(page, "pasted")

    # Duplicate (Ctrl+D) and Delete.
    select(page, "say_play_1")
    page.keyboard.press("Control+d")
    expect(node(page, "say_play_2")).to_be_visible()
    page.keyboard.press("Delete")
    expect(node(page, "say_play_2")).to_have_count(0)

    # The Trigger cannot be deleted.
    select(page, "Trigger")
    page.keyboard.press("Delete")
    expect(node(page, "Trigger")).to_be_visible()

    # Undo everything back to the imported flow.
    for _ in range(6):
        page.keyboard.press("Control+z")
    assert _widgets(page) == before
    expect(page.get_by_title("Undo (Ctrl+Z)")).to_be_disabled()


def test_rewiring_a_handle_replaces_its_edge_and_inspector_targets_agree(
    page: Page, server: Server, api: httpx.Client
) -> None:
    sid = _create(api, "Rewire", small_flow())
    login(page, server)
    open_flow(page, server, sid)
    wire(page, "ask", "timeout", "bye")
    select(page, "ask")
    expect(page.get_by_label("Next widget for Timeout")).to_have_value(re.compile(r".+"))
    target = page.get_by_label("Next widget for Timeout")
    assert target.locator("option:checked").inner_text() == "bye"
    # Rewire through the inspector: the edge moves.
    target.select_option(label="check")
    page.get_by_role("button", name="Save", exact=True).click()
    page.locator(".modal").get_by_role("button", name="Save").click()
    expect(page.locator(".toast.success").first).to_be_visible()
    ask = next(
        s for s in api.get(f"/v2/Flows/{sid}").json()["definition"]["states"] if s["name"] == "ask"
    )
    assert {"event": "timeout", "next": "check"} in ask["transitions"]


def test_errors_show_on_widget_and_field_and_block_publishing(
    page: Page, server: Server, api: httpx.Client, shot: Any
) -> None:
    broken = small_flow()
    bye = next(s for s in broken["states"] if s["name"] == "bye")
    del bye["properties"]["body"]
    check = next(s for s in broken["states"] if s["name"] == "check")
    check["transitions"][1]["next"] = "nowhere"
    sid = _create(api, "Broken", broken)
    login(page, server)
    open_flow(page, server, sid)
    expect(node(page, "bye").locator(".wnode")).to_have_class(re.compile("has-error"))
    expect(node(page, "check").locator(".wnode")).to_have_class(re.compile("has-error"))
    expect(page.get_by_role("button", name="Publish", exact=True)).to_be_disabled()
    select(page, "bye")
    expect(page.locator('[data-field="body"] .error-text')).to_be_visible()
    select(page, "check")
    # The server's message for the dangling transition is shown on the widget's transitions.
    expect(page.locator('.inspector [data-field="transitions"] .error-text')).to_contain_text(
        "doesn't exist"
    )
    shot(page, "errors")

    # A duplicate name is an error too.
    select(page, "ask")
    page.fill("#widget-name", "bye")
    expect(page.locator('[data-field="name"] .error-text')).to_contain_text("already named")
    page.keyboard.press("Control+z")  # focus is in the field: the browser's own undo
    page.fill("#widget-name", "ask")

    # Fix the errors: body filled, the dangling match rewired.
    select(page, "bye")
    page.locator("#prop-body").fill("Bye now")
    wire(page, "check", "match", "bye")
    page.get_by_role("button", name="Check").click()
    expect(page.locator(".toast.success", has_text="valid")).to_be_visible()
    expect(page.get_by_role("button", name="Publish", exact=True)).to_be_enabled()
    page.get_by_role("button", name="Publish", exact=True).click()
    page.locator(".modal").get_by_role("button", name="Publish").click()
    expect(page.locator(".topbar .status-badge")).to_have_text("Published")
    assert api.get(f"/v2/Flows/{sid}").json()["status"] == "published"


def test_revisions_diff_restore_and_conflict_warning(
    page: Page, server: Server, api: httpx.Client, shot: Any
) -> None:
    sid = _create(api, "Revised", small_flow())
    login(page, server)
    open_flow(page, server, sid)

    # Revision 2: a new widget, a changed body, a rewired transition.
    drag_from_library(page, "say-play", 650, 350)
    select(page, "bye")
    page.locator("#prop-body").fill("Goodbye")
    wire(page, "ask", "timeout", "bye")
    page.get_by_role("button", name="Save", exact=True).click()
    page.fill("#commit-message", "Second")
    page.locator(".modal").get_by_role("button", name="Save").click()
    expect(page.locator(".toast.success", has_text="revision 2")).to_be_visible()

    page.get_by_role("button", name="Revisions").click()
    panel = page.get_by_label("Revisions", exact=True)
    expect(panel.locator(".rev-item[data-revision]")).to_have_count(2)
    expect(panel).to_contain_text("Second")
    panel.get_by_label("Select revision 1").check()
    panel.get_by_label("Select revision 2").check()
    panel.get_by_role("button", name="Compare").click()
    diff = page.get_by_label("Revision differences")
    expect(diff.locator(".diff-line.added")).to_contain_text("say_play_1")
    expect(diff.locator(".diff-line.changed")).to_contain_text("bye changed: body")
    expect(diff.locator(".diff-line.rewired")).to_contain_text("ask · timeout: — → bye")
    shot(page, "diff")

    # Restore revision 1: a new draft revision 3 on the server (issue 14: by you, audited).
    panel.locator('.rev-item[data-revision="1"]').get_by_role("button", name="Restore").click()
    expect(page.locator(".toast.success", has_text="as draft revision 3")).to_be_visible()
    expect(node(page, "say_play_1")).to_have_count(0)
    assert api.get(f"/v2/Flows/{sid}").json()["revision"] == 3

    # Someone else saves revision 4 meanwhile; saving now warns instead of overwriting.
    other = small_flow()
    other["description"] = "changed elsewhere"
    r = api.post(
        f"/v2/Flows/{sid}",
        data={"Status": "draft", "Definition": json.dumps(other), "CommitMessage": "Elsewhere"},
    )
    assert r.status_code == 200, r.text
    page.get_by_role("button", name="Save", exact=True).click()
    page.locator(".modal").get_by_role("button", name="Save").click()
    dialog = page.get_by_role("dialog", name="This flow changed on the server")
    expect(dialog).to_contain_text("Revision 4 was saved after revision 3")
    shot(page, "conflict")
    assert api.get(f"/v2/Flows/{sid}").json()["revision"] == 4
    dialog.get_by_role("button", name="Overwrite revision 4").click()
    expect(page.locator(".toast.success", has_text="revision 5")).to_be_visible()
    latest = api.get(f"/v2/Flows/{sid}").json()
    assert latest["revision"] == 5
    assert [s["name"] for s in latest["definition"]["states"]] == [
        s["name"] for s in small_flow()["states"]
    ]
