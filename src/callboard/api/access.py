"""Access control (issue 14), after :class:`callboard.api.auth.Authenticator` (the last
step of :class:`callboard.api.shell.Shell`): for every authenticated request, the
caller's :class:`~callboard.api.principal.Principal`, the CSRF check of
cookie-authenticated requests, the role the permissions table
(:mod:`callboard.api.permissions`) asks for, and the audit event of the actions it names.

A forbidden request answers 403 with Twilio's body (code 20403) before its handler runs,
so it changes nothing. A state-changing request authenticated by the session cookie
must carry ``X-CSRF-Token`` (the token ``POST /callboard/v1/Session`` returned), else
403. Audit events are recorded when the handler answered 2xx, before the end of its
answer goes out; their resource is the last SID in the path, else the ``sid`` of the
JSON answer.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callboard.api.errors import ApiError, error_body
from callboard.api.forms import MAX_BODY_BYTES, read_form
from callboard.api.permissions import rule_for
from callboard.api.principal import (
    Principal,
    audit_of,
    basic_principal,
    client_address,
    services_in,
)
from callboard.runtime.audit import Actor
from callboard.runtime.records import Account, ServiceError
from callboard.runtime.roles import allows

__all__ = ["CSRF_MESSAGE", "check_csrf", "forbidden", "guard"]

log = logging.getLogger("callboard.api")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_MESSAGE = "CSRF token missing or wrong: send X-CSRF-Token (from POST /callboard/v1/Session)"
_SID = re.compile(r"[A-Z]{2}[0-9a-fA-F]{32}")


def forbidden(message: str) -> JSONResponse:
    return JSONResponse(error_body(403, 20403, message), status_code=403)


def check_csrf(scope: Scope, expected: str | None) -> bool:
    """Whether the request carries ``X-CSRF-Token`` equal to ``expected``."""
    if not expected:
        return False
    for name, value in scope.get("headers") or []:
        if name.lower() == b"x-csrf-token":
            return hmac.compare_digest(value, expected.encode())
    return False


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """The request body, and a ``receive`` that replays it. Reading stops just past
    :data:`MAX_BODY_BYTES` (the handler then answers 413 from what it replays)."""
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_BODY_BYTES:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


async def _publishes(scope: Scope, body: bytes, account: Account) -> bool:
    """``Status=published`` makes a published revision — except on a flow already
    published when no ``Definition`` comes (a rename or a commit message only)."""

    async def once() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await read_form(Request(scope, once))
    except ApiError:  # the handler answers the same error, and changes nothing
        return False
    if (form.get("Status") or "").strip() != "published":
        return False
    flow_sid = _SID.findall(scope.get("path", ""))
    if flow_sid and form.get("Definition") is None:
        fetch = services_in(scope["app"]).callboard.fetch_flow
        try:
            flow = await run_in_threadpool(fetch, account.sid, flow_sid[0])
        except ServiceError:  # the handler answers 404
            return False
        return bool(flow.status != "published")
    return True


async def guard(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Runs ``app`` for an authenticated request (the last step of
    :class:`callboard.api.shell.Shell`) if the caller's role allows it, auditing it when
    the permissions table says so; else answers 403."""
    path = scope.get("path", "")
    account = scope.get("callboard.account")
    if not isinstance(account, Account):
        await app(scope, receive, send)
        return
    principal = scope.get("callboard.principal")
    if not isinstance(principal, Principal):
        credential = str(scope.get("callboard.credential") or account.sid)
        principal = await basic_principal(scope, account, credential)
        if principal is None:
            message = "This API key's creator is no longer a member of the account"
            await forbidden(message)(scope, receive, send)
            return
        scope["callboard.principal"] = principal
    method = scope.get("method", "GET")
    csrf = principal.csrf
    if csrf is not None and method not in SAFE_METHODS and not check_csrf(scope, csrf):
        await forbidden(CSRF_MESSAGE)(scope, receive, send)
        return
    rule = rule_for(method, path)
    required, action = rule.role, rule.audit
    if rule.publish:
        body, receive = await _buffered(receive)
        if await _publishes(scope, body, account):
            required = "admin"
        else:
            action = None
    if not allows(principal.role, required):
        publishing = rule.publish and required == "admin"
        what = "publish flows" if publishing else f"{method} {path[:200]}"
        message = f"Forbidden: your role ({principal.role}) cannot {what}; it needs {required}"
        await forbidden(message)(scope, receive, send)
        return
    if action is None:
        await app(scope, receive, send)
        return
    await _audited(app, scope, receive, send, principal, action)


async def _audited(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, principal: Principal, action: str
) -> None:
    """Runs the route; on a 2xx answer, records the audit event before the answer's
    last body chunk goes out (a client that got the answer finds the event)."""
    path = scope.get("path", "")
    in_path = _SID.findall(path)
    status = 0
    chunks: list[bytes] = []

    async def watch(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
        elif message["type"] == "http.response.body":
            if not in_path and len(chunks) < 64:
                chunks.append(message.get("body", b""))
            if not message.get("more_body", False) and 200 <= status < 300:
                resource = in_path[-1] if in_path else _answer_sid(b"".join(chunks))
                await _record(scope, principal, action, resource)
        await send(message)

    await app(scope, receive, watch)


async def _record(scope: Scope, principal: Principal, action: str, resource: str | None) -> None:
    path = scope.get("path", "")
    actor = Actor(principal.name, principal.sid, principal.role, client_address(scope))
    details: dict[str, Any] = {"method": scope.get("method"), "path": path[:300]}
    try:
        record = audit_of(scope["app"]).record
        await run_in_threadpool(record, principal.account.sid, actor, action, resource, details)
    except Exception:  # the action happened: never answer it as failed
        log.exception("could not record the audit event %s on %s", action, resource)


def _answer_sid(body: bytes) -> str | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    sid = value.get("sid") if isinstance(value, dict) else None
    return sid if isinstance(sid, str) else None
