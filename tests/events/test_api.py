"""The Events v1 API over HTTP (in-process app): shapes, paging, errors, isolation,
Callboard's Failures route and the live stream."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from callboard.api.app import create_app
from callboard.api.services import Services
from callboard.channels.config import ChannelConfig
from callboard.commands.compose import build_services
from callboard.events.envelope import EXECUTION_ENDED, EXECUTION_STARTED, STEP_ENDED
from callboard.runtime.service import Callboard
from callboard.runtime.settings import Settings
from tests.events.conftest import two_step_flow

HOOK = json.dumps(
    {"destination": "http://127.0.0.1:9/hook", "method": "POST", "batch_events": True}
)
STEP = json.dumps({"type": STEP_ENDED, "schema_version": 2})
ENDED = json.dumps({"type": EXECUTION_ENDED})


@pytest.fixture
def app_services(tmp_path: Path) -> Iterator[Services]:
    built = build_services(f"sqlite:///{tmp_path / 'api.db'}", channel_config=ChannelConfig())
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def app_service(app_services: Services) -> Callboard:
    return app_services.callboard


def _client(services: Services, tmp_path: Path, name: str) -> TestClient:
    svc = services.callboard
    settings = Settings(database_url=svc.db.url, data_dir=tmp_path)
    acct = svc.create_account(name)
    client = TestClient(create_app(services, settings))
    client.auth = (acct.sid, acct.auth_token)
    client.headers["X-Account"] = acct.sid  # for the tests' own bookkeeping
    return client


@pytest.fixture
def api(app_services: Services, tmp_path: Path) -> Iterator[TestClient]:
    with _client(app_services, tmp_path, "mine") as c:
        yield c


@pytest.fixture
def stranger(app_services: Services, tmp_path: Path) -> Iterator[TestClient]:
    with _client(app_services, tmp_path, "theirs") as c:
        yield c


def make_sink(api: TestClient, description: str = "My sink") -> dict[str, Any]:
    r = api.post(
        "/v1/Sinks",
        data={"Description": description, "SinkType": "webhook", "SinkConfiguration": HOOK},
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def make_subscription(api: TestClient, sink_sid: str) -> dict[str, Any]:
    r = api.post(
        "/v1/Subscriptions",
        data={"Description": "Steps", "SinkSid": sink_sid, "Types": [STEP, ENDED]},
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_sink_lifecycle_has_twilios_shapes(api: TestClient) -> None:
    sink = make_sink(api)
    sid = sink["sid"]
    assert sid.startswith("DG") and len(sid) == 34
    assert set(sink) == {
        "date_created",
        "date_updated",
        "description",
        "sid",
        "sink_configuration",
        "sink_type",
        "status",
        "url",
        "links",
    }
    assert sink["status"] == "initialized" and sink["sink_type"] == "webhook"
    assert sink["sink_configuration"]["destination"] == "http://127.0.0.1:9/hook"
    assert sink["url"] == f"http://testserver/v1/Sinks/{sid}"
    assert sink["links"] == {
        "sink_test": sink["url"] + "/Test",
        "sink_validate": sink["url"] + "/Validate",
    }
    assert api.get(f"/v1/Sinks/{sid}").json() == sink
    updated = api.post(f"/v1/Sinks/{sid}", data={"Description": "Renamed"}).json()
    assert updated["description"] == "Renamed"
    listed = api.get("/v1/Sinks").json()
    assert listed["meta"]["key"] == "sinks" and [s["sid"] for s in listed["sinks"]] == [sid]
    assert api.delete(f"/v1/Sinks/{sid}").status_code == 204
    assert api.get(f"/v1/Sinks/{sid}").status_code == 404


def test_test_and_validate_make_a_sink_active(api: TestClient, app_service: Callboard) -> None:
    sid = make_sink(api)["sid"]
    r = api.post(f"/v1/Sinks/{sid}/Test")
    assert r.status_code == 201 and r.json() == {"result": "submitted"}
    assert api.get(f"/v1/Sinks/{sid}").json()["status"] == "validating"
    bad = api.post(f"/v1/Sinks/{sid}/Validate", data={"TestId": "TE" + "0" * 32})
    assert bad.json() == {"result": "invalid"}
    from sqlalchemy import select

    from callboard.store.event_tables import event_sinks

    with app_service.db.read() as conn:
        test_id = conn.execute(
            select(event_sinks.c.test_id).where(event_sinks.c.sid == sid)
        ).scalar_one()
    ok = api.post(f"/v1/Sinks/{sid}/Validate", data={"TestId": test_id})
    assert ok.status_code == 201 and ok.json() == {"result": "valid"}
    assert api.get(f"/v1/Sinks/{sid}").json()["status"] == "active"


def test_subscriptions_and_subscribed_events(api: TestClient) -> None:
    sink_sid = make_sink(api)["sid"]
    other_sink = make_sink(api, "other")["sid"]
    sub = make_subscription(api, sink_sid)
    sid = sub["sid"]
    assert sid.startswith("DF") and sub["sink_sid"] == sink_sid
    assert sub["links"]["subscribed_events"] == sub["url"] + "/SubscribedEvents"
    make_subscription(api, other_sink)
    filtered = api.get("/v1/Subscriptions", params={"SinkSid": sink_sid}).json()
    assert [s["sid"] for s in filtered["subscriptions"]] == [sid]
    assert "SinkSid=" + sink_sid in filtered["meta"]["url"]
    types = api.get(f"/v1/Subscriptions/{sid}/SubscribedEvents").json()
    assert types["meta"]["key"] == "types"
    assert {(t["type"], t["schema_version"]) for t in types["types"]} == {
        (STEP_ENDED, 2),
        (EXECUTION_ENDED, 2),
    }
    added = api.post(
        f"/v1/Subscriptions/{sid}/SubscribedEvents",
        data={"Type": EXECUTION_STARTED, "SchemaVersion": "1"},
    )
    assert added.status_code == 201
    assert added.json() == {
        "account_sid": sub["account_sid"],
        "type": EXECUTION_STARTED,
        "schema_version": 1,
        "subscription_sid": sid,
        "url": f"{sub['url']}/SubscribedEvents/{EXECUTION_STARTED}",
    }
    one = f"/v1/Subscriptions/{sid}/SubscribedEvents/{EXECUTION_STARTED}"
    assert api.post(one, data={"SchemaVersion": "2"}).json()["schema_version"] == 2
    assert api.get(one).json()["schema_version"] == 2
    assert api.delete(one).status_code == 204
    assert api.get(one).status_code == 404
    assert (
        api.post(f"/v1/Subscriptions/{sid}", data={"Description": "New"}).json()["description"]
        == "New"
    )
    assert api.delete(f"/v1/Subscriptions/{sid}").status_code == 204
    assert api.get(f"/v1/Subscriptions/{sid}").status_code == 404


def test_lists_page_like_twilio(api: TestClient) -> None:
    sids = {make_sink(api, f"s{i}")["sid"] for i in range(5)}
    page = api.get("/v1/Sinks", params={"PageSize": 2}).json()
    seen = [s["sid"] for s in page["sinks"]]
    while page["meta"]["next_page_url"]:
        page = api.get(page["meta"]["next_page_url"]).json()
        seen += [s["sid"] for s in page["sinks"]]
    assert len(seen) == 5 and set(seen) == sids
    assert api.get("/v1/Sinks", params={"PageSize": 0}).status_code == 400


def test_types_catalogue_lists_callboards_event_types(api: TestClient) -> None:
    body = api.get("/v1/Types").json()
    assert body["meta"]["key"] == "types"
    assert {t["type"] for t in body["types"]} == {EXECUTION_STARTED, EXECUTION_ENDED, STEP_ENDED}
    step = api.get(f"/v1/Types/{STEP_ENDED}").json()
    assert step["schema_id"] == "Studio.FlowStepEvent"
    assert step["links"]["schema"].endswith("/v1/Schemas/Studio.FlowStepEvent/Versions")
    only = api.get("/v1/Types", params={"SchemaId": "Studio.FlowExecutionEvent"}).json()
    assert {t["type"] for t in only["types"]} == {EXECUTION_STARTED, EXECUTION_ENDED}
    assert api.get("/v1/Types/com.example.nope").status_code == 404
    versions = api.get("/v1/Schemas/Studio.FlowStepEvent/Versions").json()
    assert [v["schema_version"] for v in versions["schema_versions"]] == [2, 1]


@pytest.mark.parametrize(
    ("path", "data", "fragment"),
    [
        ("/v1/Sinks", {"SinkType": "webhook", "SinkConfiguration": HOOK}, "Description"),
        ("/v1/Sinks", {"Description": "d", "SinkConfiguration": HOOK}, "SinkType"),
        ("/v1/Sinks", {"Description": "d", "SinkType": "webhook"}, "SinkConfiguration"),
        (
            "/v1/Sinks",
            {"Description": "d", "SinkType": "webhook", "SinkConfiguration": "{"},
            "not valid JSON",
        ),
        (
            "/v1/Sinks",
            {"Description": "d", "SinkType": "webhook", "SinkConfiguration": "{}"},
            "destination",
        ),
        (
            "/v1/Sinks",
            {"Description": "d", "SinkType": "kinesis", "SinkConfiguration": "{}"},
            "not supported",
        ),
        (
            "/v1/Subscriptions",
            {"Description": "d", "SinkSid": "DG" + "0" * 32, "Types": STEP},
            "SinkSid",
        ),
        ("/v1/Subscriptions", {"Description": "d", "SinkSid": "nope", "Types": STEP}, "SinkSid"),
        ("/v1/Subscriptions", {"Description": "d", "SinkSid": "DG" + "0" * 32}, "Types"),
        (
            "/v1/Subscriptions",
            {
                "Description": "d",
                "SinkSid": "DG" + "0" * 32,
                "Types": '{"type": "com.example.other"}',
            },
            "unknown event type",
        ),
    ],
)
def test_bad_requests_answer_twilio_400s(
    api: TestClient, path: str, data: dict[str, str], fragment: str
) -> None:
    r = api.post(path, data=data)
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == 20001 and body["status"] == 400
    assert fragment in body["message"]


def test_accounts_are_isolated(api: TestClient, stranger: TestClient) -> None:
    sink = make_sink(api)
    sub = make_subscription(api, sink["sid"])
    for path in (
        f"/v1/Sinks/{sink['sid']}",
        f"/v1/Subscriptions/{sub['sid']}",
        f"/v1/Subscriptions/{sub['sid']}/SubscribedEvents",
        f"/callboard/v1/Sinks/{sink['sid']}/Failures",
    ):
        assert stranger.get(path).status_code == 404, path
    assert stranger.delete(f"/v1/Sinks/{sink['sid']}").status_code == 404
    assert stranger.post(f"/v1/Sinks/{sink['sid']}/Test").status_code == 404
    assert stranger.get("/v1/Sinks").json()["sinks"] == []
    assert stranger.get("/v1/Subscriptions").json()["subscriptions"] == []
    r = stranger.post(
        "/v1/Subscriptions", data={"Description": "x", "SinkSid": sink["sid"], "Types": STEP}
    )
    assert r.status_code == 400
    assert api.get(f"/v1/Sinks/{sink['sid']}").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/v1/Sinks",
        "/v1/Subscriptions",
        "/v1/Types",
        "/callboard/v1/Sinks/DG" + "0" * 32 + "/Failures",
    ],
)
def test_credentials_are_required(api: TestClient, path: str) -> None:
    r = api.get(path, auth=("AC" + "0" * 32, "wrong"))
    assert r.status_code == 401 and r.json()["code"] == 20003
    r = api.get(path, auth=None, headers={"Authorization": ""})
    assert r.status_code == 401


def test_failures_route_lists_given_up_deliveries(api: TestClient) -> None:
    sid = make_sink(api)["sid"]
    body = api.get(f"/callboard/v1/Sinks/{sid}/Failures").json()
    assert body["meta"]["key"] == "failures" and body["failures"] == []
    assert api.get(f"/callboard/v1/Sinks/{sid}/Deliveries").json()["pending"] == 0


def test_live_stream_sends_a_flows_events_and_resumes_after_last_event_id(
    api: TestClient, app_service: Callboard
) -> None:
    account_sid = api.headers["X-Account"]
    flow = app_service.create_flow(
        account_sid, friendly_name="f", status="published", definition=two_step_flow()
    )
    app_service.create_execution(account_sid, flow.sid, to="+15550001", from_="+1555")
    path = f"/callboard/v1/Flows/{flow.sid}/Events/Stream"

    def read(headers: dict[str, str], params: dict[str, str], count: int) -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = []
        with api.stream("GET", path, headers=headers, params=params) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            message: dict[str, Any] = {}
            for line in r.iter_lines():
                if line.startswith(("id:", "event:", "data:")):
                    key, _, value = line.partition(": ")
                    message[key] = value
                elif line == "" and "data" in message:
                    got.append(message)
                    message = {}
                    if len(got) == count:
                        break
        return got

    everything = read({}, {"after": "0"}, 5)
    assert [m["event"] for m in everything] == [
        EXECUTION_STARTED,
        STEP_ENDED,
        STEP_ENDED,
        STEP_ENDED,
        EXECUTION_ENDED,
    ]
    assert all(json.loads(m["data"])["type"] == m["event"] for m in everything)
    ids = [int(m["id"]) for m in everything]
    assert ids == sorted(ids)
    rest = read({"Last-Event-ID": str(ids[2])}, {}, 2)
    assert [int(m["id"]) for m in rest] == ids[3:]
    other = app_service.create_account("x")
    other_flow = app_service.create_flow(
        other.sid, friendly_name="f", status="published", definition=two_step_flow()
    )
    assert api.get(f"/callboard/v1/Flows/{other_flow.sid}/Events/Stream").status_code == 404
