"""HTTP Basic authentication for the Studio routes (``/v2/…``) and Callboard's own
(``/callboard/v1/…``, except ``Health`` and the ``Schemas/FlowTest`` JSON Schema).

Username: an Account SID (password: its Auth Token) or an API Key SID (password: the
key's secret). The service checks the credentials (:meth:`Callboard.authenticate`,
constant-time comparison of hashes) and returns the account; :class:`Authenticator`
(a step of :class:`callboard.api.shell.Shell`) stores it in ``scope["callboard.account"]``
for the handlers. Verified credentials are cached per process and dropped the moment any
process changes them (:mod:`callboard.api.credentials`). Issue 14: without an
Authorization header, the browser session cookie (:mod:`callboard.api.principal`) is
accepted; roles, CSRF and the audit log are :mod:`callboard.api.access`'s. Failures
answer 401 with Twilio's body (code 20003) and ``WWW-Authenticate: Basic realm="Twilio
API"`` — except for requests carrying ``X-Requested-With`` (the browser editor), so that
browsers do not pop up their own login dialog.

Wrong credentials are throttled per user name and client address
(:mod:`callboard.api.throttle`: 429 / 20429). A database that cannot be reached answers
503 / 20503, as every other route does.
"""

from __future__ import annotations

import base64
import binascii

from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from callboard.api.credentials import CredentialsCache, Verified, cache_key, verify
from callboard.api.errors import database_unavailable, error_body, error_response
from callboard.api.principal import Principal, session_principal
from callboard.api.proxies import client_address
from callboard.api.throttle import CredentialThrottle
from callboard.runtime.service import Callboard
from callboard.runtime.team import Team

__all__ = ["Authenticator", "parse_basic", "refusal_message"]


def parse_basic(header: str) -> tuple[str, str] | None:
    """``Basic base64(user:password)`` → ``(user, password)``; None when malformed."""
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic" or not token.strip():
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    user, sep, password = decoded.partition(":")
    if not sep or not user:
        return None
    return user, password


def refusal_message(service: Callboard, user: str) -> str:
    """Why ``service.authenticate(user, …)`` refused: the user name is unknown, or the
    token is wrong (SIDs are random 128-bit names, so saying which does not help anyone
    guess them). Blocking (a database read): call it from a worker thread."""
    if user.startswith("AC") and len(user) == 34:
        try:
            account = service.fetch_account(user)
        except Exception:
            return f"Authentication Error - unknown Account SID {user}"
        if account.status != "active":
            return f"Authentication Error - account {user} is {account.status}"
        return f"Authentication Error - wrong Auth Token for Account SID {user}"
    if user.startswith("SK") and len(user) == 34:
        return f"Authentication Error - unknown API Key SID {user} or wrong API Key secret"
    return (
        "Authentication Error - unknown user name: expected an Account SID (AC…) "
        "or an API Key SID (SK…)"
    )


class Authenticator:
    """The authentication step of :class:`callboard.api.shell.Shell`, for the paths that
    need credentials: :meth:`check` stores the caller in the scope (``callboard.account``,
    ``callboard.credential`` and, when known, ``callboard.principal``) and returns True,
    or answers the request itself and returns False. Verified HTTP Basic credentials are
    cached (:mod:`callboard.api.credentials`)."""

    def __init__(
        self,
        service: Callboard,
        team: Team,
        cache: CredentialsCache,
        throttle: CredentialThrottle | None = None,
    ) -> None:
        self.service = service
        self.team = team
        self.cache = cache
        self.throttle = throttle or CredentialThrottle()

    async def check(self, scope: Scope, receive: Receive, send: Send) -> bool:
        raw = None
        for name, value in scope.get("headers") or ():
            if name.lower() == b"authorization":
                raw = value
                break
        if raw is None:
            # issue 14 (teams): a browser session cookie authenticates too (the access
            # step then checks its CSRF token and the user's role)
            principal = await session_principal(scope)
            if principal is not None:
                scope["callboard.account"] = principal.account
                scope["callboard.credential"] = principal.sid
                scope["callboard.principal"] = principal
                return True
            await self._deny(scope, receive, send, "Authentication Error - No credentials provided")
            return False
        key = cache_key(raw)
        generation = await self.cache.current()
        found = self.cache.get(key) if generation is not None else None
        if found is not None:
            if self.throttle.failures.empty():
                self._accept(scope, found)
                return True
            address = client_address(scope)
            wait = self.throttle.retry_after(found.user, address)
            if wait is not None:
                await self._throttled(scope, receive, send, wait)
                return False
            self.throttle.succeeded(found.user, address)
            self._accept(scope, found)
            return True
        creds = parse_basic(raw.decode("latin-1"))
        if creds is None:
            await self._deny(scope, receive, send, "Authentication Error - invalid credentials")
            return False
        user, password = creds
        address = client_address(scope)
        wait = self.throttle.retry_after(user, address)
        if wait is not None:
            await self._throttled(scope, receive, send, wait)
            return False
        try:
            async with self.throttle.hashing:
                verified = await run_in_threadpool(verify, self.service, self.team, user, password)
        except OperationalError as exc:
            await error_response(database_unavailable(exc))(scope, receive, send)
            return False
        if verified is None:
            self.throttle.failed(user, address)
            message = await run_in_threadpool(refusal_message, self.service, user)
            await self._deny(scope, receive, send, message)
            return False
        self.throttle.succeeded(user, address)
        if generation is not None:
            self.cache.put(key, generation, verified)
        self._accept(scope, verified)
        return True

    @staticmethod
    def _accept(scope: Scope, verified: Verified) -> None:
        scope["callboard.account"] = verified.account
        scope["callboard.credential"] = verified.user
        if verified.role is not None:
            scope["callboard.principal"] = Principal(verified.account, verified.role, verified.user)

    async def _throttled(self, scope: Scope, receive: Receive, send: Send, wait: int) -> None:
        body = error_body(429, 20429, "Too many failed authentication attempts; retry later")
        headers = {"Retry-After": str(wait)}
        await JSONResponse(body, status_code=429, headers=headers)(scope, receive, send)

    async def _deny(self, scope: Scope, receive: Receive, send: Send, message: str) -> None:
        body = error_body(401, 20003, message)
        body["detail"] = "Your AccountSid or AuthToken was incorrect."
        headers = {}
        request_headers = {k.lower() for k, _ in scope.get("headers") or []}
        if b"x-requested-with" not in request_headers:
            headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
        await JSONResponse(body, status_code=401, headers=headers)(scope, receive, send)
