"""Renaming a widget rewrites the Liquid references to it in every widget's properties and
split conditions (`widgets.old.` -> `widgets.new.`, hyphenated names included), as one
undoable change; references to other widgets whose names merely start the same are kept."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import flow_json, login, open_flow, select
from tests.browser.test_flows_page import small_flow
from tests.e2e.server import Server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BYE_BODY = (
    "You said {{widgets.ask.inbound.Body}} ({{ widgets['ask'].inbound.Body }}),"
    " {{widgets.ask-more.inbound.Body}} and {{widgets.asker.body}}; {{widgets.que.body}}"
)


def _flow() -> dict[str, Any]:
    flow = small_flow()
    states: list[dict[str, Any]] = flow["states"]
    bye = next(s for s in states if s["name"] == "bye")
    bye["properties"]["body"] = BYE_BODY
    for i, name in enumerate(("ask-more", "asker", "que")):
        states.append(
            {
                "name": name,
                "type": "send-message",
                "transitions": [{"event": "sent"}, {"event": "failed"}],
                "properties": {"body": "x", "offset": {"x": 1000, "y": 250 * i}},
            }
        )
    # A hyphenated widget that others refer to.
    states.append(
        {
            "name": "get-customer",
            "type": "set-variables",
            "transitions": [{"event": "next"}],
            "properties": {
                "variables": [{"key": "who", "value": "{{widgets.get-customer-2.body}}"}],
                "offset": {"x": 1400, "y": 0},
            },
        }
    )
    states.append(
        {
            "name": "get-customer-2",
            "type": "send-message",
            "transitions": [{"event": "sent"}, {"event": "failed"}],
            "properties": {
                "body": "Hi {{widgets.get-customer.variables.who}} {{widgets.get-customer-2.sid}}",
                "offset": {"x": 1400, "y": 250},
            },
        }
    )
    return flow


def _states(api: httpx.Client, sid: str) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in flow_json(api, sid)["definition"]["states"]}


def _save(page: Page, message: str, revision: int) -> None:
    page.get_by_role("button", name="Save", exact=True).click()
    page.locator("#commit-message").fill(message)
    page.locator(".modal").get_by_role("button", name="Save").click()
    expect(page.locator(".toast.success", has_text=f"Saved revision {revision}")).to_be_visible()


def _rename(page: Page, old: str, new: str) -> None:
    """Selects ``old`` and types the new name key by key (as a person would)."""
    select(page, old)
    field = page.locator("#widget-name")
    field.click()
    field.press("Control+a")
    field.press("Backspace")
    field.press_sequentially(new, delay=20)
    page.locator(".react-flow__pane").click(position={"x": 5, "y": 5})  # leave the field


def test_renaming_rewrites_references_as_one_undoable_change(
    page: Page, server: Server, api: httpx.Client, shot: Any
) -> None:
    original = _flow()
    r = api.post(
        "/v2/Flows",
        data={"FriendlyName": "Rename", "Status": "draft", "Definition": json.dumps(original)},
    )
    assert r.status_code == 201, r.text
    sid = r.json()["sid"]
    before = copy.deepcopy(_states(api, sid))
    login(page, server)
    open_flow(page, server, sid)

    # Typing "question" passes through "que" (another widget's name): references must
    # not be handed to that widget on the way.
    _rename(page, "ask", "question")
    select(page, "check")
    expect(page.locator("#prop-input")).to_have_value("{{widgets.question.inbound.Body}}")
    shot(page, "renamed")
    _save(page, "rename ask", 2)
    states = _states(api, sid)
    assert "ask" not in states and "question" in states
    assert states["check"]["properties"]["input"] == "{{widgets.question.inbound.Body}}"
    match = next(t for t in states["check"]["transitions"] if t["event"] == "match")
    assert match["conditions"][0]["arguments"] == ["{{widgets.question.inbound.Body}}"]
    assert states["bye"]["properties"]["body"] == (
        "You said {{widgets.question.inbound.Body}} ({{ widgets['question'].inbound.Body }}),"
        " {{widgets.ask-more.inbound.Body}} and {{widgets.asker.body}}; {{widgets.que.body}}"
    )
    trigger = states["Trigger"]["transitions"]
    assert {"event": "incomingMessage", "next": "question"} in trigger

    # One undo puts the name and every reference back.
    page.keyboard.press("Control+z")
    select(page, "check")
    expect(page.locator("#prop-input")).to_have_value("{{widgets.ask.inbound.Body}}")
    _save(page, "undo", 3)
    restored = _states(api, sid)
    for name in before:
        assert restored[name]["properties"] == before[name]["properties"], name
        assert restored[name]["transitions"] == before[name]["transitions"], name

    # Hyphenated names: get-customer -> lookup-customer, get-customer-2 untouched.
    _rename(page, "get-customer", "lookup-customer")
    _save(page, "rename get-customer", 4)
    states = _states(api, sid)
    assert states["get-customer-2"]["properties"]["body"] == (
        "Hi {{widgets.lookup-customer.variables.who}} {{widgets.get-customer-2.sid}}"
    )
    assert states["lookup-customer"]["properties"]["variables"] == [
        {"key": "who", "value": "{{widgets.get-customer-2.body}}"}
    ]
    # Redo after undo restores the rename with its references.
    page.keyboard.press("Control+z")
    select(page, "get-customer-2")
    expect(page.locator("#prop-body")).to_have_value(
        "Hi {{widgets.get-customer.variables.who}} {{widgets.get-customer-2.sid}}"
    )
    page.locator(".react-flow__pane").click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+Shift+z")
    select(page, "get-customer-2")
    expect(page.locator("#prop-body")).to_have_value(
        "Hi {{widgets.lookup-customer.variables.who}} {{widgets.get-customer-2.sid}}"
    )
    shot(page, "hyphenated")


def test_while_the_name_is_taken_references_wait_then_follow(
    page: Page, server: Server, api: httpx.Client
) -> None:
    r = api.post(
        "/v2/Flows",
        data={"FriendlyName": "Rename 2", "Status": "draft", "Definition": json.dumps(_flow())},
    )
    sid = r.json()["sid"]
    login(page, server)
    open_flow(page, server, sid)
    _rename(page, "ask", "asker")  # another widget's name: an error, references stay
    askers = page.locator('.react-flow__node:has(.wnode[data-name="asker"])')
    expect(askers).to_have_count(2)
    select(page, "check")
    expect(page.locator("#prop-input")).to_have_value("{{widgets.ask.inbound.Body}}")
    # Fixing the name later (a new edit) takes the references along.
    askers.first.locator(".wnode-head").click()
    field = page.locator("#widget-name")
    field.click()
    field.press("End")
    field.press("Backspace")
    field.press_sequentially("d")
    page.locator(".react-flow__pane").click(position={"x": 5, "y": 5})
    select(page, "check")
    expect(page.locator("#prop-input")).to_have_value("{{widgets.asked.inbound.Body}}")
    _save(page, "asked", 2)
    states = _states(api, sid)
    assert states["bye"]["properties"]["body"].startswith(
        "You said {{widgets.asked.inbound.Body}} ({{ widgets['asked'].inbound.Body }}),"
    )
    assert "refName" not in json.dumps(flow_json(api, sid)["definition"])
