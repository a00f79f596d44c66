"""The HTTP application: ``create_app(services, settings) -> Starlette``.

Routes:

* ``/v2/…`` — Studio's v2 REST API (:mod:`callboard.api.studio_flows`,
  :mod:`callboard.api.studio_executions`), HTTP Basic auth.
* ``/callboard/v1/…`` — Callboard's own routes (:mod:`callboard.api.callboard_routes`).
* ``/docs``, ``/openapi.json`` — the API documentation (:mod:`callboard.api.docs`).
* any other module ``callboard/api/*_routes.py`` with a ``routes()`` function (webhooks,
  events...) is picked up automatically, in name order (:mod:`callboard.api.plugins`).
* ``/`` — the browser editor from ``callboard/api/static/`` when it has been built,
  else a page saying so (:mod:`callboard.api.editor`).

One middleware, :class:`callboard.api.shell.Shell`, runs in order: metrics and request
SIDs (:mod:`callboard.api.metrics`; ``/metrics``), request limits
(:mod:`callboard.api.limits`), security and CORS headers with preflights
(:mod:`callboard.api.headers`), the cross-site check (:mod:`callboard.api.origin`),
authentication (:mod:`callboard.api.auth`, cached credentials, with
:mod:`callboard.api.throttle`), access control (:mod:`callboard.api.access`: roles, CSRF,
audit log). Errors are Twilio's bodies (:mod:`callboard.api.errors`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from callboard.api import docs, studio_executions, studio_flows
from callboard.api.auth import Authenticator
from callboard.api.credentials import CredentialsCache
from callboard.api.editor import EditorRoute
from callboard.api.errors import exception_handlers
from callboard.api.limits import BodyLimits, Limits
from callboard.api.origin import OriginCheck, allowed_origins_from_env
from callboard.api.plugins import plugin_modules
from callboard.api.proxies import TrustedProxies
from callboard.api.routing import RouteIndex
from callboard.api.services import BackgroundJob, Services
from callboard.api.shell import Shell
from callboard.api.throttle import (
    LOGIN_LIMIT,
    CredentialThrottle,
    LoginThrottle,
    ThrottleSettings,
)
from callboard.runtime.settings import Settings

__all__ = ["STATIC_DIR", "create_app"]

STATIC_DIR = Path(__file__).parent / "static"


def _plugin_routes() -> list[BaseRoute]:
    found: list[BaseRoute] = []
    for module in plugin_modules():
        make = getattr(module, "routes", None)
        if callable(make):
            found.extend(make())
    return found


def create_app(
    services: Services,
    settings: Settings | None = None,
    *,
    static_dir: Path | None = None,
    background: Sequence[BackgroundJob] = (),
    limits: Limits | None = None,
    trusted_proxies: TrustedProxies | None = None,
    throttle: ThrottleSettings | None = None,
) -> Starlette:
    """The ASGI app over ``services`` (built by
    :func:`callboard.commands.compose.build_services`).

    ``settings`` gives ``public_url`` (``CALLBOARD_PUBLIC_URL``); without it URLs are
    derived from each request. ``background`` (the worker, Event Streams delivery) is
    started when the app starts and stopped when it stops (its lifespan). The limits,
    trusted proxies and throttling default to the environment's settings.
    """
    settings = settings if settings is not None else services.settings
    limits = limits or Limits.from_env()
    trusted_proxies = trusted_proxies or TrustedProxies.from_env()
    throttle = throttle or ThrottleSettings.from_env()
    static = static_dir if static_dir is not None else STATIC_DIR
    routes: list[BaseRoute] = [
        *studio_flows.routes(),
        *studio_executions.routes(),
        *_plugin_routes(),
        *docs.routes(),
    ]
    routes.append(EditorRoute(static))
    routes.insert(0, RouteIndex(routes))  # issue 11: the same answers, fewer routes tried
    jobs = tuple(background)
    auth = Authenticator(
        services.callboard,
        services.team,
        CredentialsCache(services.credentials_generation),
        CredentialThrottle(throttle),
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if settings is not None:  # the thread pool's size (CALLBOARD_REQUEST_THREADS)
            limiter = anyio.to_thread.current_default_thread_limiter()
            limiter.total_tokens = settings.request_thread_count()
        for job in jobs:
            job.start()
        try:
            yield
        finally:
            for job in reversed(jobs):
                job.stop()

    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(
                Shell,
                metrics=services.metrics,
                limits=BodyLimits(limits),
                origin=OriginCheck(allowed_origins_from_env()),
                auth=auth,
            )
        ],
        exception_handlers=exception_handlers(),
        lifespan=lifespan,
    )
    app.state.services = services
    # issue 14 (teams): in this process's memory, its share of the limit
    app.state.login_throttle = LoginThrottle(limit=throttle.share(LOGIN_LIMIT))
    app.state.settings = settings
    app.state.limits = limits
    app.state.trusted_proxies = trusted_proxies
    app.state.public_url = settings.public_url if settings is not None else None
    return app
