"""The flows list: create, rename, import (file or paste), export, delete."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import login, node
from tests.e2e.server import Server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHARED_FLOWS = Path(__file__).resolve().parents[2] / ".." / "shared" / "studio-flows"


def small_flow(without_positions: bool = False) -> dict[str, Any]:
    states: list[dict[str, Any]] = [
        {
            "name": "Trigger",
            "type": "trigger",
            "transitions": [
                {"event": "incomingMessage", "next": "ask"},
                {"event": "incomingCall"},
                {"event": "incomingConversationMessage"},
                {"event": "incomingRequest", "next": "ask"},
                {"event": "incomingParent"},
            ],
            "properties": {"offset": {"x": 0, "y": 0}},
        },
        {
            "name": "ask",
            "type": "send-and-wait-for-reply",
            "transitions": [
                {"event": "incomingMessage", "next": "check"},
                {"event": "timeout"},
                {"event": "deliveryFailure"},
            ],
            "properties": {
                "body": "Yes or no?",
                "from": "{{flow.channel.address}}",
                "timeout": "3600",
                "offset": {"x": 0, "y": 250},
            },
        },
        {
            "name": "check",
            "type": "split-based-on",
            "transitions": [
                {"event": "noMatch", "next": "bye"},
                {
                    "event": "match",
                    "next": "bye",
                    "conditions": [
                        {
                            "friendly_name": "Yes",
                            "arguments": ["{{widgets.ask.inbound.Body}}"],
                            "type": "equal_to",
                            "value": "yes",
                        }
                    ],
                },
            ],
            "properties": {"input": "{{widgets.ask.inbound.Body}}", "offset": {"x": 0, "y": 500}},
        },
        {
            "name": "bye",
            "type": "send-message",
            "transitions": [{"event": "sent"}, {"event": "failed"}],
            "properties": {"body": "Bye", "offset": {"x": 0, "y": 750}},
        },
    ]
    if without_positions:
        for s in states:
            s["properties"].pop("offset")
    return {
        "description": "Yes or no",
        "states": states,
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
    }


def _row(page: Page, name: str) -> Any:
    return page.locator("tr", has=page.get_by_role("link", name=name, exact=True))


def test_create_rename_export_delete(
    page: Page, server: Server, api: httpx.Client, shot: Any, tmp_path: Path
) -> None:
    login(page, server)
    page.get_by_role("button", name="+ Create new flow").click()
    page.fill("#new-flow-name", "List test")
    page.get_by_role("button", name="Create", exact=True).click()
    expect(node(page, "Trigger")).to_be_visible()
    page.get_by_role("link", name="← Flows").click()

    _row(page, "List test").get_by_role("button", name="Rename").click()
    page.fill("#rename-flow", "List test renamed")
    page.locator(".modal").get_by_role("button", name="Rename").click()
    expect(page.get_by_role("link", name="List test renamed", exact=True)).to_be_visible()
    shot(page, "list")

    with page.expect_download() as download:
        _row(page, "List test renamed").get_by_role("button", name="Export").click()
    saved = tmp_path / "export.json"
    download.value.save_as(saved)
    exported = json.loads(saved.read_text())
    assert exported["initial_state"] == "Trigger"
    assert exported["states"][0]["type"] == "trigger"
    # What was exported imports back through the API unchanged (Studio's format).
    created = api.post(
        "/v2/Flows",
        data={"FriendlyName": "Reimported", "Status": "draft", "Definition": json.dumps(exported)},
    )
    assert created.status_code == 201, created.text
    assert created.json()["definition"] == exported

    _row(page, "List test renamed").get_by_role("button", name="Delete").click()
    page.locator(".modal").get_by_role("button", name="Delete").click()
    expect(page.get_by_role("link", name="List test renamed", exact=True)).to_have_count(0)
    names = [f["friendly_name"] for f in api.get("/v2/Flows").json()["flows"]]
    assert "List test renamed" not in names


def test_import_by_paste_round_trips_the_definition(
    page: Page, server: Server, api: httpx.Client, shot: Any
) -> None:
    login(page, server)
    page.get_by_role("button", name="Import from JSON").click()
    page.fill("#import-name", "Pasted")
    page.fill("#import-text", json.dumps(small_flow()))
    page.locator(".modal").get_by_role("button", name="Import").click()
    expect(node(page, "check")).to_be_visible()
    expect(node(page, "check").locator(".slot-label", has_text="Yes")).to_be_visible()
    expect(
        node(page, "check").locator(".slot-label", has_text="No Condition Matches")
    ).to_be_visible()
    expect(node(page, "Trigger").locator(".slot-label", has_text="REST API")).to_be_visible()
    assert page.locator(".react-flow__edge").count() == 5
    shot(page, "imported")
    sid = page.url.rsplit("/", 1)[-1]
    # Export from the editor gives back exactly what was imported.
    with page.expect_download() as download:
        page.get_by_role("button", name="Export").click()
    exported = json.loads(Path(download.value.path()).read_text())
    assert exported == small_flow()
    assert api.get(f"/v2/Flows/{sid}").json()["definition"] == small_flow()


def test_import_rejects_what_is_not_a_flow(page: Page, server: Server) -> None:
    login(page, server)
    page.get_by_role("button", name="Import from JSON").click()
    page.fill("#import-text", '{"hello": 1}')
    page.locator(".modal").get_by_role("button", name="Import").click()
    expect(page.locator(".modal .error-text")).to_contain_text('no "states" list')
    page.fill("#import-text", "{not json")
    page.locator(".modal").get_by_role("button", name="Import").click()
    expect(page.locator(".modal .error-text")).to_contain_text("Not valid JSON")


def test_import_file_without_positions_is_laid_out(
    page: Page, server: Server, shot: Any, tmp_path: Path
) -> None:
    path = tmp_path / "no-positions.json"
    path.write_text(json.dumps(small_flow(without_positions=True)))
    login(page, server)
    page.get_by_role("button", name="Import from JSON").click()
    page.set_input_files("#import-file", str(path))
    expect(page.locator("#import-name")).to_have_value("no-positions")
    page.locator(".modal").get_by_role("button", name="Import").click()
    expect(node(page, "bye")).to_be_visible()
    expect(page.locator(".toast")).to_contain_text("laid out automatically")
    boxes = [node(page, n).bounding_box() for n in ("Trigger", "ask", "check", "bye")]
    assert all(b is not None for b in boxes)
    ys = [b["y"] for b in boxes if b]
    assert ys == sorted(ys) and len(set(ys)) == 4, "widgets are stacked by depth, no overlap"
    shot(page, "laid-out")


def test_real_studio_exports_open_with_every_widget_and_transition(
    page: Page, server: Server, api: httpx.Client
) -> None:
    if not SHARED_FLOWS.is_dir():
        pytest.skip(f"{SHARED_FLOWS} is absent")
    login(page, server)
    for path in sorted(SHARED_FLOWS.glob("*.json"))[:5]:
        definition = json.loads(path.read_text())
        definition = definition.get("definition", definition)
        r = api.post(
            "/v2/Flows",
            data={
                "FriendlyName": path.stem,
                "Status": "draft",
                "Definition": json.dumps(definition),
            },
        )
        assert r.status_code == 201, r.text
        sid = r.json()["sid"]
        page.goto(f"{server.url}/#/flows/{sid}")
        expect(page.locator(".react-flow__node").first).to_be_visible()
        assert page.locator(".react-flow__node").count() == len(definition["states"])
        # Every transition with a next is drawn as an edge.
        wired = sum(1 for s in definition["states"] for t in s["transitions"] if t.get("next"))
        assert page.locator(".react-flow__edge").count() == wired, path.name
