"""Flow tests over the API (issue 15; the format is in docs/testing-flows.md):

* ``GET /callboard/v1/Schemas/FlowTest`` (no auth) — the test file format's JSON Schema;
* ``GET /callboard/v1/Flows/{FW}/Tests[?Version=N]`` — the flow's stored test file (the
  latest version, or version N): ``{flow_sid, version, flow_revision, tests,
  require_green, date_created}`` (version 0 and empty ``tests`` before the first save);
* ``POST /callboard/v1/Flows/{FW}/Tests`` (form ``Tests`` = the YAML/JSON text,
  ``RequireGreen`` = true|false) — checks and saves a new version → 201; a bad file is a
  400 naming the line;
* ``GET /callboard/v1/Flows/{FW}/Tests/Versions`` — ``{"versions": [...]}``, newest first;
* ``POST /callboard/v1/Flows/{FW}/Tests/Run`` (optional form ``Tests``: run this text
  instead of the stored file) — runs the tests against the flow's latest revision (its
  draft) → ``{passed, results: [{name, status, failure, path}], coverage, error}``.

With ``require_green``, publishing the flow (``POST /v2/Flows/{FW}`` with
``Status=published``) runs its tests first and is refused while any fails.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from callboard.api.common import (
    account_of,
    call,
    json_response,
    path_sid,
    resource,
    service_of,
    test_driver_of,
)
from callboard.api.errors import bad_request, not_found
from callboard.api.forms import read_form
from callboard.flowtest.model import TestFileError
from callboard.flowtest.schema import flow_test_schema
from callboard.flowtest.stored import fetch_tests, list_versions, run_stored, save_tests

__all__ = ["openapi_paths", "routes"]

_TRUE = ("true", "1", "yes")
_FALSE = ("false", "0", "no")


async def schema(request: Request) -> Response:
    return json_response(flow_test_schema())


async def get_tests(request: Request) -> Response:
    account = account_of(request)
    sid = path_sid(request, "sid", "FW")
    raw = request.query_params.get("Version")
    version = None
    if raw is not None:
        if not raw.isdigit() or len(raw) > 9:
            raise bad_request(f"Version {raw[:40]!r} is not a number")
        version = int(raw)
    try:
        body = await call(request, fetch_tests, service_of(request), account.sid, sid, version)
    except KeyError:
        raise not_found(request.url.path) from None
    return json_response(body)


async def post_tests(request: Request) -> Response:
    account = account_of(request)
    sid = path_sid(request, "sid", "FW")
    form = await read_form(request)
    text = form.get("Tests")
    if text is None:
        raise bad_request("Missing required parameter Tests")
    raw = (form.get("RequireGreen") or "").lower()
    if raw and raw not in _TRUE + _FALSE:
        raise bad_request("RequireGreen must be true or false")
    require = None if not raw else raw in _TRUE
    try:
        body = await call(request, save_tests, service_of(request), account.sid, sid, text, require)
    except TestFileError as exc:
        raise bad_request(f"The tests are not valid: {exc.text()}") from None
    return json_response(body, 201)


async def versions(request: Request) -> Response:
    account = account_of(request)
    sid = path_sid(request, "sid", "FW")
    found = await call(request, list_versions, service_of(request), account.sid, sid)
    return json_response({"versions": found})


async def run(request: Request) -> Response:
    account = account_of(request)
    sid = path_sid(request, "sid", "FW")
    form = await read_form(request)
    text = form.get("Tests")
    service = service_of(request)
    await call(request, fetch_tests, service, account.sid, sid)  # 404 first
    driver = test_driver_of(request)
    report = await run_in_threadpool(run_stored, service, driver, account.sid, sid, text=text)
    return json_response(report)


def routes() -> list[BaseRoute]:
    base = "/callboard/v1/Flows/{sid}/Tests"
    return [
        resource("/callboard/v1/Schemas/FlowTest", get=schema),
        resource(base, get=get_tests, post=post_tests),
        resource(base + "/Versions", get=versions),
        resource(base + "/Run", post=run),
    ]


def _form(fields: dict[str, str]) -> dict[str, Any]:
    props = {k: {"type": "string", "description": v} for k, v in fields.items()}
    return {
        "content": {
            "application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": props}}
        }
    }


def openapi_paths() -> dict[str, Any]:
    tags = ["Flow tests"]
    sid = [{"name": "sid", "in": "path", "required": True, "schema": {"type": "string"}}]
    ok = {"200": {"description": "OK", "content": {"application/json": {"schema": {}}}}}
    bad = {"400": {"description": "Invalid parameters"}, "404": {"description": "No such flow"}}
    return {
        "/callboard/v1/Schemas/FlowTest": {
            "get": {
                "tags": tags,
                "operationId": "FetchFlowTestSchema",
                "summary": "The JSON Schema of flow test files",
                "security": [],
                "responses": ok,
            }
        },
        "/callboard/v1/Flows/{sid}/Tests": {
            "get": {
                "tags": tags,
                "operationId": "FetchFlowTests",
                "summary": "The flow's stored tests (latest version, or ?Version=N)",
                "parameters": [
                    *sid,
                    {"name": "Version", "in": "query", "schema": {"type": "integer"}},
                ],
                "responses": {**ok, **bad},
            },
            "post": {
                "tags": tags,
                "operationId": "SaveFlowTests",
                "summary": "Save a new version of the flow's tests",
                "parameters": sid,
                "requestBody": _form({"Tests": "The test file", "RequireGreen": "true|false"}),
                "responses": {"201": ok["200"], **bad},
            },
        },
        "/callboard/v1/Flows/{sid}/Tests/Versions": {
            "get": {
                "tags": tags,
                "operationId": "ListFlowTestVersions",
                "summary": "The saved versions, newest first",
                "parameters": sid,
                "responses": {**ok, **bad},
            }
        },
        "/callboard/v1/Flows/{sid}/Tests/Run": {
            "post": {
                "tags": tags,
                "operationId": "RunFlowTests",
                "summary": "Run the tests against the flow's latest revision",
                "parameters": sid,
                "requestBody": _form({"Tests": "Run this text instead of the stored tests"}),
                "responses": {**ok, **bad},
            }
        },
    }
