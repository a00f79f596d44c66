"""Callboard's own routes, under ``/callboard/v1``:

* ``GET /callboard/v1/Health`` (no auth) — ``{"status": "ok", "version", "database"}``;
  503 when the database does not answer, or does not take writes (checked by starting a
  write and rolling it back, at most every :data:`WRITE_CHECK_SECONDS`).
* ``GET /callboard/v1/Me`` — the authenticated account.
* ``GET /callboard/v1/WidgetTypes`` — ``{"widget_types": [...]}``: the schema of every
  widget type the server runs (the editor builds its library and inspector from it).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import callboard
from callboard.api.common import account_of, iso, json_response, service_of
from callboard.api.errors import ApiError
from callboard.api.openapi import callboard_paths
from callboard.api.urls import base_url
from callboard.widgets.registry import all_widgets

__all__ = ["openapi_paths", "routes"]

log = logging.getLogger("callboard.api")


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


async def health(request: Request) -> Response:
    service = service_of(request)
    try:
        await run_in_threadpool(service.count_accounts)
    except Exception as exc:
        log.warning("health check: the database does not answer: %s", exc)
        raise ApiError(503, "The database does not answer", 20503) from None
    probe = getattr(request.app.state, "write_probe", None)
    if not isinstance(probe, WriteProbe):
        probe = request.app.state.write_probe = WriteProbe()
    if await probe.status(service) is not None:
        raise ApiError(503, "The database does not take writes", 20503)
    return json_response({"status": "ok", "version": callboard.__version__, "database": "ok"})


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
            "credential_type": "api_key" if credential.startswith("SK") else "auth_token",
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
