"""Authentication, account isolation and malformed requests: always a Twilio error body,
never a 500."""

from __future__ import annotations

import base64

import pytest
from starlette.testclient import TestClient

from callboard.api.forms import MAX_BODY_BYTES
from callboard.runtime.records import Account
from callboard.runtime.service import Callboard
from tests.api.helpers import assert_error, create_flow

FW = "FW" + "0" * 32
FN = "FN" + "0" * 32
FT = "FT" + "0" * 32


def test_no_credentials_is_401_20003(anon: TestClient) -> None:
    r = anon.get("/v2/Flows")
    body = assert_error(r, 401, 20003)
    assert body["message"] == "Authentication Error - No credentials provided"
    assert r.headers["www-authenticate"] == 'Basic realm="Twilio API"'


def test_the_editor_gets_no_browser_challenge(anon: TestClient) -> None:
    r = anon.get("/v2/Flows", headers={"X-Requested-With": "XMLHttpRequest"})
    assert_error(r, 401, 20003)
    assert "www-authenticate" not in r.headers


@pytest.mark.parametrize(
    "header",
    [
        "Basic " + base64.b64encode(b"AC" + b"0" * 32 + b":wrong").decode(),
        "Basic " + base64.b64encode(b"nobody:nothing").decode(),
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),
        "Bearer abc",
        "Basic",
        "",
    ],
)
def test_bad_credentials_are_401(anon: TestClient, header: str) -> None:
    assert_error(anon.get("/v2/Flows", headers={"Authorization": header}), 401, 20003)


def test_wrong_token_for_a_real_account(anon: TestClient, account: Account) -> None:
    anon.auth = (account.sid, account.auth_token[:-1] + "x")
    body = assert_error(anon.get("/v2/Flows"), 401, 20003)
    assert (
        body["message"] == f"Authentication Error - wrong Auth Token for Account SID {account.sid}"
    )


@pytest.mark.parametrize("path", ["/v2/Flows", "/v1/Sinks"])
def test_an_unknown_account_sid_is_named_as_such(anon: TestClient, path: str) -> None:
    sid = "AC" + "1" * 32
    anon.auth = (sid, "0" * 32)
    body = assert_error(anon.get(path), 401, 20003)
    assert body["message"] == f"Authentication Error - unknown Account SID {sid}"


def test_api_key_credentials(service: Callboard, account: Account, anon: TestClient) -> None:
    created = service.create_api_key(account.sid, "ci")
    anon.auth = (created.key.sid, created.secret)
    assert anon.get("/v2/Flows").status_code == 200
    me = anon.get("/callboard/v1/Me").json()
    assert me["account_sid"] == account.sid and me["credential_type"] == "api_key"


def test_another_accounts_resources_are_404(
    client: TestClient, service: Callboard, anon: TestClient
) -> None:
    flow_sid = create_flow(client)["sid"]
    ex = client.post(
        f"/v2/Flows/{flow_sid}/Executions", data={"To": "+15551230000", "From": "+15550000000"}
    ).json()
    step = client.get(f"/v2/Flows/{flow_sid}/Executions/{ex['sid']}/Steps").json()["steps"][0]
    other = service.create_account("other")
    anon.auth = (other.sid, other.auth_token)
    base = f"/v2/Flows/{flow_sid}"
    exec_url = f"{base}/Executions/{ex['sid']}"
    for method, path in [
        ("GET", base),
        ("POST", base),
        ("DELETE", base),
        ("GET", f"{base}/Revisions"),
        ("GET", f"{base}/Revisions/1"),
        ("GET", f"{base}/TestUsers"),
        ("GET", f"{base}/Executions"),
        ("POST", f"{base}/Executions"),
        ("GET", exec_url),
        ("POST", exec_url),
        ("DELETE", exec_url),
        ("GET", f"{exec_url}/Context"),
        ("GET", f"{exec_url}/Steps"),
        ("GET", f"{exec_url}/Steps/{step['sid']}"),
        ("GET", f"{exec_url}/Steps/{step['sid']}/Context"),
    ]:
        status = "draft" if path == base else "ended"
        data = {"Status": status, "To": "+1555", "From": "+1666"} if method == "POST" else None
        r = anon.request(method, path, data=data)
        body = assert_error(r, 404, 20404)
        assert flow_sid not in str({k: v for k, v in body.items() if k != "message"})
    assert anon.get("/v2/Flows").json()["flows"] == []
    # ... and the owner still has everything.
    assert client.get(exec_url).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v2/Flows/FWnothex0000000000000000000000000000"),
        ("GET", "/v2/Flows/" + "FW" + "0" * 31),
        ("GET", "/v2/Flows/fw" + "0" * 32),
        ("GET", "/v2/Flows/FN" + "0" * 32),
        ("GET", "/v2/Flows/%00%01'%22;DROP TABLE flows"),
        ("GET", "/v2/Flows/" + "A" * 5000),
        ("GET", f"/v2/Flows/{FW}/Executions/FT" + "0" * 32),
        ("GET", f"/v2/Flows/{FW}/Executions/{FN}/Steps/{FN}"),
        ("GET", f"/v2/Flows/{FW}/Executions/{FN}/Steps/{FT}/Context"),
        ("GET", f"/v2/Flows/{FW}/Executions/{FN}"),
        ("GET", f"/v2/Flows/{FW}/Revisions/%F0%9F%92%A5"),
        ("GET", "/v2/Flowz"),
        ("GET", "/v2"),
        ("POST", f"/v2/Flows/{FW}/Executions/{FN}/Context/extra"),
    ],
)
def test_malformed_and_unknown_paths_are_404(client: TestClient, method: str, path: str) -> None:
    assert_error(client.request(method, path), 404, 20404)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/v2/Flows"),
        ("PUT", f"/v2/Flows/{FW}"),
        ("PATCH", f"/v2/Flows/{FW}/Executions"),
        ("DELETE", f"/v2/Flows/{FW}/TestUsers"),
        ("POST", f"/v2/Flows/{FW}/Revisions"),
        ("GET", "/v2/Flows/Validate"),
        ("DELETE", "/v2/Flows/Validate"),
    ],
)
def test_wrong_methods_are_405(client: TestClient, method: str, path: str) -> None:
    assert_error(client.request(method, path), 405, 20004)


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/v2/Flows", {"GET", "HEAD", "POST"}),
        ("/v2/Flows/Validate", {"POST"}),
        (f"/v2/Flows/{FW}", {"GET", "HEAD", "POST", "DELETE"}),
        (f"/v2/Flows/{FW}/TestUsers", {"GET", "HEAD", "POST"}),
        (f"/v2/Flows/{FW}/Executions/{FN}", {"GET", "HEAD", "POST", "DELETE"}),
        (f"/v2/Flows/{FW}/Executions/{FN}/Steps/{FT}", {"GET", "HEAD"}),
    ],
)
def test_405_lists_every_allowed_method(client: TestClient, path: str, allowed: set[str]) -> None:
    r = client.request("PUT", path)
    assert_error(r, 405, 20004)
    assert {m.strip() for m in r.headers["allow"].split(",")} == allowed


