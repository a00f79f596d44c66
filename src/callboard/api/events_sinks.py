"""Event Streams v1 Sinks routes: ``/v1/Sinks`` (list, create), ``/v1/Sinks/{Sid}``
(fetch, update, delete), ``/v1/Sinks/{Sid}/Test`` and ``/v1/Sinks/{Sid}/Validate``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from callboard.api.common import call, iso, json_response, resource
from callboard.api.errors import bad_request
from callboard.api.events_common import account, events_service, page_response, sid_param
from callboard.api.forms import read_form
from callboard.api.paging import parse_page_params
from callboard.api.urls import base_url
from callboard.events.service import Sink

__all__ = ["render_sink", "sink_routes"]


def render_sink(request: Request, sink: Sink) -> dict[str, Any]:
    url = f"{base_url(request)}/v1/Sinks/{sink.sid}"
    return {
        "date_created": iso(sink.date_created),
        "date_updated": iso(sink.date_updated),
        "description": sink.description,
        "sid": sink.sid,
        "sink_configuration": sink.sink_configuration,
        "sink_type": sink.sink_type,
        "status": sink.status,
        "url": url,
        "links": {"sink_test": f"{url}/Test", "sink_validate": f"{url}/Validate"},
    }


def _flag(request: Request, name: str) -> bool | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() not in ("true", "false"):
        raise bad_request(f"Invalid parameter {name}: expected true or false, got {raw!r}")
    return raw.lower() == "true"


async def list_sinks(request: Request) -> Response:
    acct = await account(request)
    params = parse_page_params(request)
    in_use = _flag(request, "InUse")
    status = request.query_params.get("Status") or None
    page = await call(
        request,
        events_service(request).list_sinks,
        acct.sid,
        in_use=in_use,
        status=status,
        page_size=params.page_size,
        page_token=params.token,
    )
    filters = [
        (k, request.query_params[k]) for k in ("InUse", "Status") if request.query_params.get(k)
    ]
    return page_response(
        request, "sinks", page, [render_sink(request, s) for s in page.items], filters
    )


async def create_sink(request: Request) -> Response:
    acct = await account(request)
    form = await read_form(request)
    description = form.required("Description")
    sink_type = form.required("SinkType")
    _, config = form.json("SinkConfiguration", required=True)
    sink = await call(
        request,
        events_service(request).create_sink,
        acct.sid,
        description=description,
        sink_type=sink_type,
        configuration=config,
    )
    return json_response(render_sink(request, sink), 201)


async def fetch_sink(request: Request) -> Response:
    acct = await account(request)
    sid = sid_param(request, "sid", "DG")
    sink = await call(request, events_service(request).fetch_sink, acct.sid, sid)
    return json_response(render_sink(request, sink))


async def update_sink(request: Request) -> Response:
    acct = await account(request)
    sid = sid_param(request, "sid", "DG")
    form = await read_form(request)
    description = form.required("Description")
    sink = await call(
        request, events_service(request).update_sink, acct.sid, sid, description=description
    )
    return json_response(render_sink(request, sink))


async def delete_sink(request: Request) -> Response:
    acct = await account(request)
    sid = sid_param(request, "sid", "DG")
    await call(request, events_service(request).delete_sink, acct.sid, sid)
    return Response(status_code=204)


async def test_sink(request: Request) -> Response:
    acct = await account(request)
    sid = sid_param(request, "sid", "DG")
    await call(request, events_service(request).test_sink, acct.sid, sid)
    return json_response({"result": "submitted"}, 201)


async def validate_sink(request: Request) -> Response:
    acct = await account(request)
    sid = sid_param(request, "sid", "DG")
    form = await read_form(request)
    test_id = form.required("TestId")
    ok = await call(request, events_service(request).validate_sink, acct.sid, sid, test_id)
    return json_response({"result": "valid" if ok else "invalid"}, 201)


def sink_routes() -> list[Route]:
    sink = "/v1/Sinks/{sid}"
    return [
        resource("/v1/Sinks", get=list_sinks, post=create_sink),
        resource(sink, get=fetch_sink, post=update_sink, delete=delete_sink),
        resource(sink + "/Test", post=test_sink),
        resource(sink + "/Validate", post=validate_sink),
    ]
