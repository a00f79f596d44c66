"""What every Studio handler needs: the service, the account, path SIDs, timestamps,
and calling the synchronous service from the thread pool with its errors mapped to
Twilio's error bodies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from callboard.api.errors import ApiError, not_found
from callboard.api.services import Services
from callboard.flowtest.session import DriverFactory
from callboard.runtime.records import Account, NotFound, ServiceError
from callboard.runtime.service import Callboard
from callboard.store.sids import sid_regex
from callboard.store.suspend import run_on_loop

__all__ = [
    "ResourceRoute",
    "account_of",
    "call",
    "call_commit_bound",
    "iso",
    "json_response",
    "path_sid",
    "resource",
    "service_of",
    "services_of",
]

T = TypeVar("T")

_SID_RE = {prefix: sid_regex(prefix) for prefix in ("FW", "FN", "FT")}


def services_of(request: Request) -> Services:
    """The services the app was built over."""
    found = request.app.state.services
    assert isinstance(found, Services)
    return found


def service_of(request: Request) -> Callboard:
    """The runtime service (accounts, flows, executions)."""
    return services_of(request).callboard


def test_driver_of(request: Request) -> DriverFactory:
    """What runs a stored flow test (the composition root sets it)."""
    found = services_of(request).test_driver
    if found is None:
        raise ApiError(400, "flow tests cannot run on this server", 20001)
    return found


def account_of(request: Request) -> Account:
    account = request.scope.get("callboard.account")
    if not isinstance(account, Account):  # the auth middleware guards every Studio route
        raise ApiError(401, "Authentication Error - No credentials provided", 20003)
    return account


def path_sid(request: Request, name: str, prefix: str) -> str:
    """A SID from the path, checked against the spec's pattern (else 404)."""
    value = request.path_params.get(name, "")
    if not isinstance(value, str) or not _SID_RE[prefix].match(value):
        raise not_found(request.url.path)
    return value


def iso(value: datetime | None) -> str | None:
    """``YYYY-MM-DDTHH:MM:SSZ`` in UTC (the only format twilio-python parses)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def service_error(request: Request, exc: ServiceError) -> ApiError:
    if isinstance(exc, NotFound):
        return not_found(request.url.path)
    return ApiError(exc.status, exc.message, exc.code, details=exc.details)


async def call(request: Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a service method in the thread pool; :class:`ServiceError` → :class:`ApiError`."""
    try:
        return await run_in_threadpool(fn, *args, **kwargs)
    except ServiceError as exc:
        raise service_error(request, exc) from None


async def call_commit_bound(request: Request, fn: Callable[[], T]) -> T:
    """:func:`call` for a service method whose only waits are for its commit (an
    inbound message, a REST create: :mod:`callboard.store.suspend`). On SQLite it runs
    on the event loop, suspended while its batch commits: no thread-pool hop, and the
    loop computes the next requests of the batch meanwhile. On PostgreSQL, whose reads
    are network round trips, in the thread pool."""
    if not service_of(request).db.is_sqlite:
        return await call(request, fn)
    try:
        return await run_on_loop(fn)
    except ServiceError as exc:
        raise service_error(request, exc) from None


def json_response(body: Any, status: int = 200) -> Response:
    return JSONResponse(body, status_code=status)


Handler = Callable[[Request], Awaitable[Response]]


class ResourceRoute(Route):
    """A route that matches every method; its handler answers 405 for the methods it
    lacks. ``allowed`` lists the methods it serves."""

    def __init__(self, path: str, endpoint: Handler, allowed: tuple[str, ...]) -> None:
        super().__init__(path, endpoint)
        self.methods = None
        self.allowed = allowed


def resource(path: str, **handlers: Handler) -> ResourceRoute:
    """One route per path with a handler per method (``get=``, ``post=``, ``delete=``).
    Any other method answers 405 naming every method the path supports in ``Allow``
    (the route matches every method, so ``/v2/Flows/Validate`` is never taken for a
    flow SID by the next route)."""
    by_method = {method.upper(): handler for method, handler in handlers.items()}
    if "GET" in by_method:
        by_method["HEAD"] = by_method["GET"]
    allowed = tuple(m for m in ("GET", "HEAD", "POST", "DELETE") if m in by_method)
    allow = ", ".join(allowed)

    async def dispatch(request: Request) -> Response:
        handler = by_method.get(request.method)
        if handler is None:
            raise ApiError(
                405,
                f"Method {request.method} not allowed on {request.url.path[:300]}",
                20004,
                headers={"Allow": allow},
            )
        return await handler(request)

    return ResourceRoute(path, dispatch, allowed)
