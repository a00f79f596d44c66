"""Who is calling (issue 14): a :class:`Principal` per authenticated request, in
``scope["callboard.principal"]``.

* HTTP Basic with the Account SID and Auth Token: the account itself, ``owner``;
* HTTP Basic with an API key: that key's role (at most its creator's current role);
* the browser session cookie: the user, with their role and the session's CSRF token.

The team and audit services of the app (:func:`team_of`, :func:`audit_of`) are the
app's :class:`~callboard.api.services.Services` (built by the composition root).
"""

from __future__ import annotations

from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import Scope

from callboard.api import proxies
from callboard.api.services import Services
from callboard.runtime.audit import Actor, AuditLog
from callboard.runtime.records import Account, NotFound
from callboard.runtime.team import Team

__all__ = [
    "SESSION_COOKIE",
    "Principal",
    "actor_of",
    "audit_of",
    "author_of",
    "basic_principal",
    "client_address",
    "principal_of",
    "services_in",
    "session_principal",
    "session_token",
    "team_of",
]

SESSION_COOKIE = "callboard_session"


@dataclass(frozen=True, slots=True)
class Principal:
    account: Account
    role: str
    sid: str  # US…, SK… or AC…
    email: str | None = None  # users only
    csrf: str | None = None  # set when the session cookie authenticated the request

    @property
    def name(self) -> str:
        return self.email or self.sid


def services_in(app: Any) -> Services:
    """The services the app was built over (:func:`callboard.api.app.create_app`)."""
    found = app.state.services
    assert isinstance(found, Services)
    return found


def team_of(app: Any) -> Team:
    return services_in(app).team


def audit_of(app: Any) -> AuditLog:
    return services_in(app).audit


def client_address(scope: Scope) -> str | None:
    """The client's address as the audit log and log-in throttling record it: the peer's,
    or the forwarded one behind a trusted proxy (:func:`callboard.api.proxies.client_address`)."""
    address = proxies.client_address(scope)
    return None if address == "unknown" else address[:64]


def session_token(scope: Scope) -> str | None:
    for name, value in scope.get("headers") or []:
        if name.lower() == b"cookie":
            cookie: SimpleCookie = SimpleCookie()
            try:
                cookie.load(value.decode("latin-1"))
            except Exception:
                continue
            morsel = cookie.get(SESSION_COOKIE)
            if morsel is not None and morsel.value:
                return morsel.value
    return None


async def session_principal(scope: Scope) -> Principal | None:
    """The principal of the request's session cookie (None: no cookie, or a session
    that has ended)."""
    token = session_token(scope)
    if token is None:
        return None
    app = scope["app"]
    found = await run_in_threadpool(team_of(app).session, token)
    if found is None:
        return None
    user, csrf = found
    try:
        account = await run_in_threadpool(
            services_in(app).callboard.fetch_account, user.account_sid
        )
    except NotFound:
        return None
    if account.status != "active":
        return None
    return Principal(account, user.role, user.sid, user.email, csrf)


async def basic_principal(scope: Scope, account: Account, credential: str) -> Principal | None:
    """The principal of HTTP Basic credentials already checked by the auth middleware
    (None: an API key whose creating user has been removed)."""
    if credential.startswith("SK"):
        role = await run_in_threadpool(team_of(scope["app"]).key_role, credential)
        if role is None:
            return None
        return Principal(account, role, credential)
    return Principal(account, "owner", account.sid)


def principal_of(request: Request) -> Principal:
    found = request.scope.get("callboard.principal")
    if not isinstance(found, Principal):  # the access middleware guards every such route
        from callboard.api.errors import ApiError

        raise ApiError(401, "Authentication Error - No credentials provided", 20003)
    return found


def actor_of(request: Request) -> Actor:
    p = principal_of(request)
    return Actor(p.name, p.sid, p.role, client_address(request.scope))


def author_of(request: Request) -> str | None:
    """Who a new revision is by: the user's, API key's or Account's SID."""
    found = request.scope.get("callboard.principal")
    return found.sid if isinstance(found, Principal) else None
