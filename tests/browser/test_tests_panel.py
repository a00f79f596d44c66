"""The editor's Tests panel: run the flow's stored tests, see a failure's diff, show the
transitions no test took on the canvas, and save a simulator session as a test that
then passes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import login, open_flow
from tests.e2e.server import Server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FILES = Path(__file__).resolve().parents[1] / "flowtest" / "files"


def _survey(api: httpx.Client) -> str:
    definition = json.loads((FILES / "survey.json").read_text())
    for i, state in enumerate(definition["states"]):  # positions for the canvas
        state["properties"]["offset"] = {"x": (i % 4) * 300, "y": (i // 4) * 250}
    form = {"FriendlyName": "Survey", "Status": "draft", "Definition": json.dumps(definition)}
    r = api.post("/v2/Flows", data=form)
    assert r.status_code == 201, r.text
    sid: str = r.json()["sid"]
    return sid


def test_tests_panel_runs_shows_failures_coverage_and_saves_a_session(
    page: Page, server: Server, api: httpx.Client, shot: Any
) -> None:
    sid = _survey(api)
    text = (FILES / "survey.test.yaml").read_text().replace("flow: survey.json\n", "")
    tests = text.split("  - name: order not found")[0].replace('"Still there?"', "Anyone?")
    r = api.post(f"/callboard/v1/Flows/{sid}/Tests", data={"Tests": tests})
    assert r.status_code == 201, r.text

    login(page, server)
    open_flow(page, server, sid)
    page.get_by_role("button", name="Tests", exact=True).click()
    panel = page.get_by_label("Tests", exact=True)
    expect(panel.get_by_label("Test file")).to_have_value(tests)
    expect(panel).to_contain_text("expect_dial")  # the step kinds, from the JSON Schema
    panel.get_by_role("button", name="Run tests").click()
    results = panel.get_by_label("Test results")
    expect(results.locator('.test-row[data-test="happy path"] .badge')).to_have_text("PASS")
    expect(results.locator('.test-row[data-test="no answer"] .badge')).to_have_text("FAIL")
    diff = results.locator("pre.test-diff")
    expect(diff).to_contain_text("the next message differs")
    expect(diff).to_contain_text("expected: 'Anyone?'")
    expect(diff).to_contain_text("got:      'Still there?'")
    shot(page, "failure")

    untaken = results.get_by_label("Transitions not taken").locator("li")
    expect(untaken).to_have_count(3)  # Trigger -> greet, check_name -> refuse, lookup -> sorry
    expect(untaken.filter(has_text="check_name —match→ refuse")).to_have_count(1)
    panel.get_by_role("button", name="Show uncovered on canvas").click()
    expect(page.locator(".react-flow__edge.uncovered")).to_have_count(3)
    shot(page, "uncovered")

    panel.get_by_label("Test file").fill(tests.replace("Anyone?", "Still there?"))
    panel.get_by_role("button", name="Save tests").click()
    expect(page.locator(".toast", has_text="Tests saved (version 2)")).to_be_visible()
    panel.get_by_role("button", name="Run tests").click()
    expect(results.locator(".test-row.passed")).to_have_count(2)

    # A simulator session becomes a test...
    page.get_by_role("button", name="Simulator", exact=True).click()
    page.get_by_label("Message").fill("hi")
    page.get_by_role("button", name="Send").click()
    log = page.get_by_label("Conversation")
    expect(log.locator(".bubble.flow", has_text="What is your name?")).to_be_visible()
    page.get_by_label("Message").fill("stop")
    page.get_by_role("button", name="Send").click()
    expect(log.locator(".bubble.flow", has_text="OK, bye.")).to_be_visible()
    page.get_by_role("button", name="Save as test").click()
    expect(
        page.locator(".toast", has_text='Saved as test "simulator conversation"')
    ).to_be_visible()

    # ... that passes, and takes the transition no test took before.
    page.get_by_role("button", name="Tests", exact=True).click()
    expect(panel.get_by_label("Test file")).to_contain_text("simulator conversation")
    panel.get_by_role("button", name="Run tests").click()
    expect(results.locator(".test-row.passed")).to_have_count(3)
    expect(results.locator('.test-row[data-test="simulator conversation"] .badge')).to_have_text(
        "PASS"
    )
    expect(untaken).to_have_count(2)
    expect(untaken.filter(has_text="refuse")).to_have_count(0)
    shot(page, "saved-session")
    stored = api.get(f"/callboard/v1/Flows/{sid}/Tests").json()
    assert stored["version"] == 3 and '- send: "stop"' in stored["tests"]


def test_a_simulated_call_saved_as_a_test_passes(
    page: Page, server: Server, api: httpx.Client, shot: Any
) -> None:
    definition = json.loads((FILES / "menu.json").read_text())
    for i, state in enumerate(definition["states"]):
        state["properties"]["offset"] = {"x": (i % 3) * 320, "y": (i // 3) * 260}
    form = {"FriendlyName": "Menu", "Status": "draft", "Definition": json.dumps(definition)}
    sid = api.post("/v2/Flows", data=form).json()["sid"]
    login(page, server)
    open_flow(page, server, sid)
    page.get_by_role("button", name="Simulator", exact=True).click()
    page.get_by_role("tab", name="Voice call").click()
    page.get_by_role("button", name="Call the flow").click()
    transcript = page.get_by_label("Call transcript")
    expect(transcript).to_contain_text("Press 1 for sales or say support.")
    page.get_by_label("Keypad").get_by_role("button", name="1", exact=True).click()
    page.get_by_role("button", name="Send digits").click()
    expect(transcript.locator(".call-line.hangup")).to_have_count(1)
    page.get_by_role("button", name="Save as test").click()
    expect(page.locator(".toast", has_text='Saved as test "simulator call"')).to_be_visible()
    stored = api.get(f"/callboard/v1/Flows/{sid}/Tests").json()["tests"]
    assert "call: {}" in stored and '- press: "1"' in stored and "expect_dial" in stored

    page.get_by_role("button", name="Tests", exact=True).click()
    panel = page.get_by_label("Tests", exact=True)
    panel.get_by_role("button", name="Run tests").click()
    results = panel.get_by_label("Test results")
    expect(results.locator('.test-row[data-test="simulator call"] .badge')).to_have_text("PASS")
    shot(page, "call-saved")
