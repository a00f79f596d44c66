"""Flow tests over the API: the schema, stored versions, runs and the publish gate."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from callboard.api.app import create_app
from callboard.api.services import Services
from callboard.runtime.records import Account

FILES = Path(__file__).parent / "files"
TESTS = (FILES / "menu.test.yaml").read_text().replace("flow: menu.json\n", "")


@pytest.fixture
def client(services: Services, account: Account) -> Iterator[TestClient]:
    with TestClient(create_app(services)) as c:
        c.auth = (account.sid, account.auth_token)
        yield c


def _flow(c: TestClient, definition: dict[str, Any], status: str = "draft") -> str:
    form = {"FriendlyName": "menu", "Status": status, "Definition": json.dumps(definition)}
    r = c.post("/v2/Flows", data=form)
    assert r.status_code == 201, r.text
    return str(r.json()["sid"])


def _menu() -> dict[str, Any]:
    return dict(json.loads((FILES / "menu.json").read_text()))


def test_the_schema_is_public(client: TestClient) -> None:
    r = client.get("/callboard/v1/Schemas/FlowTest", auth=None)
    assert r.status_code == 200
    assert r.json()["$id"] == "/callboard/v1/Schemas/FlowTest"
    assert "expect_dial" in json.dumps(r.json())


def test_tests_are_stored_in_versions_with_the_flow_revision(client: TestClient) -> None:
    sid = _flow(client, _menu())
    empty = client.get(f"/callboard/v1/Flows/{sid}/Tests").json()
    assert (empty["version"], empty["tests"]) == (0, "")
    r = client.post(f"/callboard/v1/Flows/{sid}/Tests", data={"Tests": TESTS})
    assert r.status_code == 201, r.text
    assert (r.json()["version"], r.json()["flow_revision"]) == (1, 1)
    changed = {**_menu(), "description": "menu, revised"}
    client.post(f"/v2/Flows/{sid}", data={"Status": "draft", "Definition": json.dumps(changed)})
    second = TESTS.replace("caller hangs up", "caller leaves")
    r = client.post(f"/callboard/v1/Flows/{sid}/Tests", data={"Tests": second})
    assert (r.json()["version"], r.json()["flow_revision"]) == (2, 2)
    versions = client.get(f"/callboard/v1/Flows/{sid}/Tests/Versions").json()["versions"]
    assert [v["version"] for v in versions] == [2, 1]
    old = client.get(f"/callboard/v1/Flows/{sid}/Tests", params={"Version": 1}).json()
    assert "caller hangs up" in old["tests"]
    assert client.get(f"/callboard/v1/Flows/{sid}/Tests", params={"Version": 9}).status_code == 404


def test_a_bad_test_file_is_a_400_naming_the_line(client: TestClient) -> None:
    sid = _flow(client, _menu())
    r = client.post(
        f"/callboard/v1/Flows/{sid}/Tests", data={"Tests": TESTS.replace("press", "pres")}
    )
    assert r.status_code == 400
    assert "tests.yaml:6: unknown key 'pres'" in r.json()["message"]
    assert r.json()["code"] == 20001
    other = "FW" + "0" * 32
    assert client.get(f"/callboard/v1/Flows/{other}/Tests").status_code == 404
    assert client.post(f"/callboard/v1/Flows/{other}/Tests/Run").status_code == 404


def test_run_reports_results_failures_and_coverage(client: TestClient) -> None:
    sid = _flow(client, _menu())
    client.post(f"/callboard/v1/Flows/{sid}/Tests", data={"Tests": TESTS})
    report = client.post(f"/callboard/v1/Flows/{sid}/Tests/Run").json()
    assert report["passed"] is True
    assert [r["status"] for r in report["results"]] == ["passed"] * 3
    assert report["coverage"]["untaken_transitions"] == []
    wrong = TESTS.replace("Support is closed", "Support is open")
    report = client.post(f"/callboard/v1/Flows/{sid}/Tests/Run", data={"Tests": wrong}).json()
    assert report["passed"] is False
    failure = report["results"][0]["failure"]
    assert failure["line"] == 10
    assert (failure["expected"], failure["got"]) == (
        "'Support is open. Goodbye.'",
        "'Support is closed. Goodbye.'",
    )
    sales = "tests:\n  - name: sales\n" + TESTS.split("  - name: sales\n")[1].split("  - name")[0]
    report = client.post(f"/callboard/v1/Flows/{sid}/Tests/Run", data={"Tests": sales}).json()
    assert [r["name"] for r in report["results"]] == ["sales"]
    untaken = {tuple(t.values()) for t in report["coverage"]["untaken_transitions"]}
    assert untaken == {
        ("menu", "speech", "route"),
        ("route", "match", "support"),
        ("route", "noMatch", "sorry"),
        ("sorry", "audioComplete", "menu"),
    }


def test_publishing_can_require_green_tests(client: TestClient) -> None:
    sid = _flow(client, _menu())
    wrong = TESTS.replace("Support is closed", "Support is open")
    r = client.post(
        f"/callboard/v1/Flows/{sid}/Tests", data={"Tests": wrong, "RequireGreen": "true"}
    )
    assert r.json()["require_green"] is True
    r = client.post(f"/v2/Flows/{sid}", data={"Status": "published"})
    assert r.status_code == 400
    assert "requires green tests to publish: 1 of 3 failed (voice menu)" in r.json()["message"]
    client.post(f"/callboard/v1/Flows/{sid}/Tests", data={"Tests": TESTS})  # keeps the option
    r = client.post(f"/v2/Flows/{sid}", data={"Status": "published"})
    assert r.status_code == 200 and r.json()["status"] == "published"
    broken = _menu()
    broken["states"][3]["properties"]["say"] = "Nope."
    r = client.post(
        f"/v2/Flows/{sid}", data={"Status": "published", "Definition": json.dumps(broken)}
    )
    assert r.status_code == 400  # the definition being published is the one tested
