"""Event Streams v1 (``events.twilio.com/v1`` shapes): Sinks, Subscriptions,
SubscribedEvents, the Types catalogue and Schemas.

Point twilio-python at the server with ``client.events.base_url = <server URL>``.
Requests are Twilio's form fields; responses the resources of Twilio's Events OpenAPI
(``events.v1.sink``, ``events.v1.subscription``, ...), with absolute ``url``/``links``,
Twilio paging and error bodies. HTTP Basic auth, as on ``/v2``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from callboard.api.auth import parse_basic
from callboard.api.common import call, iso, json_response, resource, service_of
from callboard.api.errors import ApiError, bad_request, not_found
from callboard.api.forms import read_form
from callboard.api.paging import page_body, parse_page_params
from callboard.api.urls import base_url
from callboard.events.envelope import EVENT_TYPES
from callboard.events.service import (
    EventStreams,
    Sink,
    SubscribedEvent,
    Subscription,
    parse_type_spec,
)
from callboard.runtime.records import Account, Page

__all__ = ["account", "events_service", "routes"]

_SID = {p: re.compile(rf"^{p}[0-9a-fA-F]{{32}}$") for p in ("DG", "DF", "FW")}


# ------------------------------------------------------------------------- plumbing


def events_service(request: Request) -> EventStreams:
    state = request.app.state
    found = getattr(state, "event_streams", None)
    if found is None:
        service = service_of(request)
        found = EventStreams(service.db, getattr(service, "env", None))
        state.event_streams = found
    return found


async def account(request: Request) -> Account:
    """The authenticated account (the auth middleware's, or HTTP Basic checked here:
    ``/v1/`` is shared with unauthenticated Twilio webhooks, so these routes check
    credentials themselves)."""
    found = request.scope.get("callboard.account")
    if isinstance(found, Account):
        return found
    header = request.headers.get("authorization")
    message = "Authentication Error - No credentials provided"
    if header is not None:
        creds = parse_basic(header)
        message = "Authentication Error - invalid credentials"
        if creds is not None:
            acct = await run_in_threadpool(service_of(request).authenticate, *creds)
            if isinstance(acct, Account):
                request.scope["callboard.account"] = acct
                request.scope["callboard.credential"] = creds[0]
                return acct
            message = "Authentication Error - invalid username"
    headers = {}
    if "x-requested-with" not in request.headers:
        headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
    raise ApiError(
        401,
        message,
        20003,
        headers=headers,
        extra={"detail": "Your AccountSid or AuthToken was incorrect."},
    )


def sid_param(request: Request, name: str, prefix: str) -> str:
    value = request.path_params.get(name, "")
    if not isinstance(value, str) or not _SID[prefix].match(value):
        raise not_found(request.url.path)
    return value


def _page(
    request: Request,
    key: str,
    page: Page[Any],
    items: list[dict[str, Any]],
    filters: list[tuple[str, str]] | None = None,
) -> Response:
    params = parse_page_params(request)
    return json_response(
        page_body(
            request,
            key,
            items,
            params,
            next_token=page.next_token,
            previous_token=page.previous_token,
            filters=filters or [],
        )
    )


# ------------------------------------------------------------------------- rendering


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


def render_subscription(request: Request, sub: Subscription) -> dict[str, Any]:
    url = f"{base_url(request)}/v1/Subscriptions/{sub.sid}"
    return {
        "account_sid": sub.account_sid,
        "sid": sub.sid,
        "date_created": iso(sub.date_created),
        "date_updated": iso(sub.date_updated),
        "description": sub.description,
        "sink_sid": sub.sink_sid,
        "url": url,
        "links": {"subscribed_events": f"{url}/SubscribedEvents"},
    }


def render_subscribed(request: Request, item: SubscribedEvent) -> dict[str, Any]:
    return {
        "account_sid": item.account_sid,
        "type": item.type,
        "schema_version": item.schema_version,
        "subscription_sid": item.subscription_sid,
        "url": f"{base_url(request)}/v1/Subscriptions/{item.subscription_sid}"
        f"/SubscribedEvents/{item.type}",
    }


# ------------------------------------------------------------------------- sinks


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
    return _page(request, "sinks", page, [render_sink(request, s) for s in page.items], filters)


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


# ------------------------------------------------------------------------- subscriptions


async def list_subscriptions(request: Request) -> Response:
    acct = await account(request)
    params = parse_page_params(request)
    sink_sid = request.query_params.get("SinkSid") or None
    if sink_sid is not None and not _SID["DG"].match(sink_sid):
        raise bad_request(f"Invalid parameter SinkSid: {sink_sid!r} is not a Sink SID")
    page = await call(
        request,
        events_service(request).list_subscriptions,
        acct.sid,
        sink_sid=sink_sid,
        page_size=params.page_size,
        page_token=params.token,
    )
    items = [render_subscription(request, s) for s in page.items]
    return _page(request, "subscriptions", page, items, [("SinkSid", sink_sid)] if sink_sid else [])


def _types(values: list[str]) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for raw in values:
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw  # a bare type name
        try:
            out.append(parse_type_spec(value))
        except Exception as exc:
            raise bad_request(str(getattr(exc, "message", exc))) from None
    return out


async def create_subscription(request: Request) -> Response:
    acct = await account(request)
    form = await read_form(request)
    description = form.required("Description")
    sink_sid = form.required("SinkSid")
    if not _SID["DG"].match(sink_sid):
        raise bad_request(f"Invalid parameter SinkSid: {sink_sid!r} is not a Sink SID")
    if "Types" not in form:
        raise bad_request("Missing required parameter Types in the post body")
    types = _types(form.get_all("Types"))
    sub = await call(
        request,
        events_service(request).create_subscription,
        acct.sid,
        description=description,
        sink_sid=sink_sid,
        types=types,
    )
    return json_response(render_subscription(request, sub), 201)


async def fetch_subscription(request: Request) -> Response:
    acct = await account(request)
    sid = sid_param(request, "sid", "DF")
    sub = await call(request, events_service(request).fetch_subscription, acct.sid, sid)
    return json_response(render_subscription(request, sub))


async def update_subscription(request: Request) -> Response:
    acct = await account(request)
    sid = sid_param(request, "sid", "DF")
    form = await read_form(request)
    sub = await call(
        request,
        events_service(request).update_subscription,
        acct.sid,
        sid,
        description=form.get("Description"),
    )
    return json_response(render_subscription(request, sub))


async def delete_subscription(request: Request) -> Response:
    acct = await account(request)
    sid = sid_param(request, "sid", "DF")
    await call(request, events_service(request).delete_subscription, acct.sid, sid)
    return Response(status_code=204)


# ------------------------------------------------------------------------- subscribed events


async def list_subscribed(request: Request) -> Response:
    acct = await account(request)
    sid = sid_param(request, "sid", "DF")
    params = parse_page_params(request)
    page = await call(
        request,
        events_service(request).list_subscribed_events,
        acct.sid,
        sid,
        page_size=params.page_size,
        page_token=params.token,
    )
    return _page(request, "types", page, [render_subscribed(request, i) for i in page.items])


async def create_subscribed(request: Request) -> Response:
    acct = await account(request)
    sid = sid_param(request, "sid", "DF")
    form = await read_form(request)
    type_ = form.required("Type")
    item, created = await call(
        request,
        events_service(request).put_subscribed_event,
        acct.sid,
        sid,
        type_,
        form.get("SchemaVersion"),
    )
    return json_response(render_subscribed(request, item), 201 if created else 200)


async def fetch_subscribed(request: Request) -> Response:
    acct = await account(request)
    sid = sid_param(request, "sid", "DF")
    item = await call(
        request,
        events_service(request).fetch_subscribed_event,
        acct.sid,
        sid,
        str(request.path_params["type"]),
    )
    return json_response(render_subscribed(request, item))


async def update_subscribed(request: Request) -> Response:
    acct = await account(request)
    sid = sid_param(request, "sid", "DF")
    form = await read_form(request)
    type_ = str(request.path_params["type"])
    if type_ not in EVENT_TYPES:
        raise not_found(request.url.path)
    item, _ = await call(
        request,
        events_service(request).put_subscribed_event,
        acct.sid,
        sid,
        type_,
        form.get("SchemaVersion"),
        must_exist=True,
    )
    return json_response(render_subscribed(request, item))


async def delete_subscribed(request: Request) -> Response:
    acct = await account(request)
    sid = sid_param(request, "sid", "DF")
    await call(
        request,
        events_service(request).delete_subscribed_event,
        acct.sid,
        sid,
        str(request.path_params["type"]),
    )
    return Response(status_code=204)


def routes() -> list[Route]:
    sink = "/v1/Sinks/{sid}"
    sub = "/v1/Subscriptions/{sid}"
    return [
        resource("/v1/Sinks", get=list_sinks, post=create_sink),
        resource(sink, get=fetch_sink, post=update_sink, delete=delete_sink),
        resource(sink + "/Test", post=test_sink),
        resource(sink + "/Validate", post=validate_sink),
        resource("/v1/Subscriptions", get=list_subscriptions, post=create_subscription),
        resource(sub, get=fetch_subscription, post=update_subscription, delete=delete_subscription),
        resource(sub + "/SubscribedEvents", get=list_subscribed, post=create_subscribed),
        resource(
            sub + "/SubscribedEvents/{type}",
            get=fetch_subscribed,
            post=update_subscribed,
            delete=delete_subscribed,
        ),
    ]
