"""Flows, Revisions, Validate and TestUsers over HTTP (operations 1–10)."""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from callboard.runtime.records import Account
from tests.api.conftest import definition, simple_definition
from tests.api.helpers import BASE, TIMESTAMP, assert_error, create_flow

FLOW_FIELDS = {
    "sid", "account_sid", "author_sid", "friendly_name", "definition", "status", "revision",
    "commit_message", "valid", "errors", "warnings", "webhook_url", "date_created",
    "date_updated", "url", "links",
}  # fmt: skip
REVISION_FIELDS = FLOW_FIELDS - {"webhook_url", "links", "warnings"}


def test_create_returns_201_and_the_whole_flow(client: TestClient, account: Account) -> None:
    d = simple_definition()
    flow = create_flow(client, d, CommitMessage="first")
    assert set(flow) == FLOW_FIELDS
    sid = flow["sid"]
    assert sid.startswith("FW") and len(sid) == 34
    assert flow["account_sid"] == account.sid
    assert flow["definition"] == d
    assert (flow["status"], flow["revision"], flow["valid"]) == ("published", 1, True)
    assert flow["commit_message"] == "first"
    assert flow["errors"] == [] and flow["warnings"] == []
    assert TIMESTAMP.match(flow["date_created"])
    assert flow["url"] == f"{BASE}/v2/Flows/{sid}"
    assert flow["webhook_url"] == f"{BASE}/v1/Accounts/{account.sid}/Flows/{sid}"
    assert flow["links"] == {
        "test_users": f"{BASE}/v2/Flows/{sid}/TestUsers",
        "revisions": f"{BASE}/v2/Flows/{sid}/Revisions",
        "executions": f"{BASE}/v2/Flows/{sid}/Executions",
    }


def test_fetch_update_delete(client: TestClient) -> None:
    sid = create_flow(client)["sid"]
    assert client.get(f"/v2/Flows/{sid}").json()["friendly_name"] == "Test flow"

    d2 = definition()
    r = client.post(
        f"/v2/Flows/{sid}",
        data={"Status": "draft", "FriendlyName": "Renamed", "Definition": json.dumps(d2)},
    )
    assert r.status_code == 200, r.text
    updated = r.json()
    assert (updated["friendly_name"], updated["status"], updated["revision"]) == (
        "Renamed",
        "draft",
        2,
    )
    assert updated["definition"] == d2
    assert client.get(f"/v2/Flows/{sid}").json()["revision"] == 2

    r = client.delete(f"/v2/Flows/{sid}")
    assert r.status_code == 204 and r.content == b""
    assert_error(client.get(f"/v2/Flows/{sid}"), 404, 20404)
    assert_error(client.delete(f"/v2/Flows/{sid}"), 404, 20404)


def test_a_friendly_name_only_update_creates_a_revision(client: TestClient) -> None:
    sid = create_flow(client, name="Old name")["sid"]
    r = client.post(f"/v2/Flows/{sid}", data={"Status": "published", "FriendlyName": "New"})
    assert r.status_code == 200, r.text
    assert (r.json()["revision"], r.json()["friendly_name"]) == (2, "New")
    revisions = client.get(f"/v2/Flows/{sid}/Revisions").json()["revisions"]
    assert [(x["revision"], x["friendly_name"]) for x in revisions] == [(2, "New"), (1, "Old name")]
    # the renamed revision is the published one that runs
    assert client.get(f"/v2/Flows/{sid}/Revisions/LatestPublished").json()["revision"] == 2


def test_update_requires_status(client: TestClient) -> None:
    sid = create_flow(client)["sid"]
    body = assert_error(client.post(f"/v2/Flows/{sid}", data={"FriendlyName": "x"}), 400, 20001)
    assert "Status" in body["message"]


def test_list_nulls_out_definition_and_validation_fields(client: TestClient) -> None:
    create_flow(client, name="one")
    create_flow(client, name="two")
    r = client.get("/v2/Flows")
    assert r.status_code == 200
    body = r.json()
    assert body["meta"]["key"] == "flows"
    assert [f["friendly_name"] for f in body["flows"]] == ["two", "one"]  # newest first
    for item in body["flows"]:
        assert set(item) == FLOW_FIELDS
        for field in ("definition", "valid", "errors", "warnings", "commit_message"):
            assert item[field] is None, field
        assert item["url"].startswith(f"{BASE}/v2/Flows/FW")


