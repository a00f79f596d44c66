"""End to end (issue 14): authorship of revisions (through an editor's session, an API
key and twilio-python with the Auth Token), the audit log with its filters and paging,
and the first start's owner — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from twilio.rest import Client

from tests.e2e.server import Server, database, running_server
from tests.e2e.teams import add_user, create_flow, definition, first_owner, owner_api, session

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def started(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Path]]:
    tmp = tmp_path_factory.mktemp(f"teams-audit-{request.param}")
    with database(request.param, tmp) as url, running_server(url, tmp) as srv:
        yield srv, tmp


@pytest.fixture(scope="module")
def server(started: tuple[Server, Path]) -> Server:
    return started[0]


@pytest.fixture(scope="module")
def api(server: Server) -> Iterator[httpx.Client]:
    with owner_api(server) as client:
        yield client


def revisions(api: httpx.Client, flow: str) -> list[dict[str, object]]:
    r = api.get(f"/callboard/v1/Flows/{flow}/Revisions")
    assert r.status_code == 200, r.text
    return list(r.json()["revisions"])


def test_the_first_start_prints_an_owner_who_can_log_in(started: tuple[Server, Path]) -> None:
    server, tmp = started
    email, password = first_owner(server, tmp)
    assert email == "admin@localhost"
    with session(server, email, password) as s:
        me = s.get("/callboard/v1/Session").json()["user"]
        assert me["role"] == "owner" and me["account_sid"] == server.account_sid


def test_authorship_through_a_session_a_key_and_twilio_python(
    server: Server, api: httpx.Client
) -> None:
    add_user(api, "writer@team.example", "editor")
    twilio = Client(server.account_sid, server.auth_token)
    twilio.studio.base_url = server.url
    flow = twilio.studio.v2.flows.create(
        friendly_name="authored", status="draft", definition=definition("one")
    )
    with session(server, "writer@team.example") as s:
        saved = s.post(
            f"/v2/Flows/{flow.sid}",
            data={"Status": "draft", "Definition": json.dumps(definition("two"))},
        ).json()
        writer = s.get("/callboard/v1/Session").json()["user"]["sid"]
    assert saved["author_sid"] == writer  # Studio's author_sid names the user
    key = api.post("/callboard/v1/Keys", data={"FriendlyName": "ci", "Role": "editor"}).json()
    by_key = Client(key["sid"], key["secret"], account_sid=server.account_sid)
    by_key.studio.base_url = server.url
    by_key.studio.v2.flows(flow.sid).update(status="draft", definition=definition("three"))
    listed = revisions(api, flow.sid)
    assert [(r["revision"], r["author"]) for r in listed] == [
        (3, key["sid"]),
        (2, "writer@team.example"),
        (1, server.account_sid),
    ]
    assert set(listed[0]) == {
        "revision",
        "status",
        "commit_message",
        "author",
        "author_sid",
        "date_created",
    }
    fetched = twilio.studio.v2.flows(flow.sid).revisions("2").fetch()
    assert fetched.author_sid == writer


def audit(api: httpx.Client, **filters: str) -> list[dict[str, object]]:
    r = api.get("/callboard/v1/AuditEvents", params={"PageSize": 1000, **filters})
    assert r.status_code == 200, r.text
    return list(r.json()["audit_events"])


def test_every_listed_action_is_audited(server: Server, api: httpx.Client) -> None:
    add_user(api, "boss@team.example", "admin")
    with session(server, "boss@team.example") as s:
        flow = create_flow(s, status="draft")
        assert s.post(f"/v2/Flows/{flow}", data={"Status": "published"}).status_code == 200
        restore = s.post(f"/callboard/v1/Flows/{flow}/Revisions/1/Restore")
        assert restore.status_code == 200 and restore.json()["status"] == "draft"
        invited = s.post(
            "/callboard/v1/Users", data={"Email": "new@team.example", "Role": "editor"}
        )
        user = invited.json()["sid"]
        assert s.post(f"/callboard/v1/Users/{user}", data={"Role": "viewer"}).status_code == 200
        assert s.delete(f"/callboard/v1/Users/{user}").status_code == 204
        key = s.post("/callboard/v1/Keys", data={"FriendlyName": "k"}).json()["sid"]
        assert s.delete(f"/callboard/v1/Keys/{key}").status_code == 204
        sink = s.post(
            "/v1/Sinks",
            data={
                "Description": "hook",
                "SinkType": "webhook",
                "SinkConfiguration": json.dumps(
                    {"destination": "http://127.0.0.1:9/", "method": "POST"}
                ),
            },
        ).json()["sid"]
        assert s.post(f"/v1/Sinks/{sink}", data={"Description": "hook 2"}).status_code == 200
        sub = s.post(
            "/v1/Subscriptions",
            data={
                "Description": "all",
                "SinkSid": sink,
                "Types": json.dumps({"type": "com.twilio.studio.flow.execution.started"}),
            },
        )
        assert sub.status_code == 201, sub.text
        assert s.delete(f"/v1/Subscriptions/{sub.json()['sid']}").status_code == 204
        assert s.delete(f"/v1/Sinks/{sink}").status_code == 204
        assert s.delete(f"/v2/Flows/{flow}").status_code == 204
    mine = audit(api, Actor="boss@team.example")
    seen = [(e["action"], e["resource_sid"]) for e in reversed(mine)]
    assert seen == [
        ("flow.publish", flow),
        ("revision.restore", flow),
        ("user.invite", user),
        ("user.role", user),
        ("user.remove", user),
        ("api_key.create", key),
        ("api_key.delete", key),
        ("sink.create", sink),
        ("sink.update", sink),
        ("subscription.create", sub.json()["sid"]),
        ("subscription.delete", sub.json()["sid"]),
        ("sink.delete", sink),
        ("flow.delete", flow),
    ]
    assert all(e["client_address"] == "127.0.0.1" and e["date_created"] for e in mine)
    assert {e["actor_sid"] for e in mine} == {mine[0]["actor_sid"]}
    # the filters: action, actor (email or SID), date; Twilio paging
    assert [e["resource_sid"] for e in audit(api, Action="flow.delete")] == [flow]
    by_sid = audit(api, Actor=str(mine[0]["actor_sid"]))
    assert [e["sid"] for e in by_sid] == [e["sid"] for e in mine]
    assert audit(api, StartDate="2100-01-01T00:00:00Z") == []
    assert len(audit(api, EndDate="2100-01-01T00:00:00Z")) >= len(mine)
    page = api.get(
        "/callboard/v1/AuditEvents", params={"PageSize": 5, "Actor": "boss@team.example"}
    )
    walked = []
    while True:
        body = page.json()
        walked += [e["sid"] for e in body["audit_events"]]
        if not body["meta"]["next_page_url"]:
            break
        page = api.get(body["meta"]["next_page_url"])
    assert walked == [e["sid"] for e in mine]
    bad = api.get("/callboard/v1/AuditEvents", params={"StartDate": "yesterday"})
    assert bad.status_code == 400 and bad.json()["code"] == 20001
