"""The headers every response carries, and CORS preflights: one middleware.

Security headers:

* ``Content-Security-Policy``: scripts only from this server (no inline script, no
  ``eval``), nothing may frame the pages (``frame-ancestors 'none'``), no ``<base>``,
  forms post only here. Styles may be inline (the canvas positions nodes with ``style``
  attributes; ``/docs`` has one ``<style>`` block).
* ``X-Frame-Options: DENY`` (older browsers), ``X-Content-Type-Options: nosniff``,
  ``Referrer-Policy: no-referrer`` (URLs hold Account and Flow SIDs).

Permissive CORS, as Studio's OpenAPI declares it: ``Access-Control-Allow-Origin: *`` and
the other ``Access-Control-*`` headers the spec lists; a preflight (``OPTIONS`` with
``Access-Control-Request-Method``) is answered 204 here, before authentication.
Credentials travel in the ``Authorization`` header, never in cookies, so ``*`` is safe.
(State-changing requests from foreign origins are refused by
:mod:`callboard.api.origin`.)

A header the route set itself is kept.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "CORS_HEADERS",
    "SECURITY_HEADERS",
    "ResponseHeadersMiddleware",
]

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]

CORS_HEADERS: list[tuple[bytes, bytes]] = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-allow-methods", b"GET, POST, DELETE, OPTIONS"),
    (b"access-control-allow-headers", b"Content-Type, Authorization"),
    (b"access-control-allow-credentials", b"false"),
    (b"access-control-expose-headers", b"Content-Length, Content-Type"),
]

_EVERY_RESPONSE = [*SECURITY_HEADERS, *CORS_HEADERS]
_PREFLIGHT = [*_EVERY_RESPONSE, (b"access-control-max-age", b"600")]


class ResponseHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and any(
            name == b"access-control-request-method" for name, _ in scope.get("headers") or []
        ):
            await send({"type": "http.response.start", "status": 204, "headers": _PREFLIGHT})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                present = {k.lower() for k, _ in headers}
                extra = [(k, v) for k, v in _EVERY_RESPONSE if k not in present]
                message = {**message, "headers": [*headers, *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