def test_revisions_list_fetch_and_latest(client: TestClient) -> None:
    d1 = simple_definition()
    sid = create_flow(client, d1, status="published")["sid"]
    d2 = definition()
    client.post(
        f"/v2/Flows/{sid}",
        data={"Status": "draft", "Definition": json.dumps(d2), "CommitMessage": "second"},
    )

    body = client.get(f"/v2/Flows/{sid}/Revisions").json()
    assert body["meta"]["key"] == "revisions"
    assert [r["revision"] for r in body["revisions"]] == [2, 1]
    for item in body["revisions"]:
        assert set(item) == REVISION_FIELDS
        assert item["definition"] is None and item["errors"] is None
    # list items carry commit_message and valid, like the fetch (issue 13)
    assert [(r["commit_message"], r["valid"]) for r in body["revisions"]] == [
        ("second", True),
        (None, True),
    ]

    one = client.get(f"/v2/Flows/{sid}/Revisions/1").json()
    assert set(one) == REVISION_FIELDS
    assert one["definition"] == d1 and one["status"] == "published"
    assert one["url"] == f"{BASE}/v2/Flows/{sid}/Revisions/1"

    assert client.get(f"/v2/Flows/{sid}/Revisions/LatestRevision").json()["revision"] == 2
    latest_pub = client.get(f"/v2/Flows/{sid}/Revisions/LatestPublished").json()
    assert latest_pub["revision"] == 1
    assert latest_pub["url"] == f"{BASE}/v2/Flows/{sid}/Revisions/1"


@pytest.mark.parametrize("revision", ["3", "0", "-1", "abc", "Latest", "1.5", "99999999999999999"])
def test_unknown_revisions_are_404(client: TestClient, revision: str) -> None:
    sid = create_flow(client)["sid"]
    assert_error(client.get(f"/v2/Flows/{sid}/Revisions/{revision}"), 404, 20404)


def test_validate_accepts_a_valid_definition(client: TestClient) -> None:
    r = client.post(
        "/v2/Flows/Validate",
        data={
            "FriendlyName": "v",
            "Status": "draft",
            "Definition": json.dumps(simple_definition()),
        },
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"valid": True}


INVALID = {  # the initial state names no widget
    "initial_state": "Nowhere",
    "states": [
        {"name": "Trigger", "type": "trigger", "transitions": [
            {"event": "incomingRequest", "next": "nowhere"}], "properties": {}},
    ],
}  # fmt: skip


def test_validate_reports_81022_with_property_paths(client: TestClient) -> None:
    r = client.post(
        "/v2/Flows/Validate",
        data={"FriendlyName": "v", "Status": "draft", "Definition": json.dumps(INVALID)},
    )
    body = assert_error(r, 400, 81022)
    errors = body["details"]["errors"]
    assert errors, body
    for e in errors:
        assert set(e) >= {"property_path", "message"}
        assert e["property_path"].startswith("#")


def test_publishing_an_invalid_definition_is_81022_and_stores_nothing(client: TestClient) -> None:
    data = {"FriendlyName": "bad", "Status": "published", "Definition": json.dumps(INVALID)}
    assert_error(client.post("/v2/Flows", data=data), 400, 81022)
    assert client.get("/v2/Flows").json()["flows"] == []


def test_a_draft_with_an_invalid_definition_is_stored_as_invalid(client: TestClient) -> None:
    flow = create_flow(client, INVALID, status="draft")
    assert flow["valid"] is False
    assert flow["errors"], flow


@pytest.mark.parametrize("text", ["[]", "null", '"text"', "3"])
def test_a_definition_that_is_not_an_object_is_81022(client: TestClient, text: str) -> None:
    data = {"FriendlyName": "bad", "Status": "draft", "Definition": text}
    body = assert_error(client.post("/v2/Flows", data=data), 400, 81022)
    assert body["details"]["errors"][0]["property_path"] == "#"


def test_test_users_fetch_and_update(client: TestClient) -> None:
    sid = create_flow(client)["sid"]
    empty = client.get(f"/v2/Flows/{sid}/TestUsers").json()
    assert empty == {"sid": sid, "test_users": [], "url": f"{BASE}/v2/Flows/{sid}/TestUsers"}
    r = client.post(
        f"/v2/Flows/{sid}/TestUsers",
        content="TestUsers=%2B15551230000&TestUsers=client%3Aann",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["test_users"] == ["+15551230000", "client:ann"]
    assert client.get(f"/v2/Flows/{sid}/TestUsers").json()["test_users"] == [
        "+15551230000",
        "client:ann",
    ]
    cleared = client.post(f"/v2/Flows/{sid}/TestUsers", data={"TestUsers": ""})
    assert cleared.json()["test_users"] == []
    assert_error(client.post(f"/v2/Flows/{sid}/TestUsers", data={}), 400, 20001)


def test_author_sid_is_checked_and_the_caller_is_the_author(
    client: TestClient, account: Account
) -> None:
    """Issue 14: a revision's author is whoever called (here the Account SID), never a
    SID the client claims; Studio's author_sid only ever names a user."""
    flow = create_flow(client, AuthorSid="US" + "ab" * 16)
    assert flow["author_sid"] is None
    revisions = client.get(f"/callboard/v1/Flows/{flow['sid']}/Revisions").json()["revisions"]
    assert [r["author"] for r in revisions] == [account.sid]
    bad = {"FriendlyName": "x", "Status": "draft", "Definition": "{}", "AuthorSid": "nope"}
    assert_error(client.post("/v2/Flows", data=bad), 400, 20001)
