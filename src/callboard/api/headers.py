"""The headers every response carries, and CORS preflights (steps of
:class:`callboard.api.shell.Shell`).

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

from collections.abc import Iterable

from starlette.types import Scope, Send

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "CORS_HEADERS",
    "SECURITY_HEADERS",
    "answer_preflight",
    "is_preflight",
    "with_response_headers",
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


def is_preflight(scope: Scope) -> bool:
    """A CORS preflight: ``OPTIONS`` with ``Access-Control-Request-Method``."""
    return scope["method"] == "OPTIONS" and any(
        name.lower() == b"access-control-request-method" for name, _ in scope.get("headers") or ()
    )


async def answer_preflight(send: Send) -> None:
    """204 with the CORS headers, before authentication."""
    await send({"type": "http.response.start", "status": 204, "headers": _PREFLIGHT})
    await send({"type": "http.response.body", "body": b""})


def with_response_headers(
    headers: Iterable[tuple[bytes, bytes]], request_sid: bytes
) -> list[tuple[bytes, bytes]]:
    """A response's headers plus the security and CORS headers it lacks, and
    ``Twilio-Request-Id`` (:mod:`callboard.api.metrics`)."""
    out = list(headers)
    present = {k.lower() for k, _ in out}
    out.extend(h for h in _EVERY_RESPONSE if h[0] not in present)
    out.append((b"twilio-request-id", request_sid))
    return out
