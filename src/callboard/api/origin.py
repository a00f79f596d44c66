"""Cross-site request forgery: state-changing requests from another site are refused.

A browser that once answered the API's ``WWW-Authenticate: Basic`` challenge sends those
credentials with any request to this server, including a form another site submits. So
a ``POST`` / ``PUT`` / ``PATCH`` / ``DELETE`` is answered 403 (Twilio's body, 20403)
before authentication when

* ``Sec-Fetch-Site`` is ``cross-site`` (every current browser sends it), or
* ``Origin`` is present and is not this server's own origin (the request's ``Host``, the
  public URL, a trusted proxy's ``X-Forwarded-Host``) nor one listed in
  ``CALLBOARD_ALLOWED_ORIGINS`` (comma-separated, e.g. ``https://admin.example.com``).

Twilio's helper libraries, curl and Twilio's webhooks send neither header; the editor is
served from the same origin. Reading (``GET``) is not affected.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from callboard.api.errors import error_body
from callboard.api.urls import base_url

__all__ = ["OriginCheck", "allowed_origins_from_env"]

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def allowed_origins_from_env(environ: Mapping[str, str] | None = None) -> frozenset[str]:
    env = os.environ if environ is None else environ
    text = env.get("CALLBOARD_ALLOWED_ORIGINS") or ""
    return frozenset(_origin(part) for part in text.split(",") if part.strip())


def _cross_site_headers(scope: Scope) -> bool:
    """Whether the request carries ``Origin`` or ``Sec-Fetch-Site`` (without either,
    nothing is refused)."""
    return any(
        name.lower() in (b"origin", b"sec-fetch-site") for name, _ in scope.get("headers") or ()
    )


def _origin(url: str) -> str:
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port is None or (scheme, port) in (("http", 80), ("https", 443)):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


class OriginCheck:
    """A step of :class:`callboard.api.shell.Shell`."""

    def __init__(self, allowed: frozenset[str] = frozenset()) -> None:
        self.allowed = allowed

    async def check(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """True: the request may go on; False: it was answered 403 here."""
        if scope["method"] not in STATE_CHANGING or not _cross_site_headers(scope):
            return True
        reason = self._refusal(Request(scope))
        if reason is None:
            return True
        body = error_body(403, 20403, f"Cross-site request refused: {reason}")
        await JSONResponse(body, status_code=403)(scope, receive, send)
        return False

    def _refusal(self, request: Request) -> str | None:
        site = request.headers.get("sec-fetch-site", "").strip().lower()
        if site == "cross-site":
            return "Sec-Fetch-Site is cross-site"
        origin = request.headers.get("origin")
        if origin is None:
            return None
        try:
            given = _origin(origin) if origin.strip().lower() != "null" else "null"
        except ValueError:
            given = "null"
        own = {_origin(base_url(request))}
        host = request.headers.get("host")
        if host:
            own.add(_origin(f"{request.url.scheme}://{host}"))
        if given in own or given in self.allowed:
            return None
        return f"Origin {origin[:100]!r} is not this server"
