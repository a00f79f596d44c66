"""Callboard's HTTP shell (issue 11): one pure-ASGI middleware that runs, in order, what
every request goes through before its route, with one ``send`` wrapper:

1. the request SID (``RQ`` + 32 hex digits: ``Twilio-Request-Id`` and
   :data:`callboard.api.metrics.request_sid` for the logs) and the latency metrics of
   API and webhook requests (:mod:`callboard.api.metrics`);
2. request limits (:mod:`callboard.api.limits`): the body read, checked and replayed;
3. the security and CORS headers of every response, and CORS preflights answered 204
   (:mod:`callboard.api.headers`);
4. the cross-site check of state-changing requests (:mod:`callboard.api.origin`);
5. for the paths that need credentials (:func:`callboard.api.permissions.needs_auth`):
   authentication (:mod:`callboard.api.auth`, cached credentials) and access control
   (:mod:`callboard.api.access`: roles, CSRF, audit log).

Each step that refuses a request answers it itself (Twilio's error body) and the route
never runs. The answers of every step go through the one wrapper, so they all carry the
headers and are all timed.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callboard.api.access import guard
from callboard.api.auth import Authenticator
from callboard.api.headers import answer_preflight, is_preflight, with_response_headers
from callboard.api.limits import BodyLimits
from callboard.api.metrics import Metrics, request_kind, request_sid
from callboard.api.origin import OriginCheck
from callboard.api.permissions import needs_auth
from callboard.engine.env import random_hex

__all__ = ["RequestSids", "Shell"]


class RequestSids:
    """``RQ`` + 32 random hex digits (:func:`~callboard.engine.env.random_hex`: one
    system call per 256 SIDs)."""

    def new(self) -> str:
        return "RQ" + random_hex()


class Shell:
    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        limits: BodyLimits,
        origin: OriginCheck,
        auth: Authenticator,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.limits = limits
        self.origin = origin
        self.auth = auth
        self.sids = RequestSids()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sid = self.sids.new()
        token = request_sid.set(sid)
        kind = request_kind(scope["path"])
        started = time.perf_counter()
        observe = self.metrics.observe_request
        sid_header = sid.encode()

        async def reply(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = with_response_headers(message.get("headers") or (), sid_header)
                message = {**message, "headers": headers}
                if kind is not None:
                    status = int(message["status"])
                    observe(kind, scope["method"], status, time.perf_counter() - started)
            await send(message)

        try:
            await self._steps(scope, receive, reply)
        finally:
            request_sid.reset(token)

    async def _steps(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await self.limits.apply(scope, receive, send)
        if body is None:
            return
        if is_preflight(scope):
            await answer_preflight(send)
            return
        if not await self.origin.check(scope, body, send):
            return
        if not needs_auth(scope["path"]):
            await self.app(scope, body, send)
            return
        if await self.auth.check(scope, body, send):
            await guard(self.app, scope, body, send)
