"""``GET /callboard/v1/Notifications`` — warnings that belong to no step, read-only.

Studio logs an inbound message that arrives while the execution's current widget does
not wait for one as warning **81002** ("Unexpected event... ignored") in its debugger;
Callboard records it (and any other step-less warning) in the ``notifications`` table
(:meth:`callboard.runtime.service.Callboard.list_notifications`). Filters:
``ExecutionSid``, ``FlowSid``; ``PageSize`` (1–1000, default 50) newest first.
Notifications are deleted with their execution (retention).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from callboard.api.common import account_of, call, iso, json_response, service_of
from callboard.api.errors import ApiError

__all__ = ["openapi_paths", "routes"]


def _int(value: str | None, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= 1000:
        raise ApiError(400, f"{name} must be a whole number from 1 to 1000", 20001)
    return number


async def notifications(request: Request) -> Response:
    account = account_of(request)
    query = request.query_params
    size = _int(query.get("PageSize"), "PageSize", 50)
    found = await call(
        request,
        service_of(request).list_notifications,
        account.sid,
        execution_sid=query.get("ExecutionSid") or None,
        flow_sid=query.get("FlowSid") or None,
        limit=size,
    )
    return json_response(
        {
            "notifications": [
                {
                    "account_sid": n.account_sid,
                    "flow_sid": n.flow_sid,
                    "execution_sid": n.execution_sid,
                    "error_code": n.code,
                    "log_level": n.level,
                    "message": n.message,
                    "request_key": n.request_key,
                    "date_created": iso(n.date_created),
                }
                for n in found
            ]
        }
    )


def routes() -> list[Route]:
    return [Route("/callboard/v1/Notifications", notifications, methods=["GET"])]


def openapi_paths() -> dict[str, Any]:
    item = {
        "type": "object",
        "properties": {
            "account_sid": {"type": "string"},
            "flow_sid": {"type": "string", "nullable": True},
            "execution_sid": {"type": "string", "nullable": True},
            "error_code": {"type": "integer", "example": 81002},
            "log_level": {"type": "string", "enum": ["warning", "error"]},
            "message": {"type": "string"},
            "request_key": {"type": "string", "nullable": True},
            "date_created": {"type": "string", "format": "date-time"},
        },
    }
    return {
        "/callboard/v1/Notifications": {
            "get": {
                "operationId": "ListNotifications",
                "tags": ["Callboard"],
                "summary": "Step-less warnings (e.g. 81002: an inbound message ignored)",
                "description": (
                    "Warnings that belong to no step, newest first: an inbound message or "
                    "call-back the execution's current widget did not wait for (81002). "
                    "Deleted with their execution."
                ),
                "security": [{"basicAuth": []}],
                "parameters": [
                    {"name": "ExecutionSid", "in": "query", "schema": {"type": "string"}},
                    {"name": "FlowSid", "in": "query", "schema": {"type": "string"}},
                    {
                        "name": "PageSize",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "The notifications",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "notifications": {"type": "array", "items": item}
                                    },
                                }
                            }
                        },
                    },
                    "400": {"description": "A bad PageSize"},
                    "401": {"description": "No or wrong credentials"},
                },
            }
        }
    }
