"""The editor with a team (issue 14), in Chromium: logging in with email and password
(and failing clearly), no credential in browser storage, a viewer cannot publish, an
editor's saved revision shows their email, the Team page invites a user who then logs
in, and the audit log shows what happened."""

from __future__ import annotations

import json
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.browser.helpers import login, open_flow
from tests.e2e.server import Server
from tests.e2e.teams import add_user, definition, ensure_owner

STORAGE_JS = """() => {
  const all = {};
  for (const store of [localStorage, sessionStorage])
    for (let i = 0; i < store.length; i++) all[store.key(i)] = store.getItem(store.key(i));
  return all;
}"""


def _flow(api: httpx.Client, status: str = "published") -> str:
    r = api.post(
        "/v2/Flows",
        data={
            "FriendlyName": "Team flow",
            "Status": status,
            "Definition": json.dumps(definition()),
        },
    )
    assert r.status_code == 201, r.text
    return str(r.json()["sid"])


def test_login_with_email_and_password_stores_no_credential(
    page: Page, server: Server, shot: Any
) -> None:
    email, password = ensure_owner(server)
    page.goto(server.url + "/")
    page.fill("#login-email", email)
    page.fill("#login-password", "not the password")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    shot(page, "wrong")
    login(page, server)
    expect(page.locator(".whoami")).to_contain_text(f"{email} · owner")
    stored = page.evaluate(STORAGE_JS)
    assert not any(
        secret in json.dumps(stored)
        for secret in (password, server.auth_token, "csrf", "session", "callboard")
    ), stored
    cookies = page.context.cookies()
    session = [c for c in cookies if c["name"] == "callboard_session"]
    assert session and session[0]["httpOnly"] and session[0]["sameSite"] == "Lax"
    assert page.evaluate("() => document.cookie") == ""  # the page cannot read it
    page.reload()  # the session survives a reload without anything stored
    expect(page.locator(".flows-head")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("#login-email")).to_be_visible()
    page.reload()
    expect(page.locator("#login-email")).to_be_visible()


def test_a_viewer_cannot_publish(page: Page, server: Server, api: httpx.Client) -> None:
    add_user(api, "viewer@editor.test", "viewer")
    sid = _flow(api)
    login(page, server, "viewer@editor.test", "correct horse")
    expect(page.get_by_role("button", name="+ Create new flow")).to_have_count(0)
    expect(
        page.locator(f'tr[data-sid="{sid}"]').get_by_role("button", name="Delete")
    ).to_be_disabled()
    expect(page.get_by_role("link", name="Team", exact=True)).to_have_count(0)
    open_flow(page, server, sid)
    publish = page.get_by_role("button", name="Publish", exact=True)
    expect(publish).to_be_disabled()
    expect(publish).to_have_attribute("title", "Needs the admin role (you are viewer)")
    expect(page.get_by_role("button", name="Save", exact=True)).to_be_disabled()
    expect(page.get_by_role("button", name="Simulator")).to_be_disabled()


def test_an_editors_saved_revision_shows_their_email(
    page: Page, server: Server, api: httpx.Client, shot: Any
) -> None:
    add_user(api, "writer@editor.test", "editor")
    sid = _flow(api, status="draft")
    login(page, server, "writer@editor.test", "correct horse")
    open_flow(page, server, sid)
    expect(page.get_by_role("button", name="Publish", exact=True)).to_be_disabled()
    page.get_by_role("button", name="Auto-layout").click()
    page.get_by_role("button", name="Save", exact=True).click()
    page.fill("#commit-message", "Tidied up")
    page.locator(".modal").get_by_role("button", name="Save").click()
    expect(page.locator(".toast.success", has_text="revision 2")).to_be_visible()
    page.get_by_role("button", name="Revisions").click()
    panel = page.get_by_label("Revisions", exact=True)
    newest = panel.locator('.rev-item[data-revision="2"]')
    expect(newest.locator(".rev-author")).to_have_text("writer@editor.test")
    expect(panel.locator('.rev-item[data-revision="1"] .rev-author')).to_have_text(
        server.account_sid
    )
    panel.get_by_label("Select revision 1").check()
    panel.get_by_label("Select revision 2").check()
    panel.get_by_role("button", name="Compare").click()
    expect(page.get_by_label("Revision differences")).to_contain_text(
        "to revision 2 (by writer@editor.test)"
    )
    shot(page, "revisions")
    authors = api.get(f"/callboard/v1/Flows/{sid}/Revisions").json()["revisions"]
    assert authors[0]["author"] == "writer@editor.test"


def test_the_team_page_invites_a_user_who_then_logs_in(
    page: Page, server: Server, api: httpx.Client, browser: Any, shot: Any
) -> None:
    login(page, server)
    page.get_by_role("link", name="Team", exact=True).click()
    expect(page.get_by_role("heading", name="Team")).to_be_visible()
    page.fill("#invite-email", "newcomer@editor.test")
    page.select_option("#invite-role", "editor")
    page.get_by_role("button", name="Invite").click()
    link = page.get_by_label("Invitation link").input_value()
    assert "/#/invite/" in link
    expect(page.locator('tr[data-email="newcomer@editor.test"]')).to_contain_text("invited")
    shot(page, "invited")

    other = browser.new_context()
    try:
        newcomer = other.new_page()
        newcomer.goto(link)
        expect(newcomer.locator(".login")).to_contain_text("newcomer@editor.test")
        newcomer.fill("#invite-password", "a fine password")
        newcomer.fill("#invite-again", "a fine password")
        newcomer.get_by_role("button", name="Join").click()
        expect(newcomer.locator(".whoami")).to_contain_text("newcomer@editor.test · editor")
        newcomer.get_by_role("button", name="Sign out").click()
        newcomer.goto(link)  # the link is used up
        expect(newcomer.get_by_role("alert")).to_contain_text("used or has expired")
        login(newcomer, server, "newcomer@editor.test", "a fine password")
        expect(newcomer.locator(".whoami")).to_contain_text("editor")
    finally:
        other.close()

    page.reload()
    row = page.locator('tr[data-email="newcomer@editor.test"]')
    expect(row).to_contain_text("active")
    row.get_by_label("Role of newcomer@editor.test").select_option("viewer")
    expect(page.locator(".toast.success", has_text="is now viewer")).to_be_visible()
    # An API key made here carries at most the maker's role and names them.
    keys = page.get_by_label("API keys")
    keys.locator("#key-name").fill("deploys")
    keys.locator("#key-role").select_option("editor")
    keys.get_by_role("button", name="Create key").click()
    secret = keys.get_by_label("Key secret").input_value()
    row = keys.locator("tr", has_text="deploys")
    expect(row).to_contain_text("owner@editor.test")
    key_sid = row.locator(".mono").inner_text()
    with httpx.Client(base_url=server.url, auth=(key_sid, secret)) as by_key:
        assert by_key.get("/v2/Flows").status_code == 200
        assert by_key.get("/callboard/v1/AuditEvents").status_code == 403
    page.get_by_role("link", name="Audit log").click()
    table = page.locator(".audit-table")
    expect(table.locator('tr[data-action="user.role"]').first).to_contain_text("owner@editor.test")
    expect(table.locator('tr[data-action="user.invite"]').first).to_be_visible()
    expect(table.locator('tr[data-action="user.accept_invitation"]').first).to_contain_text(
        "newcomer@editor.test"
    )
    shot(page, "audit")
