"""Event Streams v1 Subscriptions routes: ``/v1/Subscriptions`` (list, create),
``/v1/Subscriptions/{Sid}`` (fetch, update, delete) and their SubscribedEvents
(``/v1/Subscriptions/{Sid}/SubscribedEvents[/{Type}]``)."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from callboard.api.common import call, iso, json_response, resource
from callboard.api.errors import bad_request, not_found
from callboard.api.events_common import SID, account, events_service, page_response, sid_param
from callboard.api.forms import read_form
from callboard.api.paging import parse_page_params
from callboard.api.urls import base_url
from callboard.events.envelope import EVENT_TYPES
from callboard.events.service import SubscribedEvent, Subscription, parse_type_spec

__all__ = ["render_subscribed", "render_subscription", "subscription_routes"]


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


async def list_subscriptions(request: Request) -> Response:
    acct = await account(request)
    params = parse_page_params(request)
    sink_sid = request.query_params.get("SinkSid") or None
    if sink_sid is not None and not SID["DG"].match(sink_sid):
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
    return page_response(
        request, "subscriptions", page, items, [("SinkSid", sink_sid)] if sink_sid else []
    )


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
    if not SID["DG"].match(sink_sid):
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
    return page_response(
        request, "types", page, [render_subscribed(request, i) for i in page.items]
    )


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


def subscription_routes() -> list[Route]:
    sub = "/v1/Subscriptions/{sid}"
    return [
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
