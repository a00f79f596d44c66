"""Executions, Execution Context, Steps and Step Context over HTTP (operations 11–19)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from callboard.runtime.records import Account
from tests.api.conftest import waiting_definition
from tests.api.helpers import BASE, TIMESTAMP, assert_error, create_flow

EXECUTION_FIELDS = {
    "sid", "account_sid", "flow_sid", "contact_channel_address", "contact_sid", "flow_version",
    "context", "status", "date_created", "date_updated", "initiated_by", "url", "links",
}  # fmt: skip
STEP_FIELDS = {
    "sid", "account_sid", "flow_sid", "execution_sid", "parent_step_sid", "name", "context",
    "transitioned_from", "transitioned_to", "type", "date_created", "date_updated", "url",
    "links",
}  # fmt: skip


def start(client: TestClient, flow_sid: str, to: str = "+15551230001", **extra: str) -> Any:
    data = {"To": to, "From": "+15550009999", **extra}
    return client.post(f"/v2/Flows/{flow_sid}/Executions", data=data)


def test_create_runs_the_flow_and_returns_201(client: TestClient, account: Account) -> None:
    flow_sid = create_flow(client)["sid"]
    r = start(client, flow_sid, Parameters='{"name": "Zeke"}')
    assert r.status_code == 201, r.text
    ex = r.json()
    assert set(ex) == EXECUTION_FIELDS
    sid = ex["sid"]
    assert sid.startswith("FN") and len(sid) == 34
    assert (ex["account_sid"], ex["flow_sid"], ex["flow_version"]) == (account.sid, flow_sid, 1)
    assert ex["contact_channel_address"] == "+15551230001"
    assert ex["status"] == "ended"  # send-message then nothing: the flow ended
    assert TIMESTAMP.match(ex["date_created"])
    assert ex["context"]["flow"]["data"] == {"name": "Zeke"}
    url = f"{BASE}/v2/Flows/{flow_sid}/Executions/{sid}"
    assert ex["url"] == url
    assert ex["links"] == {"steps": f"{url}/Steps", "execution_context": f"{url}/Context"}

    assert client.get(f"/v2/Flows/{flow_sid}/Executions/{sid}").json()["sid"] == sid

    ctx = client.get(f"/v2/Flows/{flow_sid}/Executions/{sid}/Context").json()
    assert set(ctx) == {"account_sid", "context", "flow_sid", "execution_sid", "url"}
    assert ctx["execution_sid"] == sid and ctx["url"] == f"{url}/Context"
    assert ctx["context"]["flow"]["data"] == {"name": "Zeke"}


def test_steps_list_fetch_and_context(client: TestClient) -> None:
    flow_sid = create_flow(client)["sid"]
    ex = start(client, flow_sid).json()
    base = f"/v2/Flows/{flow_sid}/Executions/{ex['sid']}"
    body = client.get(f"{base}/Steps").json()
    assert body["meta"]["key"] == "steps"
    steps = body["steps"]
    assert len(steps) >= 2
    assert steps[0]["transitioned_from"] == "Trigger"
    assert steps[0]["name"] == "incomingRequest"
    assert steps[-1]["transitioned_to"] == "Ended"
    for step in steps:
        assert set(step) == STEP_FIELDS
        assert step["sid"].startswith("FT")
        assert step["url"] == f"{BASE}{base}/Steps/{step['sid']}"
        assert step["links"] == {"step_context": f"{step['url']}/Context"}

    one = client.get(f"{base}/Steps/{steps[0]['sid']}").json()
    assert one["sid"] == steps[0]["sid"] and one["type"] == "trigger"
    sctx = client.get(f"{base}/Steps/{steps[0]['sid']}/Context").json()
    assert set(sctx) == {"account_sid", "context", "execution_sid", "flow_sid", "step_sid", "url"}
    assert sctx["step_sid"] == steps[0]["sid"]
    assert sctx["url"] == f"{BASE}{base}/Steps/{steps[0]['sid']}/Context"


def test_active_execution_conflict_end_and_delete(client: TestClient) -> None:
    flow_sid = create_flow(client, waiting_definition())["sid"]
    ex = start(client, flow_sid).json()
    assert ex["status"] == "active"
    url = f"/v2/Flows/{flow_sid}/Executions/{ex['sid']}"

    body = assert_error(start(client, flow_sid), 409, 20409)
    assert body["details"]["conflicting_execution_sid"] == ex["sid"]
    # Another contact is fine.
    assert start(client, flow_sid, to="+15551230002").status_code == 201

    # Status=active on an active execution changes nothing.
    assert client.post(url, data={"Status": "active"}).json()["status"] == "active"
    ended = client.post(url, data={"Status": "ended"})
    assert ended.status_code == 200 and ended.json()["status"] == "ended"
    assert_error(client.post(url, data={"Status": "ended"}), 409, 20409)
    assert_error(client.post(url, data={"Status": "active"}), 409, 20409)
    assert_error(client.post(url, data={"Status": "paused"}), 400, 20001)
    assert_error(client.post(url, data={}), 400, 20001)

    r = client.delete(url)
    assert r.status_code == 204 and r.content == b""
    assert_error(client.get(url), 404, 20404)
    assert_error(client.get(f"{url}/Steps"), 404, 20404)
    assert_error(client.get(f"{url}/Context"), 404, 20404)


def test_list_filters_and_order(client: TestClient) -> None:
    flow_sid = create_flow(client, waiting_definition())["sid"]
    sids = [start(client, flow_sid, to=f"+1555000000{i}").json()["sid"] for i in range(3)]
    client.post(f"/v2/Flows/{flow_sid}/Executions/{sids[0]}", data={"Status": "ended"})
    path = f"/v2/Flows/{flow_sid}/Executions"

    listed = client.get(path).json()
    assert listed["meta"]["key"] == "executions"
    assert [e["sid"] for e in listed["executions"]] == sids[::-1]  # newest first

    active = client.get(path, params={"status": "active"}).json()
    assert [e["sid"] for e in active["executions"]] == sids[:0:-1]
    assert "status=active" in active["meta"]["url"]
    ended = client.get(path, params={"status": "ended"}).json()
    assert [e["sid"] for e in ended["executions"]] == [sids[0]]

    now = datetime.now(UTC)
    hour_ago = (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    in_an_hour = (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    tomorrow = (now + timedelta(days=1)).strftime("%Y-%m-%d")
    assert len(client.get(path, params={"DateCreatedFrom": hour_ago}).json()["executions"]) == 3
    assert client.get(path, params={"DateCreatedFrom": in_an_hour}).json()["executions"] == []
    assert client.get(path, params={"DateCreatedTo": hour_ago}).json()["executions"] == []
    offset_form = (now - timedelta(hours=1)).astimezone().isoformat(timespec="seconds")
    got = client.get(path, params={"DateCreatedFrom": offset_form, "DateCreatedTo": tomorrow})
    assert len(got.json()["executions"]) == 3


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"status": "running"}, "status"),
        ({"DateCreatedFrom": "yesterday"}, "DateCreatedFrom"),
        ({"DateCreatedTo": "2024-13-45"}, "DateCreatedTo"),
        ({"DateCreatedTo": "9999-12-31T23:59:59-23:59"}, "DateCreatedTo"),
    ],
)
def test_list_rejects_bad_filters(client: TestClient, params: dict[str, str], name: str) -> None:
    flow_sid = create_flow(client)["sid"]
    body = assert_error(client.get(f"/v2/Flows/{flow_sid}/Executions", params=params), 400, 20001)
    assert name in body["message"]


@pytest.mark.parametrize(
    ("data", "missing"),
    [({"From": "+15550009999"}, "To"), ({"To": "+15551230000"}, "From")],
)
def test_create_requires_to_and_from(
    client: TestClient, data: dict[str, str], missing: str
) -> None:
    flow_sid = create_flow(client)["sid"]
    r = client.post(f"/v2/Flows/{flow_sid}/Executions", data=data)
    body = assert_error(r, 400, 20001)
    assert body["message"] == f"Missing required parameter {missing} in the post body"


@pytest.mark.parametrize(
    "parameters", ["{not json", "[1, 2]", '"text"', "7", "true", "NaN", '{"a": 1e999}']
)
def test_create_rejects_bad_parameters_with_84004(client: TestClient, parameters: str) -> None:
    flow_sid = create_flow(client)["sid"]
    body = assert_error(start(client, flow_sid, Parameters=parameters), 400, 84004)
    assert body["message"].startswith("Error while creating execution via REST API: ")
    assert client.get(f"/v2/Flows/{flow_sid}/Executions").json()["executions"] == []


def test_a_draft_only_flow_cannot_run_for_strangers(client: TestClient) -> None:
    flow_sid = create_flow(client, status="draft")["sid"]
    r = start(client, flow_sid)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == 84004


def test_a_test_user_runs_the_draft(client: TestClient) -> None:
    flow_sid = create_flow(client, status="draft")["sid"]
    client.post(f"/v2/Flows/{flow_sid}/TestUsers", data={"TestUsers": "+15551239999"})
    r = start(client, flow_sid, to="+15551239999")
    assert r.status_code == 201, r.text
    assert r.json()["flow_version"] == 1
