"""Callboard's own routes, under ``/callboard/v1``:

* ``GET /callboard/v1/Health`` (no auth, for load balancers' readiness checks) —
  ``{"status": "ok", "version", "database": "ok", "lag_seconds", "background": {...}}``:
  the timers, outbox jobs and Event Streams deliveries waiting and how late the oldest
  due one is (:mod:`callboard.api.backlog`). 503 when the database does not answer or
  does not take writes (checked by starting a write and rolling it back, at most every
  :data:`WRITE_CHECK_SECONDS`), or (``"status": "lagging"``) when background work is more
  than ``CALLBOARD_HEALTH_MAX_LAG_SECONDS`` (default 60) late.
* ``GET /callboard/v1/Me`` — the authenticated account.
* ``GET /callboard/v1/WidgetTypes`` — ``{"widget_types": [...]}``: the schema of every
  widget type the server runs (the editor builds its library and inspector from it).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import callboard
from callboard.api.backlog import Backlog, read_backlog
from callboard.api.common import account_of, iso, json_response, service_of
from callboard.api.errors import ApiError
from callboard.api.openapi import callboard_paths
from callboard.api.urls import base_url
from callboard.widgets.registry import all_widgets

__all__ = ["openapi_paths", "routes"]

log = logging.getLogger("callboard.api")

_CREDENTIAL_TYPES = {"SK": "api_key", "US": "user"}  # "US": a browser session (issue 14)


DEFAULT_MAX_LAG_SECONDS = 60.0


WRITE_CHECK_SECONDS = 5.0


class WriteProbe:
    """Whether the database takes writes: a write started and rolled back at most every
    :data:`WRITE_CHECK_SECONDS`, in the background (after the first), so that Health
    never waits behind the writers of a busy database."""

    def __init__(self) -> None:
        self.error: str | None = None
        self.checked: float | None = None
        self.task: asyncio.Task[None] | None = None

    async def status(self, service: Any) -> str | None:
        """The last error (None: writes work)."""
        due = self.checked is None or time.monotonic() - self.checked >= WRITE_CHECK_SECONDS
        if due and self.task is None:
            self.task = asyncio.ensure_future(self._run(service))
            if self.checked is None:
                await self.task
        return self.error

    async def _run(self, service: Any) -> None:
        try:
            await run_in_threadpool(service.db.check_writes)
            self.error = None
        except Exception as exc:
            log.warning("health check: the database takes no writes: %s", exc)
            self.error = str(exc)
        finally:
            self.checked = time.monotonic()
            self.task = None


def _read_health(service: Any) -> Backlog:
    """The database answers (the accounts table) and the backlog: one worker-thread hop."""
    service.count_accounts()
    return read_backlog(service.db, datetime.now(UTC))


async def health(request: Request) -> Response:
    service = service_of(request)
    try:
        backlog = await run_in_threadpool(_read_health, service)
    except Exception as exc:
        log.warning("health check: the database does not answer: %s", exc)
        raise ApiError(503, "The database does not answer", 20503) from None
    probe = getattr(request.app.state, "write_probe", None)
    if not isinstance(probe, WriteProbe):
        probe = request.app.state.write_probe = WriteProbe()
    if await probe.status(service) is not None:
        raise ApiError(503, "The database does not take writes", 20503)
    settings = request.app.state.settings
    limit = getattr(settings, "health_max_lag", None) or DEFAULT_MAX_LAG_SECONDS
    lagging = backlog.lag_seconds > limit
    body = {
        "status": "lagging" if lagging else "ok",
        "version": callboard.__version__,
        "database": "ok",
        "lag_seconds": round(backlog.lag_seconds, 3),
        "max_lag_seconds": limit,
        "background": backlog.as_json(),
    }
    return json_response(body, status=503 if lagging else 200)


async def me(request: Request) -> Response:
    account = account_of(request)
    credential = str(request.scope.get("callboard.credential", account.sid))
    return json_response(
        {
            "account_sid": account.sid,
            "friendly_name": account.friendly_name,
            "status": account.status,
            "date_created": iso(account.date_created),
            "credential_sid": credential,
            "credential_type": _CREDENTIAL_TYPES.get(credential[:2], "auth_token"),
            "studio_base_url": base_url(request),
        }
    )


async def widget_types(request: Request) -> Response:
    account_of(request)
    return json_response({"widget_types": [w.schema() for w in all_widgets()]})


def routes() -> list[Route]:
    return [
        Route("/callboard/v1/Health", health, methods=["GET"]),
        Route("/callboard/v1/Me", me, methods=["GET"]),
        Route("/callboard/v1/WidgetTypes", widget_types, methods=["GET"]),
    ]


def openapi_paths() -> dict[str, Any]:
    return callboard_paths()
