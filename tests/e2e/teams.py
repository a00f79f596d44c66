"""Helpers for the team tests (issue 14): people with roles, logged in like the editor."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.server import Server

ROLES = ("viewer", "editor", "admin", "owner")

TRIGGER = {
    "name": "Trigger",
    "type": "trigger",
    "transitions": [
        {"event": "incomingMessage", "next": "hello"},
        {"event": "incomingCall"},
        {"event": "incomingConversationMessage"},
        {"event": "incomingRequest", "next": "hello"},
        {"event": "incomingParent"},
    ],
    "properties": {"offset": {"x": 0, "y": 0}},
}


def definition(body: str = "Hello") -> dict[str, Any]:
    hello = {
        "name": "hello",
        "type": "send-message",
        "transitions": [{"event": "sent"}, {"event": "failed"}],
        "properties": {"body": body, "offset": {"x": 0, "y": 200}},
    }
    return {
        "description": "teams",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": [TRIGGER, hello],
    }


def owner_api(server: Server) -> httpx.Client:
    """HTTP Basic with the Account SID and Auth Token (owner rights)."""
    return httpx.Client(
        base_url=server.url, auth=(server.account_sid, server.auth_token), timeout=30
    )


def add_user(api: httpx.Client, email: str, role: str, password: str = "correct horse") -> str:
    r = api.post("/callboard/v1/Users", data={"Email": email, "Role": role, "Password": password})
    assert r.status_code == 201, r.text
    return str(r.json()["sid"])


@contextmanager
def session(server: Server, email: str, password: str = "correct horse") -> Iterator[httpx.Client]:
    """A client logged in like the editor: the session cookie, and X-CSRF-Token on
    every request."""
    with httpx.Client(base_url=server.url, timeout=30) as client:
        r = client.post("/callboard/v1/Session", data={"email": email, "password": password})
        assert r.status_code == 200, r.text
        client.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        yield client


def create_flow(api: httpx.Client, status: str = "published", body: str = "Hello") -> str:
    r = api.post(
        "/v2/Flows",
        data={
            "FriendlyName": "teams",
            "Status": status,
            "Definition": json.dumps(definition(body)),
        },
    )
    assert r.status_code == 201, r.text
    return str(r.json()["sid"])


def assert_forbidden(r: httpx.Response) -> None:
    assert r.status_code == 403, r.text
    assert r.json()["code"] == 20403


def first_owner(server: Server, tmp: Path) -> tuple[str, str]:
    """The owner the first start created, from the server's log."""
    port = server.url.rsplit(":", 1)[1]
    log = (tmp / f"server-{port}.log").read_text()
    email = re.search(r"Email:\s+(\S+)", log)
    password = re.search(r"Password:\s+(\S+)", log)
    assert email and password, log
    return email.group(1), password.group(1)


_OWNERS: dict[str, tuple[str, str]] = {}


def ensure_owner(server: Server) -> tuple[str, str]:
    """An owner user of the server's account (made once per server): (email, password)."""
    if server.url not in _OWNERS:
        email, password = "owner@editor.test", "owner password 1"
        with owner_api(server) as api:
            r = api.post(
                "/callboard/v1/Users", data={"Email": email, "Role": "owner", "Password": password}
            )
            assert r.status_code in (201, 409), r.text
        _OWNERS[server.url] = (email, password)
    return _OWNERS[server.url]


def session_cookie(server: Server, email: str, password: str) -> dict[str, str]:
    """A logged-in session's cookie, for a browser context's ``add_cookies``."""
    r = httpx.post(
        f"{server.url}/callboard/v1/Session", data={"email": email, "password": password}
    )
    assert r.status_code == 200, r.text
    return {"name": "callboard_session", "value": r.cookies["callboard_session"], "url": server.url}
