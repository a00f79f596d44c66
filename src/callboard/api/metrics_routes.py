"""``GET /metrics``: Prometheus text format (no authentication; see the README's
"Operating it" for what is exported and how to keep it private)."""

from __future__ import annotations

from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from callboard.api.common import services_of

__all__ = ["openapi_paths", "routes"]


async def metrics(request: Request) -> Response:
    registry = services_of(request).metrics.exposition
    body = await run_in_threadpool(generate_latest, registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def routes() -> list[Route]:
    return [Route("/metrics", metrics, methods=["GET"])]


def openapi_paths() -> dict[str, Any]:
    return {
        "/metrics": {
            "get": {
                "operationId": "CallboardMetrics",
                "summary": "Prometheus metrics (text exposition format)",
                "tags": ["Callboard"],
                "security": [],
                "responses": {
                    "200": {
                        "description": "Metrics",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            }
        }
    }