@pytest.mark.parametrize(
    ("body", "ctype"),
    [
        (
            b"FriendlyName=%ff%fe&Status=draft&Definition=%7B%7D",
            "application/x-www-form-urlencoded",
        ),
        (b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded"),
        (b"Status=draft", "application/x-www-form-urlencoded"),
        (b"FriendlyName=x&Status=live&Definition=%7B%7D", "application/x-www-form-urlencoded"),
        (b"FriendlyName=x&Status=draft&Definition=%7B", "application/x-www-form-urlencoded"),
        (
            b"FriendlyName=x&Status=draft&Definition=" + b"%5B" * 100000,
            "application/x-www-form-urlencoded",
        ),
        (b"--x\r\ngarbage", "multipart/form-data; boundary=x"),
        (
            b"--x\r\nContent-Disposition: form-data\r\n\r\nv\r\n--x--\r\n",
            "multipart/form-data; boundary=x",
        ),
        (b"", "multipart/form-data"),
    ],
)
def test_malformed_bodies_are_400(client: TestClient, body: bytes, ctype: str) -> None:
    r = client.post("/v2/Flows", content=body, headers={"content-type": ctype})
    assert r.status_code == 400, r.text
    assert r.json()["code"] in (20001, 81022)


def test_multipart_bodies_work(client: TestClient) -> None:
    r = client.post(
        "/v2/Flows/Validate",
        files={"FriendlyName": (None, "x"), "Status": (None, "draft"), "Definition": (None, "{}")},
    )
    assert r.status_code in (200, 400), r.text  # parsed: the definition itself is judged
    assert r.json().get("code") != 20001


@pytest.mark.parametrize("ctype", ["application/json", "text/plain", "application/xml"])
def test_other_body_types_are_415(client: TestClient, ctype: str) -> None:
    r = client.post("/v2/Flows", content=b'{"FriendlyName": "x"}', headers={"content-type": ctype})
    assert_error(r, 415, 20415)


def test_bodies_over_the_limit_are_413(client: TestClient) -> None:
    big = b"FriendlyName=" + b"x" * (MAX_BODY_BYTES + 1)
    r = client.post(
        "/v2/Flows", content=big, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert_error(r, 413, 20413)


def test_list_gets_tolerate_a_form_content_type(client: TestClient) -> None:
    r = client.get("/v2/Flows", headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200


def test_cors_headers_and_preflight(anon: TestClient) -> None:
    r = anon.options(
        "/v2/Flows",
        headers={"Origin": "http://example.com", "Access-Control-Request-Method": "POST"},
    )
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == "*"
    assert "Authorization" in r.headers["access-control-allow-headers"]
    assert anon.get("/v2/Flows").headers["access-control-allow-origin"] == "*"
