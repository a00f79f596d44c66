"""Event Streams routes, picked up by :func:`callboard.api.app.create_app` (any
``*_routes`` module): the Events v1 API (:mod:`callboard.api.events_v1`) and Callboard's
live stream and delivery failures (:mod:`callboard.api.events_stream`)."""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute

from callboard.api import events_catalogue, events_stream, events_v1

__all__ = ["routes"]


def routes() -> list[BaseRoute]:
    return [*events_v1.routes(), *events_catalogue.routes(), *events_stream.routes()]


def openapi_paths() -> dict[str, Any]:
    from callboard.api.events_openapi import events_paths

    return events_paths()


def openapi_schemas() -> dict[str, Any]:
    from callboard.api.events_openapi import events_schemas

    return events_schemas()
