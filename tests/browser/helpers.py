"""Helpers that drive the editor like a person: log in, drag, wire, fill fields."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.e2e.server import Server
from tests.e2e.teams import ensure_owner


def login(page: Page, server: Server, email: str | None = None, password: str = "") -> None:
    """Logs in with email and password (by default an owner of the server's account)."""
    if email is None:
        email, password = ensure_owner(server)
    page.goto(server.url + "/")
    page.fill("#login-email", email)
    page.fill("#login-password", password)
    page.click("button[type=submit]")
    expect(page.locator(".flows-head")).to_be_visible()


def open_flow(page: Page, server: Server, sid: str) -> None:
    page.goto(f"{server.url}/#/flows/{sid}")
    expect(page.locator(".react-flow__node").first).to_be_visible()


def node(page: Page, name: str) -> Locator:
    return page.locator(f'.react-flow__node:has(.wnode[data-name="{name}"])')


def drag_from_library(page: Page, widget_type: str, x: float, y: float) -> None:
    """Drags a Widget Library item onto the canvas (HTML5 drag and drop) at canvas (x, y)."""
    canvas = page.locator(".canvas .react-flow__pane")
    box = canvas.bounding_box()
    assert box is not None
    page.locator(f'.library-item[data-type="{widget_type}"]').drag_to(
        canvas, target_position={"x": x, "y": y}
    )
    del box


def wire(page: Page, source: str, event: str, target: str, index: int = 0) -> None:
    """Drags from ``source``'s ``event`` handle to ``target``'s input with the mouse."""
    handle = node(page, source).locator(f'.out-handle[data-event="{event}"]').nth(index)
    dest = node(page, target).locator(".wnode-head")
    hb = handle.bounding_box()
    db = dest.bounding_box()
    assert hb is not None and db is not None
    page.mouse.move(hb["x"] + hb["width"] / 2, hb["y"] + hb["height"] / 2)
    page.mouse.down()
    page.mouse.move(hb["x"] + 20, hb["y"] + 60, steps=5)
    page.mouse.move(db["x"] + db["width"] / 2, db["y"] + 4, steps=10)
    page.mouse.up()


def select(page: Page, name: str) -> None:
    node(page, name).locator(".wnode-head").click()
    expect(page.locator(f'.inspector[data-widget="{name}"]')).to_be_visible()


def edges(page: Page) -> int:
    return page.locator(".react-flow__edge").count()


def flow_json(api: Any, sid: str) -> dict[str, Any]:
    r = api.get(f"/v2/Flows/{sid}")
    r.raise_for_status()
    body: dict[str, Any] = r.json()
    return body
