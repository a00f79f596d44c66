"""First-run defects of the editor: a wrong log-in is refused at once in plain words
(and never a browser password dialog), Fit view shows every node of the largest
real flow, and an execution's path is brought into view."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import login, node
from tests.e2e.server import Server
from tests.e2e.teams import ensure_owner

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "studio-flows"
LARGEST = CORPUS / "mgmuscari__accfb-foodnow__studio_bot_flow.json"


def _sign_in(page: Page, server: Server, email: str, password: str) -> list[dict[str, str]]:
    """Submits the login form; returns the headers of the log-in requests it made."""
    sent: list[dict[str, str]] = []
    page.on("request", lambda r: sent.append(r.headers) if "/Session" in r.url else None)
    page.goto(server.url + "/")
    page.fill("#login-email", email)
    page.fill("#login-password", password)
    page.click("button[type=submit]")
    return sent


@pytest.mark.parametrize("who", ["the owner", "nobody"])
def test_a_wrong_login_says_why_within_a_second(page: Page, server: Server, who: str) -> None:
    """The editor logs in with email and password (issue 14); a wrong password or an
    unknown email is refused at once, in plain words, with no browser password dialog."""
    owner, _ = ensure_owner(server)
    email = owner if who == "the owner" else "nobody@example.com"
    answers: list[dict[str, str]] = []
    page.on("response", lambda r: answers.append(r.headers) if "/Session" in r.url else None)
    sent = _sign_in(page, server, email, "not the password")
    alert = page.get_by_role("alert")
    expect(alert).to_have_text("Wrong email or password.", timeout=1000)  # the bar: < 1 s
    expect(page.locator("button[type=submit]")).to_be_enabled()
    assert sent and answers and all("www-authenticate" not in h for h in answers)
    expect(page.locator(".flows-head")).to_have_count(0)


def _create_flow(api: httpx.Client, name: str, definition: dict[str, Any]) -> str:
    made = api.post(
        "/v2/Flows",
        data={"FriendlyName": name, "Status": "published", "Definition": json.dumps(definition)},
    )
    assert made.status_code == 201, made.text
    sid: str = made.json()["sid"]
    return sid


def _login(page: Page, server: Server) -> None:
    login(page, server)


def _inside(page: Page, names: list[str] | None = None) -> tuple[int, list[str]]:
    """(how many nodes are rendered, the names of those not wholly inside the canvas)."""
    canvas = page.locator(".canvas .react-flow").bounding_box()
    assert canvas is not None
    outside: list[str] = []
    nodes = page.locator(".react-flow__node")
    total = nodes.count()
    for i in range(total):
        el = nodes.nth(i)
        name = el.locator(".wnode").get_attribute("data-name") or f"#{i}"
        if names is not None and name not in names:
            continue
        box = el.bounding_box()
        assert box is not None
        if (
            box["x"] < canvas["x"] - 1
            or box["y"] < canvas["y"] - 1
            or box["x"] + box["width"] > canvas["x"] + canvas["width"] + 1
            or box["y"] + box["height"] > canvas["y"] + canvas["height"] + 1
        ):
            outside.append(name)
    return total, outside


def test_fit_view_shows_every_node_of_the_largest_corpus_flow(
    page: Page, server: Server, api: httpx.Client, shot: Any
) -> None:
    if not LARGEST.exists():
        pytest.skip(f"{LARGEST} is absent (../shared/studio-flows)")
    raw = json.loads(LARGEST.read_text())
    definition = raw.get("definition", raw)
    count = len(definition["states"])
    assert count == 129
    sid = _create_flow(api, "Largest", definition)
    _login(page, server)
    page.goto(f"{server.url}/#/flows/{sid}")
    expect(page.locator(".react-flow__node").first).to_be_visible()
    page.locator(".react-flow__controls-fitview").click()
    expect(page.locator(".react-flow__node")).to_have_count(count)
    total, outside = _inside(page)
    shot(page, "fit-129")
    assert total == count and outside == []


def test_an_execution_path_is_brought_into_view(
    page: Page, server: Server, api: httpx.Client
) -> None:
    definition = {
        "description": "far apart",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": [
            {
                "name": "Trigger",
                "type": "trigger",
                "transitions": [
                    {"event": "incomingMessage"},
                    {"event": "incomingCall"},
                    {"event": "incomingConversationMessage"},
                    {"event": "incomingRequest", "next": "far"},
                    {"event": "incomingParent"},
                ],
                "properties": {"offset": {"x": 0, "y": 0}},
            },
            {
                "name": "far",
                "type": "set-variables",
                "transitions": [{"event": "next"}],
                "properties": {
                    "variables": [{"key": "a", "value": "1"}],
                    "offset": {"x": 2400, "y": 1800},
                },
            },
        ],
    }
    sid = _create_flow(api, "Far apart", definition)
    made = api.post(f"/v2/Flows/{sid}/Executions", data={"To": "+15550001", "From": "+15550002"})
    assert made.status_code == 201, made.text
    _login(page, server)
    page.goto(f"{server.url}/#/flows/{sid}")
    expect(node(page, "far")).to_be_visible()
    # pan the canvas far away, so that the path is off-screen
    pane = page.locator(".canvas .react-flow__pane").bounding_box()
    assert pane is not None
    cx, cy = pane["x"] + pane["width"] / 2, pane["y"] + pane["height"] / 2
    for _ in range(3):
        page.mouse.move(cx, cy)
        page.mouse.down()
        page.mouse.move(cx - 350, cy - 250, steps=8)
        page.mouse.up()
    assert _inside(page, ["Trigger", "far"])[1] != []
    page.get_by_role("button", name="Executions").click()
    page.locator(f'.exec-item[data-sid="{made.json()["sid"]}"]').click()
    expect(node(page, "far").locator(".wnode")).to_have_class(__import__("re").compile("hl-"))
    for _ in range(50):
        if _inside(page, ["Trigger", "far"])[1] == []:
            break
        page.wait_for_timeout(100)
    assert _inside(page, ["Trigger", "far"])[1] == []
