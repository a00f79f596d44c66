"""Events v1 catalogue: ``/v1/Types`` (Callboard's event types) and ``/v1/Schemas`` (their
schema ids and versions; ``raw`` points at Twilio's published JSON Schema)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from callboard.api.common import iso, json_response, resource
from callboard.api.errors import bad_request, not_found
from callboard.api.events_common import account
from callboard.api.paging import page_body, parse_page_params
from callboard.api.urls import base_url
from callboard.events.envelope import CATALOGUE_DATE, EVENT_TYPES, EventType
from callboard.events.service import EventStreams

__all__ = ["routes"]


def render_type(request: Request, et: EventType) -> dict[str, Any]:
    base = base_url(request)
    return {
        "date_created": iso(CATALOGUE_DATE),
        "date_updated": iso(CATALOGUE_DATE),
        "type": et.type,
        "schema_id": et.schema_id,
        "status": et.status,
        "documentation_url": et.documentation_url,
        "description": et.description,
        "url": f"{base}/v1/Types/{et.type}",
        "links": {"schema": f"{base}/v1/Schemas/{et.schema_id}/Versions"},
    }


# ------------------------------------------------------------------------- catalogue


def _offset_page(
    request: Request, key: str, items: list[dict[str, Any]], filters: list[tuple[str, str]]
) -> Response:
    params = parse_page_params(request)
    start = 0
    if params.token is not None:
        token = params.token
        if not (token.startswith("PI") and token[2:].isdigit()):
            raise bad_request(f"Invalid PageToken {token!r}")
        start = int(token[2:])
    chunk = items[start : start + params.page_size]
    end = start + len(chunk)
    return json_response(
        page_body(
            request,
            key,
            chunk,
            params,
            next_token=f"PI{end}" if end < len(items) else None,
            previous_token=f"PI{max(0, start - params.page_size)}" if start else None,
            filters=filters,
        )
    )


async def list_types(request: Request) -> Response:
    await account(request)
    schema_id = request.query_params.get("SchemaId") or None
    items = [render_type(request, et) for et in EventStreams.event_types(schema_id)]
    return _offset_page(request, "types", items, [("SchemaId", schema_id)] if schema_id else [])


async def fetch_type(request: Request) -> Response:
    await account(request)
    et = EVENT_TYPES.get(str(request.path_params["type"]))
    if et is None:
        raise not_found(request.url.path)
    return json_response(render_type(request, et))


def _schema_versions(schema_id: str) -> int:
    versions = [et.schema_version for et in EVENT_TYPES.values() if et.schema_id == schema_id]
    return max(versions) if versions else 0


def render_version(request: Request, schema_id: str, version: int) -> dict[str, Any]:
    return {
        "id": schema_id,
        "schema_version": version,
        "date_created": iso(CATALOGUE_DATE),
        "url": f"{base_url(request)}/v1/Schemas/{schema_id}/Versions/{version}",
        "raw": f"https://events-schemas.twilio.com/{schema_id}/{version}",
    }


async def fetch_schema(request: Request) -> Response:
    await account(request)
    schema_id = str(request.path_params["Id"])
    latest = _schema_versions(schema_id)
    if not latest:
        raise not_found(request.url.path)
    url = f"{base_url(request)}/v1/Schemas/{schema_id}"
    return json_response(
        {
            "id": schema_id,
            "url": url,
            "links": {"versions": f"{url}/Versions"},
            "latest_version_date_created": iso(CATALOGUE_DATE),
            "latest_version": latest,
        }
    )


async def list_schema_versions(request: Request) -> Response:
    await account(request)
    schema_id = str(request.path_params["Id"])
    latest = _schema_versions(schema_id)
    if not latest:
        raise not_found(request.url.path)
    items = [render_version(request, schema_id, v) for v in range(latest, 0, -1)]
    return _offset_page(request, "schema_versions", items, [])


async def fetch_schema_version(request: Request) -> Response:
    await account(request)
    schema_id = str(request.path_params["Id"])
    raw = str(request.path_params["version"])
    latest = _schema_versions(schema_id)
    if not raw.isdigit() or not 1 <= int(raw) <= latest:
        raise not_found(request.url.path)
    return json_response(render_version(request, schema_id, int(raw)))


def routes() -> list[Route]:
    return [
        resource("/v1/Types", get=list_types),
        resource("/v1/Types/{type}", get=fetch_type),
        resource("/v1/Schemas/{Id}", get=fetch_schema),
        resource("/v1/Schemas/{Id}/Versions", get=list_schema_versions),
        resource("/v1/Schemas/{Id}/Versions/{version}", get=fetch_schema_version),
    ]
