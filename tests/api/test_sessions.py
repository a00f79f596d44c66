"""Browser sessions and invitations (issue 14), in process: the cookie's attributes,
clear errors for bad log-in bodies, invitations used once."""

from __future__ import annotations

import dataclasses
import re

from starlette.testclient import TestClient

from callboard.api.app import create_app
from callboard.api.services import Services
from callboard.runtime.records import Account
from callboard.runtime.settings import Settings
from tests.api.helpers import assert_error


def _user(services: Services, account: Account, email: str, role: str) -> None:
    services.team.add_user(account.sid, email, role, "long enough")


def test_cookie_is_httponly_lax_and_secure_on_an_https_public_url(
    services: Services, settings: Settings, account: Account
) -> None:
    _user(services, account, "ann@example.com", "editor")
    for public, secure in (("https://cb.example.com", True), (None, False)):
        app = create_app(services, dataclasses.replace(settings, public_url=public))
        with TestClient(app, base_url="http://testserver") as c:
            r = c.post(
                "/callboard/v1/Session",
                data={"email": "ann@example.com", "password": "long enough"},
            )
            assert r.status_code == 200, r.text
            cookie = r.headers["set-cookie"]
            assert re.search(r"callboard_session=[\w-]{40,}", cookie)
            assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
            assert ("Secure" in cookie) is secure
            body = r.json()
            assert body["user"]["email"] == "ann@example.com" and body["user"]["role"] == "editor"
            assert len(body["csrf_token"]) >= 40 and "password_hash" not in body["user"]
            me = c.get("/callboard/v1/Me")  # a Secure cookie does not travel over http
            assert me.status_code == (401 if secure else 200)


def test_log_in_errors_are_clear(anon: TestClient, services: Services, account: Account) -> None:
    _user(services, account, "bob@example.com", "viewer")
    assert_error(anon.post("/callboard/v1/Session", data={"email": "bob@example.com"}), 400, 20001)
    bad_json = anon.post(
        "/callboard/v1/Session", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert_error(bad_json, 400, 20001)
    wrong = anon.post("/callboard/v1/Session", json={"email": "bob@example.com", "password": "x"})
    assert_error(wrong, 401, 20003)
    assert wrong.json()["message"] == "Wrong email or password"
    assert "www-authenticate" not in wrong.headers
    assert_error(anon.get("/callboard/v1/Session"), 401, 20003)
    assert anon.delete("/callboard/v1/Session").status_code == 204  # nothing to end
    assert_error(anon.put("/callboard/v1/Session"), 405, 20004)


def test_an_invitation_is_used_once(
    client: TestClient, anon: TestClient, services: Services, account: Account
) -> None:
    r = client.post("/callboard/v1/Users", data={"Email": "cat@example.com", "Role": "viewer"})
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "invited"
    token = r.json()["invitation_url"].rsplit("/", 1)[1]
    assert anon.get(f"/callboard/v1/Invitations/{token}").json() == {
        "email": "cat@example.com",
        "role": "viewer",
    }
    short = anon.post(f"/callboard/v1/Invitations/{token}", data={"password": "short"})
    assert_error(short, 400, 20001)
    ok = anon.post(f"/callboard/v1/Invitations/{token}", data={"password": "a good password"})
    assert ok.status_code == 200 and ok.json()["user"]["status"] == "active"
    assert_error(anon.get(f"/callboard/v1/Invitations/{token}"), 404, 20404)
    again = anon.post(f"/callboard/v1/Invitations/{token}", data={"password": "a good password"})
    assert_error(again, 404, 20404)
    assert services.team.login("cat@example.com", "a good password") is not None
    # a session's requests work without Basic; an invited user's role applies
    assert anon.get("/v2/Flows").status_code == 200
    assert_error(anon.get("/callboard/v1/AuditEvents"), 403, 20403)


def test_a_password_reset_link_ends_the_sessions_and_sets_a_new_password(
    client: TestClient, anon: TestClient, services: Services, account: Account
) -> None:
    _user(services, account, "dan@example.com", "editor")
    login = {"email": "dan@example.com", "password": "long enough"}
    assert anon.post("/callboard/v1/Session", data=login).status_code == 200
    assert anon.get("/v2/Flows").status_code == 200
    dan = client.get("/callboard/v1/Users").json()["users"][0]["sid"]
    reset = client.post(f"/callboard/v1/Users/{dan}/Invitation")
    assert reset.status_code == 201, reset.text
    assert_error(anon.get("/v2/Flows"), 401, 20003)  # the session ended
    assert_error(anon.post("/callboard/v1/Session", data=login), 401, 20003)
    token = reset.json()["invitation_url"].rsplit("/", 1)[1]
    chosen = anon.post(f"/callboard/v1/Invitations/{token}", data={"password": "new and long"})
    assert chosen.status_code == 200 and chosen.json()["user"]["email"] == "dan@example.com"
    events = client.get("/callboard/v1/AuditEvents", params={"Action": "user.password"}).json()
    assert [e["resource_sid"] for e in events["audit_events"]] == [dan]


def test_forbidden_answers_name_the_role_and_change_nothing(
    client: TestClient, anon: TestClient, services: Services, account: Account
) -> None:
    flow = client.post(
        "/v2/Flows", data={"FriendlyName": "f", "Status": "draft", "Definition": "{}"}
    ).json()["sid"]
    _user(services, account, "eve@example.com", "viewer")
    r = anon.post(
        "/callboard/v1/Session", data={"email": "eve@example.com", "password": "long enough"}
    )
    anon.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    draft = anon.post(f"/v2/Flows/{flow}", data={"Status": "draft", "Definition": "{}"})
    assert_error(draft, 403, 20403)
    assert "your role (viewer) cannot POST /v2/Flows/" in draft.json()["message"]
    publish = anon.post(f"/v2/Flows/{flow}", data={"Status": "published"})
    assert_error(publish, 403, 20403)
    assert "cannot publish flows; it needs admin" in publish.json()["message"]
    assert client.get(f"/v2/Flows/{flow}").json()["revision"] == 1
