"""Pagination, public URLs, the API docs and Callboard's own routes."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from callboard.api import studio_executions, studio_flows
from callboard.api.app import create_app
from callboard.api.common import ResourceRoute
from callboard.api.plugins import plugin_modules
from callboard.api.proxies import TrustedProxies
from callboard.api.services import Services
from callboard.runtime.records import Account
from callboard.runtime.settings import Settings
from callboard.widgets.registry import all_widgets
from tests.api.helpers import BASE, assert_error, create_flow


def test_paging_walks_every_flow_once(client: TestClient) -> None:
    names = [f"flow {i}" for i in range(5)]
    for n in names:
        create_flow(client, name=n)
    seen: list[str] = []
    url: str | None = "/v2/Flows?PageSize=2"
    pages = 0
    while url:
        body = client.get(url).json()
        meta = body["meta"]
        assert meta["page_size"] == 2 and meta["page"] == pages
        assert meta["first_page_url"] == f"{BASE}/v2/Flows?PageSize=2&Page=0"
        assert (meta["previous_page_url"] is None) == (pages == 0)
        seen += [f["friendly_name"] for f in body["flows"]]
        url = meta["next_page_url"]
        if url:
            assert url.startswith(f"{BASE}/v2/Flows?")
            query = parse_qs(urlsplit(url).query)
            assert query["PageSize"] == ["2"] and query["Page"] == [str(pages + 1)]
            assert query["PageToken"]
        pages += 1
    assert pages == 3
    assert seen == names[::-1]

    # previous_page_url leads back to the first page.
    second = client.get("/v2/Flows?PageSize=2").json()["meta"]["next_page_url"]
    back = client.get(client.get(second).json()["meta"]["previous_page_url"]).json()
    assert [f["friendly_name"] for f in back["flows"]] == names[:2:-1]


def test_default_page_size_is_50(client: TestClient) -> None:
    meta = client.get("/v2/Flows").json()["meta"]
    assert meta["page_size"] == 50 and meta["page"] == 0
    assert meta["url"] == f"{BASE}/v2/Flows?PageSize=50&Page=0"
    assert meta["next_page_url"] is None


@pytest.mark.parametrize(
    "query",
    ["PageSize=0", "PageSize=1001", "PageSize=abc", "PageSize=", "PageSize=1e3", "Page=-1",
     "Page=x", "PageToken=bogus", "PageToken=PA%00", "PageSize=99999999999999999999999"],
)  # fmt: skip
def test_bad_paging_parameters_are_400(client: TestClient, query: str) -> None:
    assert_error(client.get(f"/v2/Flows?{query}"), 400, 20001)


def test_page_size_1000_is_allowed(client: TestClient) -> None:
    assert client.get("/v2/Flows?PageSize=1000").json()["meta"]["page_size"] == 1000


def test_forwarded_headers_from_a_trusted_proxy_set_the_public_url(
    services: Services, settings: Settings, account: Account
) -> None:
    app = create_app(services, settings, trusted_proxies=TrustedProxies.parse("10.0.0.0/8"))
    with TestClient(app, client=("10.1.2.3", 5000)) as client:
        client.auth = (account.sid, account.auth_token)
        sid = create_flow(client)["sid"]
        headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "cb.example.com"}
        flow = client.get(f"/v2/Flows/{sid}", headers=headers).json()
        meta = client.get("/v2/Flows", headers=headers).json()["meta"]
    assert flow["url"] == f"https://cb.example.com/v2/Flows/{sid}"
    assert flow["webhook_url"] == f"https://cb.example.com/v1/Accounts/{account.sid}/Flows/{sid}"
    assert meta["url"].startswith("https://cb.example.com/v2/Flows?")


def test_forwarded_headers_from_anyone_else_are_ignored(client: TestClient) -> None:
    sid = create_flow(client)["sid"]
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "attacker.example"}
    flow = client.get(f"/v2/Flows/{sid}", headers=headers).json()
    assert flow["url"] == f"http://testserver/v2/Flows/{sid}"


def test_configured_public_url_wins(
    services: Services, settings: Settings, account: Account
) -> None:
    public = Settings(
        database_url=settings.database_url,
        data_dir=settings.data_dir,
        public_url="https://studio.example.org/cb",
    )
    with TestClient(create_app(services, public)) as c:
        c.auth = (account.sid, account.auth_token)
        flow = create_flow(c)
        r = c.get("/v2/Flows", headers={"X-Forwarded-Host": "evil.example.com"})
    assert flow["url"] == f"https://studio.example.org/cb/v2/Flows/{flow['sid']}"
    assert r.json()["meta"]["first_page_url"].startswith("https://studio.example.org/cb/v2/")


def _normalise(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_openapi_document_covers_every_route(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    documented = {(m.upper(), _normalise(p)) for p, item in doc["paths"].items() for m in item}
    # Studio's routes, Callboard's own, and every route plugin that documents itself.
    routes = [*studio_flows.routes(), *studio_executions.routes()]
    for module in plugin_modules():
        if hasattr(module, "openapi_paths"):
            routes += module.routes()
    served = set()
    for route in routes:
        assert isinstance(route, Route)
        methods = route.allowed if isinstance(route, ResourceRoute) else route.methods
        served |= {(m, _normalise(route.path)) for m in methods or () if m != "HEAD"}
    assert served <= documented, served - documented
    studio = {op for op in documented if op[1].startswith("/v2/")}
    assert len(studio) == 19
    assert studio <= served
    assert {("GET", "/callboard/v1/Me"), ("GET", "/callboard/v1/WidgetTypes")} <= served


def test_docs_page_lists_the_operations(anon: TestClient) -> None:
    r = anon.get("/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    for op_id in ("CreateFlow", "ListExecution", "FetchExecutionStepContext", "CallboardMe"):
        assert op_id in r.text
    assert "<script" not in r.text


def test_health_needs_no_auth(anon: TestClient) -> None:
    body = anon.get("/callboard/v1/Health").json()
    assert body["status"] == "ok" and body["database"] == "ok"


def test_me_and_widget_types(client: TestClient, anon: TestClient, account: Account) -> None:
    me = client.get("/callboard/v1/Me").json()
    assert me["account_sid"] == account.sid and me["credential_type"] == "auth_token"
    types = client.get("/callboard/v1/WidgetTypes").json()["widget_types"]
    assert {t["type"] for t in types} == {w.type for w in all_widgets()}
    assert {"trigger", "send-message"} <= {t["type"] for t in types}
    assert_error(anon.get("/callboard/v1/Me"), 401, 20003)
    assert_error(anon.get("/callboard/v1/WidgetTypes"), 401, 20003)


def test_root_serves_the_editor_or_says_it_is_not_built(
    services: Services, settings: Settings, tmp_path: Path, account: Account
) -> None:
    with TestClient(create_app(services, settings, static_dir=tmp_path / "none")) as c:
        r = c.get("/")
        assert r.status_code == 200 and "not been built" in r.text
    built = tmp_path / "static"
    built.mkdir()
    (built / "index.html").write_text("<html>editor</html>")
    with TestClient(create_app(services, settings, static_dir=built)) as c:
        assert c.get("/").text == "<html>editor</html>"
        assert c.get("/flows/FW123").text == "<html>editor</html>"  # client-side route
        assert_error(c.get("/missing.js"), 404, 20404)
        auth = (account.sid, account.auth_token)
        assert_error(c.get("/v2/Unknown", auth=auth), 404, 20404)
        r = c.options("/v2/Flows", auth=auth)
        assert r.status_code == 405 and "POST" in r.headers["allow"]
        assert c.get("/v2/Flows").status_code == 401  # the API still answers first
