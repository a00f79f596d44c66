"""End to end (issue 14): each role against each kind of route over a real server —
allowed works, forbidden answers 403 / 20403 and changes nothing — plus CSRF, log-in
throttling, sessions ended by a role change or removal, and API keys capped at their
creator's role."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import Server, running_server
from tests.e2e.teams import (
    ROLES,
    add_user,
    assert_forbidden,
    create_flow,
    definition,
    owner_api,
    session,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("teams-access")
    # the tests stand behind a "proxy" on loopback, so that X-Forwarded-For names clients
    with running_server(
        f"sqlite:///{tmp / 'teams.db'}", tmp, CALLBOARD_TRUSTED_PROXIES="127.0.0.1/32"
    ) as srv:
        yield srv


@pytest.fixture(scope="module")
def api(server: Server) -> Iterator[httpx.Client]:
    with owner_api(server) as client:
        yield client


@pytest.fixture(scope="module")
def team(api: httpx.Client) -> dict[str, str]:
    emails = {role: f"{role}@team.example" for role in ROLES}
    for role, email in emails.items():
        add_user(api, email, role)
    return emails


Case = tuple[str, str, Callable[[httpx.Client, str], httpx.Response], Callable[[], Any]]


def _cases(api: httpx.Client, flow: str, n: int) -> list[Case]:
    """(kind, role needed, the request, a snapshot of what it would change)."""
    doomed = create_flow(api)
    fw = f"/v2/Flows/{flow}"

    def flow_state() -> Any:
        body = api.get(fw).json()
        return body["revision"], body["status"], body["definition"]

    def count(path: str, key: str) -> Callable[[], int]:
        return lambda: len(api.get(path, params={"PageSize": 1000}).json()[key])

    def stream(s: httpx.Client, _: str) -> httpx.Response:
        with s.stream("GET", f"/callboard/v1/Flows/{flow}/Events/Stream") as r:
            return r

    sim = "/callboard/v1/Simulator/Messages"
    return [
        ("studio read", "viewer", lambda s, r: s.get(fw), flow_state),
        ("executions read", "viewer", lambda s, r: s.get(fw + "/Executions"), flow_state),
        (
            "save a draft",
            "editor",
            lambda s, r: s.post(
                fw, data={"Status": "draft", "Definition": json.dumps(definition(f"{r} {n}"))}
            ),
            flow_state,
        ),
        (
            "publish",
            "admin",
            lambda s, r: s.post(
                fw, data={"Status": "published", "Definition": json.dumps(definition(f"p{r}{n}"))}
            ),
            flow_state,
        ),
        (
            "restore a revision",
            "editor",
            lambda s, r: s.post(f"/callboard/v1/Flows/{flow}/Revisions/1/Restore"),
            flow_state,
        ),
        (
            "delete a flow",
            "admin",
            lambda s, r: s.delete(f"/v2/Flows/{doomed}"),
            lambda: api.get(f"/v2/Flows/{doomed}").status_code,
        ),
        (
            "start an execution",
            "editor",
            lambda s, r: s.post(
                fw + "/Executions", data={"To": f"+1555000{n:04d}", "From": "+15550009999"}
            ),
            count(fw + "/Executions", "executions"),
        ),
        (
            "test users",
            "admin",
            lambda s, r: s.post(fw + "/TestUsers", data={"TestUsers": f"+1555111{n:04d}"}),
            lambda: api.get(fw + "/TestUsers").json()["test_users"],
        ),
        ("events read", "viewer", lambda s, r: s.get("/v1/Sinks"), count("/v1/Sinks", "sinks")),
        (
            "create a sink",
            "admin",
            lambda s, r: s.post(
                "/v1/Sinks",
                data={
                    "Description": r,
                    "SinkType": "webhook",
                    "SinkConfiguration": json.dumps(
                        {"destination": "http://127.0.0.1:9/x", "method": "POST"}
                    ),
                },
            ),
            count("/v1/Sinks", "sinks"),
        ),
        ("callboard read", "viewer", lambda s, r: s.get("/callboard/v1/WidgetTypes"), flow_state),
        ("live stream (SSE)", "viewer", stream, flow_state),
        (
            "simulator run",
            "editor",
            lambda s, r: s.post(
                sim,
                data={
                    "FlowSid": flow,
                    "From": f"+1555222{n:04d}",
                    "To": "+15550001111",
                    "Body": "hi",
                },
            ),
            lambda: api.get(sim, params={"FlowSid": flow, "Contact": f"+1555222{n:04d}"}).json(),
        ),
        ("audit log", "admin", lambda s, r: s.get("/callboard/v1/AuditEvents"), flow_state),
        (
            "invite a viewer",
            "admin",
            lambda s, r: s.post(
                "/callboard/v1/Users", data={"Email": f"v{n}@by-{r}.example", "Role": "viewer"}
            ),
            lambda: len(api.get("/callboard/v1/Users").json()["users"]),
        ),
        (
            "make an admin",
            "owner",
            lambda s, r: s.post(
                "/callboard/v1/Users", data={"Email": f"a{n}@by-{r}.example", "Role": "admin"}
            ),
            lambda: len(api.get("/callboard/v1/Users").json()["users"]),
        ),
        (
            "create an API key",
            "admin",
            lambda s, r: s.post("/callboard/v1/Keys", data={"FriendlyName": r}),
            lambda: len(api.get("/callboard/v1/Keys").json()["keys"]),
        ),
    ]


def test_each_role_against_each_kind_of_route(
    server: Server, api: httpx.Client, team: dict[str, str]
) -> None:
    flow = create_flow(api)
    for n, role in enumerate(ROLES):
        with session(server, team[role]) as s:
            for kind, needed, do, snapshot in _cases(api, flow, n):
                before = snapshot()
                r = do(s, role)
                if ROLES.index(role) >= ROLES.index(needed):
                    assert r.status_code < 300, f"{role} / {kind}: {r.status_code}"
                else:
                    assert r.status_code == 403, f"{role} / {kind}: {r.status_code}"
                    assert_forbidden(r)
                    assert snapshot() == before, f"{role} / {kind} changed something"


def test_state_changing_cookie_requests_need_the_csrf_token(
    server: Server, api: httpx.Client, team: dict[str, str]
) -> None:
    flows = len(api.get("/v2/Flows").json()["flows"])
    with session(server, team["owner"]) as s:
        token = s.headers.pop("X-CSRF-Token")
        data = {"FriendlyName": "x", "Status": "draft", "Definition": json.dumps(definition())}
        assert_forbidden(s.post("/v2/Flows", data=data))
        assert_forbidden(s.post("/v2/Flows", data=data, headers={"X-CSRF-Token": "nope"}))
        assert s.get("/v2/Flows").status_code == 200  # reading needs no token
        assert len(api.get("/v2/Flows").json()["flows"]) == flows
        assert_forbidden(s.delete("/callboard/v1/Session"))  # logging out too
        assert s.get("/callboard/v1/Session").status_code == 200
        assert s.post("/v2/Flows", data=data, headers={"X-CSRF-Token": token}).status_code == 201
        assert s.delete("/callboard/v1/Session", headers={"X-CSRF-Token": token}).status_code == 204
        assert s.get("/v2/Flows").status_code == 401


def test_the_eleventh_bad_login_is_throttled(server: Server, api: httpx.Client) -> None:
    add_user(api, "target@team.example", "viewer")
    url = f"{server.url}/callboard/v1/Session"
    wrong = {"email": "target@team.example", "password": "wrong password"}
    for i in range(10):  # from ten addresses: only the email's counter fills up
        r = httpx.post(url, data=wrong, headers={"X-Forwarded-For": f"10.1.0.{i}"})
        assert r.status_code == 401, r.text
    right = {"email": "target@team.example", "password": "correct horse"}
    r = httpx.post(url, data=right, headers={"X-Forwarded-For": "10.1.1.1"})
    assert r.status_code == 429, r.text
    assert r.json()["code"] == 20429
    assert 0 < int(r.headers["Retry-After"]) <= 900
    # one client address trying many emails is throttled as well
    for i in range(10):
        bad = {"email": f"nobody{i}@team.example", "password": "x" * 10}
        r = httpx.post(url, json=bad, headers={"X-Forwarded-For": "10.2.0.1"})
        assert r.status_code == 401
    add_user(api, "other@team.example", "viewer")
    mine = {"email": "other@team.example", "password": "correct horse"}
    assert httpx.post(url, data=mine, headers={"X-Forwarded-For": "10.2.0.1"}).status_code == 429
    assert httpx.post(url, data=mine, headers={"X-Forwarded-For": "10.2.0.2"}).status_code == 200


def test_role_change_and_removal_end_sessions_at_once(server: Server, api: httpx.Client) -> None:
    sid = add_user(api, "moving@team.example", "editor")
    with session(server, "moving@team.example") as s:
        assert s.get("/v2/Flows").status_code == 200
        r = api.post(f"/callboard/v1/Users/{sid}", data={"Role": "viewer"})
        assert r.status_code == 200 and r.json()["role"] == "viewer"
        assert s.get("/v2/Flows").status_code == 401
    with session(server, "moving@team.example") as s:
        draft = {"Status": "draft", "FriendlyName": "x", "Definition": json.dumps(definition())}
        assert_forbidden(s.post("/v2/Flows", data=draft))
        assert api.delete(f"/callboard/v1/Users/{sid}").status_code == 204
        assert s.get("/v2/Flows").status_code == 401
    login = {"email": "moving@team.example", "password": "correct horse"}
    assert httpx.post(f"{server.url}/callboard/v1/Session", data=login).status_code == 401


def test_the_last_owner_stays(api: httpx.Client, team: dict[str, str]) -> None:
    owners = [u for u in api.get("/callboard/v1/Users").json()["users"] if u["role"] == "owner"]
    for owner in owners[1:]:
        assert api.delete(f"/callboard/v1/Users/{owner['sid']}").status_code == 204
    last = owners[0]["sid"]
    assert api.post(f"/callboard/v1/Users/{last}", data={"Role": "admin"}).status_code == 409
    assert api.delete(f"/callboard/v1/Users/{last}").status_code == 409


def test_api_keys_carry_their_creators_role_at_most(
    server: Server, api: httpx.Client, tmp_path: Path
) -> None:
    admin = add_user(api, "keymaker@team.example", "admin")
    flow = create_flow(api)
    with session(server, "keymaker@team.example") as s:
        big = s.post("/callboard/v1/Keys", data={"FriendlyName": "big", "Role": "owner"}).json()
        assert big["role"] == "admin"
        small = s.post("/callboard/v1/Keys", data={"FriendlyName": "ed", "Role": "editor"}).json()
    listed = {k["sid"]: k for k in api.get("/callboard/v1/Keys").json()["keys"]}
    assert listed[big["sid"]]["created_by"] == "keymaker@team.example"
    assert listed[small["sid"]]["role"] == "editor"
    draft = {"Status": "draft", "Definition": json.dumps(definition("by key"))}
    publish = {"Status": "published"}
    with httpx.Client(base_url=server.url, auth=(small["sid"], small["secret"])) as key:
        assert key.post(f"/v2/Flows/{flow}", data=draft).status_code == 200
        assert_forbidden(key.post(f"/v2/Flows/{flow}", data=publish))
        assert api.get(f"/v2/Flows/{flow}").json()["status"] == "draft"
    with httpx.Client(base_url=server.url, auth=(big["sid"], big["secret"])) as key:
        assert key.post(f"/v2/Flows/{flow}", data=publish).status_code == 200
        api.post(f"/callboard/v1/Users/{admin}", data={"Role": "viewer"})
        assert key.get(f"/v2/Flows/{flow}").status_code == 200
        assert_forbidden(key.post(f"/v2/Flows/{flow}", data=draft))
        api.delete(f"/callboard/v1/Users/{admin}")
        assert_forbidden(key.get(f"/v2/Flows/{flow}"))
