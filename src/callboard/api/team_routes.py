"""The team's routes (issue 14), under ``/callboard/v1`` — roles are checked by the
permissions table (:mod:`callboard.api.permissions`), who may change whom by
:class:`callboard.runtime.team.Team`:

* ``GET /Users`` → ``{"users": [...]}``; ``POST /Users`` (``Email``, ``Role``, optional
  ``Password``) → 201 the user; without a password, an invitation: the answer carries
  ``invitation_url``, a one-time link (shown once) where they choose one;
  ``POST /Users/{US}`` (``Role``) changes the role; ``DELETE /Users/{US}`` removes them;
  ``POST /Users/{US}/Invitation`` resets their password: a new one-time link.
* ``GET /Keys``; ``POST /Keys`` (``FriendlyName``, optional ``Role``: at most the
  caller's) → 201 with the ``secret`` (shown once); ``DELETE /Keys/{SK}``.
* ``GET /AuditEvents`` (``Actor``, ``Action``, ``StartDate``, ``EndDate``; Twilio
  paging) → ``{"meta": ..., "audit_events": [...]}``, newest first.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from callboard.api.common import call, iso, json_response, resource, service_of
from callboard.api.errors import bad_request, not_found
from callboard.api.forms import read_form
from callboard.api.paging import page_response, parse_page_params
from callboard.api.principal import actor_of, audit_of, principal_of, team_of
from callboard.api.session_routes import render_user
from callboard.api.urls import base_url
from callboard.runtime.audit import AuditEvent
from callboard.runtime.roles import ROLES

__all__ = ["routes"]


def _sid(request: Request, prefix: str) -> str:
    value = request.path_params.get("sid", "")
    if not isinstance(value, str) or not (len(value) == 34 and value.startswith(prefix)):
        raise not_found(request.url.path)
    return value


# ------------------------------------------------------------------------- users


async def list_users(request: Request) -> Response:
    account = principal_of(request).account
    users = await call(request, team_of(request.app).list_users, account.sid)
    return json_response({"users": [render_user(u) for u in users]})


async def create_user(request: Request) -> Response:
    account = principal_of(request).account
    form = await read_form(request)
    password = form.get("Password") or None
    created = await call(
        request,
        team_of(request.app).add_user,
        account.sid,
        form.required("Email"),
        form.required("Role"),
        password,
        actor=actor_of(request),
        invite=password is None,
    )
    body = render_user(created.user)
    if created.invitation_token:
        body["invitation_url"] = _invitation_url(request, created.invitation_token)
    return json_response(body, 201)


async def update_user(request: Request) -> Response:
    account = principal_of(request).account
    form = await read_form(request)
    user = await call(
        request,
        team_of(request.app).set_role,
        account.sid,
        _sid(request, "US"),
        form.required("Role"),
        actor=actor_of(request),
    )
    return json_response(render_user(user))


async def delete_user(request: Request) -> Response:
    account = principal_of(request).account
    await call(
        request,
        team_of(request.app).remove_user,
        account.sid,
        _sid(request, "US"),
        actor=actor_of(request),
    )
    return Response(status_code=204)


async def reset_user(request: Request) -> Response:
    account = principal_of(request).account
    token = await call(
        request,
        team_of(request.app).reset_link,
        account.sid,
        _sid(request, "US"),
        actor=actor_of(request),
    )
    return json_response({"invitation_url": _invitation_url(request, token)}, 201)


def _invitation_url(request: Request, token: str) -> str:
    return f"{base_url(request)}/#/invite/{token}"


# ------------------------------------------------------------------------- API keys


async def list_keys(request: Request) -> Response:
    account = principal_of(request).account
    keys = await call(request, service_of(request).list_api_keys, account.sid)
    creators = await call(request, team_of(request.app).key_creators, [k.sid for k in keys])
    items = []
    for k in keys:
        created_by, role = creators.get(k.sid, (None, "owner"))
        items.append(
            {
                "sid": k.sid,
                "friendly_name": k.friendly_name,
                "created_by": created_by,
                "role": role,
                "date_created": iso(k.date_created),
            }
        )
    return json_response({"keys": items})


async def create_key(request: Request) -> Response:
    principal = principal_of(request)
    form = await read_form(request)
    role = form.get("Role") or principal.role
    if role not in ROLES:
        raise bad_request(f"Role must be one of {', '.join(ROLES)}, got {role[:40]!r}")
    service = service_of(request)
    created = await call(
        request, service.create_api_key, principal.account.sid, form.get("FriendlyName")
    )
    try:
        granted = await call(
            request,
            team_of(request.app).record_key,
            principal.account.sid,
            created.key.sid,
            actor_of(request),
            role,
        )
    except BaseException:  # a key without its creator would be the account's own: owner
        await call(request, service.delete_api_key, principal.account.sid, created.key.sid)
        raise
    return json_response(
        {
            "sid": created.key.sid,
            "friendly_name": created.key.friendly_name,
            "secret": created.secret,
            "role": granted,
            "created_by": principal.name,
            "date_created": iso(created.key.date_created),
        },
        201,
    )


async def delete_key(request: Request) -> Response:
    account = principal_of(request).account
    await call(request, service_of(request).delete_api_key, account.sid, _sid(request, "SK"))
    return Response(status_code=204)


# ------------------------------------------------------------------------- audit log


def _date(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(
            f"Invalid parameter {name}: {raw[:60]!r} is not an ISO 8601 date"
        ) from None


def render_event(event: AuditEvent) -> dict[str, Any]:
    return {
        "sid": event.sid,
        "account_sid": event.account_sid,
        "actor": event.actor,
        "actor_sid": event.actor_sid,
        "action": event.action,
        "resource_sid": event.resource_sid,
        "client_address": event.client_address,
        "details": event.details,
        "date_created": iso(event.date_created),
    }


async def list_audit_events(request: Request) -> Response:
    account = principal_of(request).account
    params = parse_page_params(request)
    filters = [
        (name, request.query_params[name])
        for name in ("Actor", "Action", "StartDate", "EndDate")
        if request.query_params.get(name)
    ]
    page = await call(
        request,
        audit_of(request.app).list,
        account.sid,
        actor=request.query_params.get("Actor") or None,
        action=request.query_params.get("Action") or None,
        after=_date(request, "StartDate"),
        before=_date(request, "EndDate"),
        page_size=params.page_size,
        page_token=params.token,
    )
    items = [render_event(e) for e in page.items]
    return page_response(request, "audit_events", page, items, filters, params)


def routes() -> list[Route]:
    base = "/callboard/v1"
    return [
        resource(f"{base}/Users", get=list_users, post=create_user),
        resource(f"{base}/Users/{{sid}}", post=update_user, delete=delete_user),
        resource(f"{base}/Users/{{sid}}/Invitation", post=reset_user),
        resource(f"{base}/Keys", get=list_keys, post=create_key),
        resource(f"{base}/Keys/{{sid}}", delete=delete_key),
        resource(f"{base}/AuditEvents", get=list_audit_events),
    ]


def openapi_paths() -> dict[str, Any]:
    from callboard.api.team_openapi import session_paths, team_paths

    return {**session_paths(), **team_paths()}


def openapi_schemas() -> dict[str, Any]:
    from callboard.api.team_openapi import team_schemas

    return team_schemas()
