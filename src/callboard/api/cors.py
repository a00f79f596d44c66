"""Permissive CORS, as Studio's OpenAPI declares it.

Every response carries ``Access-Control-Allow-Origin: *`` and the other
``Access-Control-*`` headers the spec lists; a preflight (``OPTIONS`` with
``Access-Control-Request-Method``) is answered 204 here, before authentication.
Credentials travel in the ``Authorization`` header, never in cookies, so ``*`` is safe.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CORS_HEADERS", "CorsMiddleware"]

CORS_HEADERS: list[tuple[bytes, bytes]] = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-allow-methods", b"GET, POST, DELETE, OPTIONS"),
    (b"access-control-allow-headers", b"Content-Type, Authorization"),
    (b"access-control-allow-credentials", b"false"),
    (b"access-control-expose-headers", b"Content-Length, Content-Type"),
]


class CorsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if scope["method"] == "OPTIONS" and b"access-control-request-method" in headers:
            await send(
                {
                    "type": "http.response.start",
                    "status": 204,
                    "headers": [*CORS_HEADERS, (b"access-control-max-age", b"600")],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in CORS_HEADERS if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_cors)
