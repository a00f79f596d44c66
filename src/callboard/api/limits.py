"""Request limits, applied to every route before anything else looks at a request.

:class:`BodyLimits` is the first step of :class:`callboard.api.shell.Shell`. For a request
with a body it

* answers 413 (Twilio's error body, code 20413) at once when ``Content-Length`` is over
  the limit, else reads the body as it streams in and stops reading — nothing more is
  buffered — the moment it passes the limit;
* answers 413 when a form body (``application/x-www-form-urlencoded``) carries more
  fields than :attr:`Limits.max_form_fields` (counted on the raw bytes, before any
  parsing, signature check or authentication);
* then hands the application the body it read, in one piece.

The limits (environment, read by :meth:`Limits.from_env`):

* ``CALLBOARD_MAX_BODY_BYTES`` — any request body (default 16 MiB: a 5 MiB flow
  definition grows up to three times when form-encoded);
* ``CALLBOARD_MAX_WEBHOOK_BODY_BYTES`` — bodies to the Flow webhook
  ``/v1/Accounts/…`` (default 1 MiB; Twilio's webhooks are a few KiB);
* ``CALLBOARD_MAX_FORM_FIELDS`` — fields in one form body (default 1,000).
* ``CALLBOARD_MAX_PARAMETERS_BYTES`` — the ``Parameters`` JSON of a new execution
  (default 64 KiB; more answers 400 / 20001). They are copied into the flow context
  that every step of the execution stores.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Message, Receive, Scope, Send

from callboard.api.errors import error_body

__all__ = ["BodyLimits", "Limits", "limits_of"]

log = logging.getLogger("callboard.api")

DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_WEBHOOK_BODY_BYTES = 1024 * 1024
DEFAULT_MAX_FORM_FIELDS = 1000
DEFAULT_MAX_PARAMETERS_BYTES = 64 * 1024
WEBHOOK_PREFIX = "/v1/Accounts/"


@dataclass(frozen=True, slots=True)
class Limits:
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_webhook_body_bytes: int = DEFAULT_MAX_WEBHOOK_BODY_BYTES
    max_form_fields: int = DEFAULT_MAX_FORM_FIELDS
    max_parameters_bytes: int = DEFAULT_MAX_PARAMETERS_BYTES

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        env = os.environ if environ is None else environ
        return cls(
            max_body_bytes=_positive(env, "CALLBOARD_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES),
            max_webhook_body_bytes=_positive(
                env, "CALLBOARD_MAX_WEBHOOK_BODY_BYTES", DEFAULT_MAX_WEBHOOK_BODY_BYTES
            ),
            max_form_fields=_positive(env, "CALLBOARD_MAX_FORM_FIELDS", DEFAULT_MAX_FORM_FIELDS),
            max_parameters_bytes=_positive(
                env, "CALLBOARD_MAX_PARAMETERS_BYTES", DEFAULT_MAX_PARAMETERS_BYTES
            ),
        )

    def body_limit(self, path: str) -> int:
        if path.startswith(WEBHOOK_PREFIX):
            return min(self.max_body_bytes, self.max_webhook_body_bytes)
        return self.max_body_bytes


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    text = (env.get(name) or "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) <= 0:
        raise ValueError(f"{name}={text!r}: expected a positive whole number")
    return int(text)


def limits_of(request: Request) -> Limits:
    """The limits the app was built with."""
    found = getattr(request.app.state, "limits", None)
    return found if isinstance(found, Limits) else Limits()


class _Disconnected(Exception):
    """The client closed the connection before the whole request body came."""


class _Refused(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


NO_BODY_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})


class BodyLimits:
    """The first step of :class:`callboard.api.shell.Shell`."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()

    async def apply(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """The ``receive`` the application gets (the body read and checked, replayed in
        one piece); None when the request was answered here (413, 400) or the client went
        away mid-body."""
        if scope["method"] in NO_BODY_METHODS and not _has_body(scope):
            return receive
        try:
            body = await self._read(scope, receive)
            self._check_body(scope, body)
        except _Disconnected:  # the client went away mid-body: nothing to run or answer
            log.debug("client disconnected before sending the whole body: %s", scope.get("path"))
            return None
        except _Refused as refused:
            response = JSONResponse(
                error_body(refused.status, refused.code, refused.message),
                status_code=refused.status,
                headers={"Connection": "close"} if refused.status == 413 else None,
            )
            await response(scope, receive, send)
            return None
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # http.disconnect, for streaming responses

        return replay

    async def _read(self, scope: Scope, receive: Receive) -> bytes:
        limit = self.limits.body_limit(scope.get("path", ""))
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not declared.isdigit():
                raise _Refused(400, 20001, "Invalid Content-Length header")
            if int(declared) > limit:
                raise _too_large(limit)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":  # never run a truncated request
                raise _Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    def _check_body(self, scope: Scope, body: bytes) -> None:
        ctype = (_header(scope, b"content-type") or "").split(";", 1)[0].strip().lower()
        if ctype in ("", "application/x-www-form-urlencoded") and body:
            fields = body.count(b"&") + 1
            if fields > self.limits.max_form_fields:
                raise _Refused(
                    413,
                    20413,
                    f"Too many form fields: {fields}; the limit is {self.limits.max_form_fields}",
                )


def _has_body(scope: Scope) -> bool:
    length = _header(scope, b"content-length")
    return (length not in (None, "0")) or _header(scope, b"transfer-encoding") is not None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or []:
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def _too_large(limit: int) -> _Refused:
    return _Refused(413, 20413, f"Request body too large: the limit is {limit} bytes")
