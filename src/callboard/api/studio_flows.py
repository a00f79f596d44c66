"""Studio v2: Flows, Revisions, Validate and TestUsers (operations 1–10).

Request parameters are Twilio's form fields; responses are the resources of Studio's
OpenAPI (``studio.v2.flow``, ``studio.v2.flow.flow_revision``, ``studio.v2.flow_validate``,
``studio.v2.flow.test_user``) with absolute ``url``/``links`` on the public base URL.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from callboard.api.common import (
    account_of,
    call,
    iso,
    json_response,
    path_sid,
    resource,
    service_of,
    services_of,
)
from callboard.api.errors import ApiError, bad_request
from callboard.api.forms import Form, read_form
from callboard.api.paging import page_response, parse_page_params
from callboard.api.principal import author_of  # issue 14 (teams)
from callboard.api.urls import base_url
from callboard.flowtest.stored import publish_gate
from callboard.runtime.records import Flow, FlowRevision, TestUsers
from callboard.store.sids import sid_regex

__all__ = ["render_flow", "render_revision", "routes"]

FLOW_STATUSES = ("draft", "published")
_AUTHOR_RE = sid_regex("US")


# ------------------------------------------------------------------------- rendering


def _user_sid(author: str | None) -> str | None:
    """Studio's ``author_sid`` is a User SID; revisions made with an API key or the Auth
    Token show null here (``/callboard/v1/Flows/{FW}/Revisions`` names them)."""
    return author if author and author.startswith("US") else None


def render_flow(request: Request, flow: Flow) -> dict[str, Any]:
    base = base_url(request)
    url = f"{base}/v2/Flows/{flow.sid}"
    return {
        "sid": flow.sid,
        "account_sid": flow.account_sid,
        "author_sid": _user_sid(flow.author_sid),
        "friendly_name": flow.friendly_name,
        "definition": None if flow.listed else flow.definition,
        "status": flow.status,
        "revision": flow.revision,
        "commit_message": None if flow.listed else flow.commit_message,
        "valid": None if flow.listed else flow.valid,
        "errors": None if flow.listed else (flow.errors or []),
        "warnings": None if flow.listed else (flow.warnings or []),
        "webhook_url": f"{base}{flow.webhook_path}",
        "date_created": iso(flow.date_created),
        "date_updated": iso(flow.date_updated),
        "url": url,
        "links": {
            "test_users": f"{url}/TestUsers",
            "revisions": f"{url}/Revisions",
            "executions": f"{url}/Executions",
        },
    }


def render_revision(request: Request, rev: FlowRevision) -> dict[str, Any]:
    return {
        "sid": rev.sid,
        "account_sid": rev.account_sid,
        "author_sid": _user_sid(rev.author_sid),
        "friendly_name": rev.friendly_name,
        "definition": None if rev.listed else rev.definition,
        "status": rev.status,
        "revision": rev.revision,
        "commit_message": rev.commit_message,
        "valid": rev.valid,
        "errors": None if rev.listed else (rev.errors or []),
        "date_created": iso(rev.date_created),
        "date_updated": iso(rev.date_updated),
        "url": f"{base_url(request)}/v2/Flows/{rev.sid}/Revisions/{rev.revision}",
    }


def render_test_users(request: Request, users: TestUsers) -> dict[str, Any]:
    return {
        "sid": users.sid,
        "test_users": list(users.test_users),
        "url": f"{base_url(request)}/v2/Flows/{users.sid}/TestUsers",
    }


# ------------------------------------------------------------------------- parameters


def _definition(form: Form, *, required: bool) -> tuple[bool, Any]:
    present, value = form.json("Definition", required=required)
    if present and not isinstance(value, dict):
        kind = "null" if value is None else type(value).__name__
        raise ApiError(
            400,
            "Flow definition validation failed",
            81022,
            details={
                "errors": [
                    {
                        "property_path": "#",
                        "message": f"a flow definition is a JSON object, found {kind}",
                    }
                ],
                "warnings": [],
            },
        )
    return present, value


def _author(form: Form, request: Request) -> str | None:
    author = form.get("AuthorSid")
    if author is not None and author != "" and not _AUTHOR_RE.match(author):
        raise bad_request("Invalid parameter AuthorSid: expected a User SID (US + 32 hex digits)")
    # issue 14 (teams): the revision's author is the caller, not a SID it claims
    return author_of(request) or author or None


# ------------------------------------------------------------------------- handlers


async def list_flows(request: Request) -> Response:
    account = account_of(request)
    params = parse_page_params(request)
    page = await call(
        request,
        service_of(request).list_flows,
        account.sid,
        page_size=params.page_size,
        page_token=params.token,
    )
    items = [render_flow(request, f) for f in page.items]
    return page_response(request, "flows", page, items, params=params)


async def create_flow(request: Request) -> Response:
    account = account_of(request)
    form = await read_form(request)
    friendly_name = form.required("FriendlyName")
    status = form.enum("Status", FLOW_STATUSES, required=True)
    _, definition = _definition(form, required=True)
    flow = await call(
        request,
        service_of(request).create_flow,
        account.sid,
        friendly_name=friendly_name,
        status=status,
        definition=definition,
        commit_message=form.get("CommitMessage"),
        author_sid=_author(form, request),
    )
    return json_response(render_flow(request, flow), 201)


async def fetch_flow(request: Request) -> Response:
    account = account_of(request)
    sid = path_sid(request, "sid", "FW")
    flow = await call(request, service_of(request).fetch_flow, account.sid, sid)
    return json_response(render_flow(request, flow))


async def update_flow(request: Request) -> Response:
    account = account_of(request)
    sid = path_sid(request, "sid", "FW")
    form = await read_form(request)
    status = form.enum("Status", FLOW_STATUSES, required=True)
    _, definition = _definition(form, required=False)
    if status == "published":  # a flow may require green tests to publish (flowtest)
        refused = await call(
            request,
            publish_gate,
            service_of(request),
            services_of(request).test_driver,
            account.sid,
            sid,
            definition if isinstance(definition, dict) else None,
        )
        if refused:
            raise bad_request(refused)
    flow = await call(
        request,
        service_of(request).update_flow,
        account.sid,
        sid,
        status=status,
        friendly_name=form.get("FriendlyName"),
        definition=definition,
        commit_message=form.get("CommitMessage"),
        author_sid=_author(form, request),
    )
    return json_response(render_flow(request, flow))


async def delete_flow(request: Request) -> Response:
    account = account_of(request)
    sid = path_sid(request, "sid", "FW")
    await call(request, service_of(request).delete_flow, account.sid, sid)
    return Response(status_code=204)


async def list_revisions(request: Request) -> Response:
    account = account_of(request)
    sid = path_sid(request, "sid", "FW")
    params = parse_page_params(request)
    page = await call(
        request,
        service_of(request).list_revisions,
        account.sid,
        sid,
        page_size=params.page_size,
        page_token=params.token,
    )
    items = [render_revision(request, r) for r in page.items]
    return page_response(request, "revisions", page, items, params=params)


async def fetch_revision(request: Request) -> Response:
    account = account_of(request)
    sid = path_sid(request, "sid", "FW")
    revision = str(request.path_params.get("revision", ""))
    rev = await call(request, service_of(request).fetch_revision, account.sid, sid, revision)
    return json_response(render_revision(request, rev))


async def validate_flow(request: Request) -> Response:
    account_of(request)
    form = await read_form(request)
    friendly_name = form.required("FriendlyName")
    status = form.enum("Status", FLOW_STATUSES, required=True)
    _, definition = _definition(form, required=True)
    await call(
        request,
        service_of(request).validate_definition,
        definition,
        friendly_name=friendly_name,
        status=status or "draft",
    )
    return json_response({"valid": True})


async def fetch_test_users(request: Request) -> Response:
    account = account_of(request)
    sid = path_sid(request, "sid", "FW")
    users = await call(request, service_of(request).fetch_test_users, account.sid, sid)
    return json_response(render_test_users(request, users))


async def update_test_users(request: Request) -> Response:
    account = account_of(request)
    sid = path_sid(request, "sid", "FW")
    form = await read_form(request)
    if "TestUsers" not in form:
        raise bad_request("Missing required parameter TestUsers in the post body")
    # An empty value (``TestUsers=``) clears the list.
    identities = [u for u in form.get_all("TestUsers") if u != ""]
    users = await call(request, service_of(request).update_test_users, account.sid, sid, identities)
    return json_response(render_test_users(request, users))


def routes() -> list[Route]:
    flow = "/v2/Flows/{sid}"
    return [
        resource("/v2/Flows", get=list_flows, post=create_flow),
        # Before /v2/Flows/{sid}: "Validate" would otherwise be taken for a SID.
        resource("/v2/Flows/Validate", post=validate_flow),
        resource(flow, get=fetch_flow, post=update_flow, delete=delete_flow),
        resource(flow + "/Revisions", get=list_revisions),
        resource(flow + "/Revisions/{revision}", get=fetch_revision),
        resource(flow + "/TestUsers", get=fetch_test_users, post=update_test_users),
    ]
