"""Browser sessions and invitations (issue 14), public routes under ``/callboard/v1``:

* ``POST /callboard/v1/Session`` (form or JSON ``email``, ``password``) → 200
  ``{"user": {...}, "csrf_token": "..."}`` and the HttpOnly, SameSite=Lax session cookie
  (Secure when the public URL is https); 401 / 20003 for a wrong email or password;
  429 / 20429 with ``Retry-After`` after 10 failures for the email or from the client
  address within 15 minutes (:mod:`callboard.api.throttle`).
* ``GET /callboard/v1/Session`` → the same body for the cookie's live session, else 401.
* ``DELETE /callboard/v1/Session`` → 204; ends the session (needs ``X-CSRF-Token``).
* ``GET /callboard/v1/Invitations/{token}`` → ``{"email", "role"}`` of a pending
  invitation (404 when used or expired); ``POST`` it with ``password`` → the invited
  user's password is set, the link is used up, and they are logged in (as above).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from callboard.api.access import CSRF_MESSAGE, check_csrf, forbidden
from callboard.api.common import iso, resource
from callboard.api.errors import ApiError, bad_request, not_found
from callboard.api.forms import read_form
from callboard.api.principal import (
    SESSION_COOKIE,
    client_address,
    session_principal,
    session_token,
    team_of,
)
from callboard.api.throttle import LoginThrottle
from callboard.api.urls import base_url
from callboard.runtime.records import ServiceError
from callboard.runtime.team import SESSION_DAYS, LoggedIn, User

__all__ = ["render_user", "routes"]

_WRONG = "Wrong email or password"


def render_user(user: User) -> dict[str, Any]:
    return {
        "sid": user.sid,
        "account_sid": user.account_sid,
        "email": user.email,
        "role": user.role,
        "status": "active" if user.has_password else "invited",
        "date_created": iso(user.date_created),
        "date_updated": iso(user.date_updated),
    }


def _throttle(request: Request) -> LoginThrottle:
    found = request.app.state.login_throttle  # one per app (create_app)
    assert isinstance(found, LoginThrottle)
    return found


async def _fields(request: Request) -> dict[str, str]:
    """``email`` and ``password`` from a form or a JSON object (either case)."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    values: dict[str, Any]
    if media == "application/json":
        try:
            values = json.loads(await request.body())
        except ValueError:
            raise bad_request("The request body is not valid JSON") from None
        if not isinstance(values, dict):
            raise bad_request("The request body must be a JSON object")
    else:
        form = await read_form(request)
        names = form.keys()
        values = {key: form.get(key) for key in names}
    return {str(k).lower(): v for k, v in values.items() if isinstance(v, str)}


def _logged_in(request: Request, done: LoggedIn) -> Response:
    response = JSONResponse({"user": render_user(done.user), "csrf_token": done.csrf_token})
    response.set_cookie(
        SESSION_COOKIE,
        done.session_token,
        max_age=SESSION_DAYS * 86400,
        path="/",
        httponly=True,
        samesite="lax",
        secure=base_url(request).startswith("https://"),
    )
    return response


async def login(request: Request) -> Response:
    fields = await _fields(request)
    email = (fields.get("email") or "").strip().lower()
    password = fields.get("password") or ""
    if not email or not password:
        raise bad_request("Missing required parameter email or password")
    keys = [f"email:{email[:320]}", f"client:{client_address(request.scope)}"]
    throttle = _throttle(request)
    wait = throttle.retry_after(keys)
    if wait is not None:
        raise ApiError(
            429,
            f"Too many failed log-ins: try again in {wait} seconds",
            20429,
            headers={"Retry-After": str(wait)},
        )
    done = await run_in_threadpool(team_of(request.app).login, email, password)
    if done is None:
        throttle.failed(keys)
        raise ApiError(401, _WRONG, 20003)
    throttle.succeeded(keys[0])
    return _logged_in(request, done)


async def current(request: Request) -> Response:
    principal = await session_principal(request.scope)
    if principal is None or principal.email is None:
        raise ApiError(401, "Not logged in", 20003)
    team = team_of(request.app)
    users = await run_in_threadpool(team.list_users, principal.account.sid)
    user = next((u for u in users if u.sid == principal.sid), None)
    if user is None:
        raise ApiError(401, "Not logged in", 20003)
    return JSONResponse({"user": render_user(user), "csrf_token": principal.csrf})


async def logout(request: Request) -> Response:
    principal = await session_principal(request.scope)
    token = session_token(request.scope)
    if principal is not None and token is not None:
        if not check_csrf(request.scope, principal.csrf):
            return forbidden(CSRF_MESSAGE)
        await run_in_threadpool(team_of(request.app).logout, token)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


def _token(request: Request) -> str:
    token = request.path_params.get("token", "")
    if not isinstance(token, str) or not 20 <= len(token) <= 128:
        raise not_found(request.url.path)
    return token


async def invitation(request: Request) -> Response:
    user = await run_in_threadpool(team_of(request.app).invitation, _token(request))
    if user is None:
        raise ApiError(404, "This invitation has been used or has expired", 20404)
    return JSONResponse({"email": user.email, "role": user.role})


async def accept(request: Request) -> Response:
    token = _token(request)
    password = (await _fields(request)).get("password") or ""
    try:
        accept = team_of(request.app).accept_invitation
        done = await run_in_threadpool(accept, token, password, client_address(request.scope))
    except ServiceError as exc:
        raise ApiError(exc.status, exc.message, exc.code) from None
    if done is None:
        raise ApiError(404, "This invitation has been used or has expired", 20404)
    return _logged_in(request, done)


def routes() -> list[Route]:
    return [
        resource("/callboard/v1/Session", get=current, post=login, delete=logout),
        resource("/callboard/v1/Invitations/{token}", get=invitation, post=accept),
    ]
