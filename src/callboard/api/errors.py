"""Twilio-style error bodies and the exception handlers that produce them.

Every error the API answers has Twilio's legacy body::

    {"code": 20404, "message": "...", "more_info": "https://www.twilio.com/docs/errors/20404",
     "status": 404}

plus ``details`` where there is more to say (81022 validation failures, 20409 conflicts).
The body never carries ``type`` and ``title`` (with ``status`` and ``code`` twilio-python
would read it as an RFC 9457 problem and raise a different exception).

Codes (HTTP status → Twilio code):

* 400 → 20001 missing or invalid parameter; 81022 invalid flow definition
* 401 → 20003 authentication failed
* 404 → 20404 unknown resource (also unknown routes and malformed SIDs)
* 405 → 20004 method not allowed
* 409 → 20409 conflict (execution already active / already ended)
* 413 → 20413 request body too large (Callboard's choice; Twilio documents no code)
* 415 → 20415 unsupported request body type (Callboard's choice)
* 503 → 20503 the database is busy or unreachable (rolled back; retry; ``Retry-After: 1``
  when it was locked, 30 when it could not be reached)
* 429 → 20429 too many failed authentication attempts (``Retry-After``)
* 500 → 20500 internal error (a bug: it is logged with its traceback)
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

__all__ = [
    "ApiError",
    "bad_request",
    "database_unavailable",
    "error_body",
    "error_response",
    "exception_handlers",
    "not_found",
]

log = logging.getLogger("callboard.api")

MORE_INFO = "https://www.twilio.com/docs/errors/{code}"

_DEFAULT_CODES = {
    400: 20001,
    401: 20003,
    403: 20403,
    404: 20404,
    405: 20004,
    409: 20409,
    413: 20413,
    415: 20415,
    429: 20429,
    500: 20500,
}


def error_body(
    status: int, code: int, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": code,
        "message": message,
        "more_info": MORE_INFO.format(code=code),
        "status": status,
    }
    if details is not None:
        body["details"] = details
    return body


class ApiError(Exception):
    """An error answered to the client with Twilio's error body."""

    def __init__(
        self,
        status: int,
        message: str,
        code: int | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code if code is not None else _DEFAULT_CODES.get(status, 20000 + status)
        self.message = message
        self.details = details
        self.headers = headers or {}
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        body = error_body(self.status, self.code, self.message, self.details)
        body.update(self.extra)
        return body


def bad_request(message: str) -> ApiError:
    """400 / 20001: a missing or invalid request parameter."""
    return ApiError(400, message, 20001)


def not_found(path: str) -> ApiError:
    """404 / 20404 in Twilio's wording."""
    if len(path) > 300:
        path = path[:300] + "…"
    return ApiError(404, f"The requested resource {path} was not found", 20404)


def error_response(error: ApiError) -> Response:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    if status == 404:
        return error_response(not_found(request.url.path))
    if status == 405:
        allow = (exc.headers or {}).get("Allow", "")
        err = ApiError(405, f"Method {request.method} not allowed on {request.url.path}", 20004)
        if allow:
            err.headers["Allow"] = allow
        return error_response(err)
    message = exc.detail if isinstance(exc.detail, str) and exc.detail else "Request failed"
    return error_response(ApiError(status, message, headers=dict(exc.headers or {})))


def database_unavailable(exc: Exception) -> ApiError:
    """503 / 20503: the database could not be reached or stayed locked; the transaction
    was rolled back, nothing was changed, and the client may retry — after a second when
    the database was merely busy (locked), after :data:`UNREACHABLE_RETRY_AFTER` seconds
    when it could not be reached at all."""
    busy = "lock" in str(exc).lower()
    err = ApiError(503, "The database is busy or unavailable; nothing was changed. Retry.", 20503)
    err.headers["Retry-After"] = "1" if busy else str(UNREACHABLE_RETRY_AFTER)
    return err


UNREACHABLE_RETRY_AFTER = 30


async def _database_busy(request: Request, exc: Exception) -> Response:
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
    return error_response(database_unavailable(exc))


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(ApiError(500, "Internal server error", 20500))


def exception_handlers() -> dict[Any, Any]:
    return {
        ApiError: _api_error,
        HTTPException: _http_error,
        OperationalError: _database_busy,
        Exception: _unexpected,
    }
