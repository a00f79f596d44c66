"""Callboard's own OpenAPI 3.0 document: the Studio v2 routes and Callboard's routes.

Written here from the routes Callboard serves (field names and shapes follow Studio's
public v2 API so that Twilio's SDKs work unchanged). ``/openapi.json`` serves it and
``/docs`` renders it as a page.
"""

from __future__ import annotations

from typing import Any

import callboard
from callboard.api.plugins import plugin_openapi

__all__ = ["openapi_document"]

J = dict[str, Any]

BASIC: list[J] = [{"basicAuth": []}]


def _sid(prefix: str, nullable: bool = True) -> J:
    return {
        "type": "string",
        "minLength": 34,
        "maxLength": 34,
        "pattern": f"^{prefix}[0-9a-fA-F]{{32}}$",
        "nullable": nullable,
    }


def _s(desc: str, nullable: bool = True, fmt: str | None = None) -> J:
    out: J = {"type": "string", "nullable": nullable, "description": desc}
    if fmt:
        out["format"] = fmt
    return out


_DATE = {
    "type": "string",
    "format": "date-time",
    "nullable": True,
    "description": "UTC, formatted YYYY-MM-DDTHH:MM:SSZ.",
}
_URL = {
    "type": "string",
    "format": "uri",
    "nullable": True,
    "description": "The absolute URL of the resource.",
}
_LINKS = {
    "type": "object",
    "format": "uri-map",
    "nullable": True,
    "additionalProperties": {"type": "string"},
    "description": "Absolute URLs of related resources.",
}
_ANY_JSON = {"nullable": True, "description": "A JSON value."}
_STATUS_FLOW = {"type": "string", "enum": ["draft", "published"]}
_STATUS_EXEC = {"type": "string", "enum": ["active", "ended"]}

_FLOW_FIELDS: J = {
    "sid": _sid("FW"),
    "account_sid": _sid("AC"),
    "author_sid": _sid("US"),
    "friendly_name": _s("The flow's name."),
    "definition": {**_ANY_JSON, "description": "The Flow Definition JSON (null in lists)."},
    "status": _STATUS_FLOW,
    "revision": {"type": "integer", "description": "The newest revision number."},
    "commit_message": _s("What changed in this revision (null in lists)."),
    "valid": {"type": "boolean", "nullable": True, "description": "Null in lists."},
    "errors": {"type": "array", "items": {}, "nullable": True},
    "warnings": {"type": "array", "items": {}, "nullable": True},
    "webhook_url": _s("Where Twilio sends calls and messages for this flow.", fmt="uri"),
    "date_created": _DATE,
    "date_updated": _DATE,
    "url": _URL,
    "links": _LINKS,
}
_REVISION_FIELDS = {
    k: v for k, v in _FLOW_FIELDS.items() if k not in ("webhook_url", "links", "warnings")
}

SCHEMAS: J = {
    "Error": {
        "type": "object",
        "required": ["code", "message", "more_info", "status"],
        "properties": {
            "code": {"type": "integer", "description": "Twilio error code, e.g. 20404."},
            "message": {"type": "string"},
            "more_info": {"type": "string", "format": "uri"},
            "status": {"type": "integer", "description": "The HTTP status."},
            "details": {
                "type": "object",
                "description": "81022: {errors: [{property_path, message}]}; "
                "20409: {conflicting_execution_sid}.",
            },
        },
    },
    "Flow": {"type": "object", "properties": _FLOW_FIELDS},
    "FlowRevision": {"type": "object", "properties": _REVISION_FIELDS},
    "FlowValidate": {"type": "object", "properties": {"valid": {"type": "boolean"}}},
    "TestUsers": {
        "type": "object",
        "properties": {
            "sid": _sid("FW"),
            "test_users": {"type": "array", "items": {"type": "string"}, "nullable": True},
            "url": _URL,
        },
    },
    "Execution": {
        "type": "object",
        "properties": {
            "sid": _sid("FN"),
            "account_sid": _sid("AC"),
            "flow_sid": _sid("FW"),
            "contact_channel_address": _s("The contact's address (To)."),
            "contact_sid": _sid("FC"),
            "flow_version": {
                "type": "integer",
                "nullable": True,
                "description": "The flow revision the execution runs.",
            },
            "context": {**_ANY_JSON, "description": "The execution's current context."},
            "status": _STATUS_EXEC,
            "date_created": _DATE,
            "date_updated": _DATE,
            "initiated_by": _s("What started the execution (a request, call or message SID)."),
            "url": _URL,
            "links": _LINKS,
        },
    },
    "ExecutionContext": {
        "type": "object",
        "properties": {
            "account_sid": _sid("AC"),
            "context": _ANY_JSON,
            "flow_sid": _sid("FW"),
            "execution_sid": _sid("FN"),
            "url": _URL,
        },
    },
    "Step": {
        "type": "object",
        "properties": {
            "sid": _sid("FT"),
            "account_sid": _sid("AC"),
            "flow_sid": _sid("FW"),
            "execution_sid": _sid("FN"),
            "parent_step_sid": _sid("FT"),
            "name": _s("The event that caused the transition."),
            "context": _ANY_JSON,
            "transitioned_from": _s("The widget the step left."),
            "transitioned_to": _s("The widget the step entered ('Ended' at the end)."),
            "type": _s("The widget type."),
            "date_created": _DATE,
            "date_updated": _DATE,
            "url": _URL,
            "links": _LINKS,
        },
    },
    "StepContext": {
        "type": "object",
        "properties": {
            "account_sid": _sid("AC"),
            "context": _ANY_JSON,
            "execution_sid": _sid("FN"),
            "flow_sid": _sid("FW"),
            "step_sid": _sid("FT"),
            "url": _URL,
        },
    },
}


def _path_param(name: str, prefix: str | None, desc: str) -> J:
    schema: J = _sid(prefix, nullable=False) if prefix else {"type": "string"}
    return {"name": name, "in": "path", "required": True, "description": desc, "schema": schema}


_PAGING = [
    {
        "name": "PageSize",
        "in": "query",
        "description": "Items per page, 1–1000 (default 50).",
        "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
    },
    {
        "name": "Page",
        "in": "query",
        "description": "Page index, kept for the client.",
        "schema": {"type": "integer", "minimum": 0},
    },
    {
        "name": "PageToken",
        "in": "query",
        "description": "Opaque; taken from a page URL.",
        "schema": {"type": "string"},
    },
]


def _list_schema(key: str, item: str) -> J:
    url = {"type": "string", "format": "uri"}
    nullable_url = {"type": "string", "format": "uri", "nullable": True}
    return {
        "type": "object",
        "properties": {
            key: {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}},
            "meta": {
                "type": "object",
                "properties": {
                    "page": {"type": "integer"},
                    "page_size": {"type": "integer"},
                    "key": {"type": "string"},
                    "url": url,
                    "first_page_url": url,
                    "next_page_url": nullable_url,
                    "previous_page_url": nullable_url,
                },
            },
        },
    }


def _ok(schema: J | str, status: str = "200", desc: str = "OK") -> J:
    if isinstance(schema, str):
        schema = {"$ref": f"#/components/schemas/{schema}"}
    return {status: {"description": desc, "content": {"application/json": {"schema": schema}}}}


_ERRORS = {
    "default": {
        "description": "An error, in Twilio's error format.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
}


def _op(
    op_id: str,
    summary: str,
    tag: str,
    responses: J,
    params: list[J] | None = None,
    form: J | None = None,
    required: list[str] | None = None,
    security: bool = True,
) -> J:
    op: J = {
        "operationId": op_id,
        "summary": summary,
        "tags": [tag],
        "parameters": params or [],
        "responses": {**responses, **_ERRORS},
    }
    if security:
        op["security"] = BASIC
    else:
        op["security"] = []
    if form is not None:
        schema: J = {"type": "object", "properties": form}
        if required:
            schema["required"] = required
        op["requestBody"] = {
            "required": bool(required),
            "content": {"application/x-www-form-urlencoded": {"schema": schema}},
        }
    return op


_FLOW_FORM: J = {
    "FriendlyName": {"type": "string", "description": "The flow's name."},
    "Status": _STATUS_FLOW,
    "Definition": {"type": "string", "description": "The Flow Definition, as JSON text."},
    "CommitMessage": {"type": "string", "description": "What changed."},
    "AuthorSid": {"type": "string", "pattern": "^US[0-9a-fA-F]{32}$"},
}

FW = _path_param("Sid", "FW", "The Flow SID.")
FLOW_SID = _path_param("FlowSid", "FW", "The Flow SID.")
EXEC_SID = _path_param("Sid", "FN", "The Execution SID.")
EXECUTION_SID = _path_param("ExecutionSid", "FN", "The Execution SID.")
STEP_SID = _path_param("Sid", "FT", "The Step SID.")
STEP_CTX_SID = _path_param("StepSid", "FT", "The Step SID.")
NO_CONTENT = {"204": {"description": "Deleted."}}


def _studio_paths() -> J:
    ex_filters = [
        {
            "name": "status",
            "in": "query",
            "schema": _STATUS_EXEC,
            "description": "Only executions with this status.",
        },
        {
            "name": "DateCreatedFrom",
            "in": "query",
            "schema": {"type": "string", "format": "date-time"},
            "description": "Created on or after (ISO 8601 or a date).",
        },
        {
            "name": "DateCreatedTo",
            "in": "query",
            "schema": {"type": "string", "format": "date-time"},
            "description": "Created before (ISO 8601 or a date).",
        },
    ]
    t_flow, t_exec, t_step = "Studio Flows", "Studio Executions", "Studio Steps"
    return {
        "/v2/Flows": {
            "get": _op(
                "ListFlow",
                "List flows (newest first)",
                t_flow,
                _ok(_list_schema("flows", "Flow")),
                _PAGING,
            ),
            "post": _op(
                "CreateFlow",
                "Create a flow",
                t_flow,
                _ok("Flow", "201", "Created"),
                form=_FLOW_FORM,
                required=["FriendlyName", "Status", "Definition"],
            ),
        },
        "/v2/Flows/Validate": {
            "post": _op(
                "UpdateFlowValidate",
                "Validate a flow definition without saving it",
                t_flow,
                _ok("FlowValidate"),
                form=_FLOW_FORM,
                required=["FriendlyName", "Status", "Definition"],
            ),
        },
        "/v2/Flows/{Sid}": {
            "get": _op("FetchFlow", "Fetch a flow", t_flow, _ok("Flow"), [FW]),
            "post": _op(
                "UpdateFlow",
                "Update a flow (each save is a new revision)",
                t_flow,
                _ok("Flow"),
                [FW],
                form=_FLOW_FORM,
                required=["Status"],
            ),
            "delete": _op(
                "DeleteFlow",
                "Delete a flow with its revisions and executions",
                t_flow,
                NO_CONTENT,
                [FW],
            ),
        },
        "/v2/Flows/{Sid}/Revisions": {
            "get": _op(
                "ListFlowRevision",
                "List a flow's revisions (newest first)",
                t_flow,
                _ok(_list_schema("revisions", "FlowRevision")),
                [FW, *_PAGING],
            ),
        },
        "/v2/Flows/{Sid}/Revisions/{Revision}": {
            "get": _op(
                "FetchFlowRevision",
                "Fetch a revision",
                t_flow,
                _ok("FlowRevision"),
                [
                    FW,
                    _path_param(
                        "Revision", None, "A revision number, LatestPublished or LatestRevision."
                    ),
                ],
            ),
        },
        "/v2/Flows/{Sid}/TestUsers": {
            "get": _op("FetchTestUser", "Who may run the draft", t_flow, _ok("TestUsers"), [FW]),
            "post": _op(
                "UpdateTestUser",
                "Set who may run the draft",
                t_flow,
                _ok("TestUsers"),
                [FW],
                form={"TestUsers": {"type": "array", "items": {"type": "string"}}},
                required=["TestUsers"],
            ),
        },
        "/v2/Flows/{FlowSid}/Executions": {
            "get": _op(
                "ListExecution",
                "List executions (newest first)",
                t_exec,
                _ok(_list_schema("executions", "Execution")),
                [FLOW_SID, *ex_filters, *_PAGING],
            ),
            "post": _op(
                "CreateExecution",
                "Start an execution (REST trigger)",
                t_exec,
                _ok("Execution", "201", "Created"),
                [FLOW_SID],
                form={
                    "To": {"type": "string", "description": "The contact address."},
                    "From": {"type": "string", "description": "The flow's address."},
                    "Parameters": {"type": "string", "description": "JSON object text: flow.data."},
                },
                required=["To", "From"],
            ),
        },
        "/v2/Flows/{FlowSid}/Executions/{Sid}": {
            "get": _op(
                "FetchExecution",
                "Fetch an execution",
                t_exec,
                _ok("Execution"),
                [FLOW_SID, EXEC_SID],
            ),
            "post": _op(
                "UpdateExecution",
                "End an execution (Status=ended)",
                t_exec,
                _ok("Execution"),
                [FLOW_SID, EXEC_SID],
                form={"Status": _STATUS_EXEC},
                required=["Status"],
            ),
            "delete": _op(
                "DeleteExecution",
                "Delete an execution and its steps",
                t_exec,
                NO_CONTENT,
                [FLOW_SID, EXEC_SID],
            ),
        },
        "/v2/Flows/{FlowSid}/Executions/{ExecutionSid}/Context": {
            "get": _op(
                "FetchExecutionContext",
                "The execution's current context",
                t_exec,
                _ok("ExecutionContext"),
                [FLOW_SID, EXECUTION_SID],
            ),
        },
        "/v2/Flows/{FlowSid}/Executions/{ExecutionSid}/Steps": {
            "get": _op(
                "ListExecutionStep",
                "List an execution's steps (oldest first)",
                t_step,
                _ok(_list_schema("steps", "Step")),
                [FLOW_SID, EXECUTION_SID, *_PAGING],
            ),
        },
        "/v2/Flows/{FlowSid}/Executions/{ExecutionSid}/Steps/{Sid}": {
            "get": _op(
                "FetchExecutionStep",
                "Fetch a step",
                t_step,
                _ok("Step"),
                [FLOW_SID, EXECUTION_SID, STEP_SID],
            ),
        },
        "/v2/Flows/{FlowSid}/Executions/{ExecutionSid}/Steps/{StepSid}/Context": {
            "get": _op(
                "FetchExecutionStepContext",
                "The context right after a step",
                t_step,
                _ok("StepContext"),
                [FLOW_SID, EXECUTION_SID, STEP_CTX_SID],
            ),
        },
    }


def callboard_paths() -> J:
    tag = "Callboard"
    obj = {"type": "object"}
    return {
        "/callboard/v1/Health": {
            "get": _op(
                "CallboardHealth",
                "Liveness and database check (no auth)",
                tag,
                _ok(
                    {
                        "type": "object",
                        "properties": {"status": {"type": "string"}, "version": {"type": "string"}},
                    }
                ),
                security=False,
            ),
        },
        "/callboard/v1/Me": {
            "get": _op(
                "CallboardMe",
                "The authenticated account",
                tag,
                _ok(
                    {
                        "type": "object",
                        "properties": {
                            "account_sid": _sid("AC", nullable=False),
                            "friendly_name": {"type": "string", "nullable": True},
                            "credential_sid": {"type": "string"},
                        },
                    }
                ),
            ),
        },
        "/callboard/v1/WidgetTypes": {
            "get": _op(
                "CallboardWidgetTypes",
                "Every widget type the server runs",
                tag,
                _ok(
                    {
                        "type": "object",
                        "properties": {"widget_types": {"type": "array", "items": obj}},
                    }
                ),
            ),
        },
    }


def openapi_document(server_url: str) -> J:
    """The whole document: Studio's routes, then every route plugin's
    (:mod:`callboard.api.plugins`; Callboard's own routes come from
    :mod:`callboard.api.callboard_routes`)."""
    extra_paths, extra_schemas = plugin_openapi()
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Callboard API",
            "version": callboard.__version__,
            "description": (
                "Callboard speaks Studio's v2 REST API under /v2 (form-encoded requests, "
                "JSON responses, HTTP Basic auth with an Account SID and Auth Token or an "
                "API Key SID and secret) and has its own routes under /callboard/v1. "
                "Errors use Twilio's body {code, message, more_info, status}. Request "
                "bodies are limited to 16 MiB (413 above)."
            ),
        },
        "servers": [{"url": server_url}],
        "security": BASIC,
        "tags": [
            {"name": "Studio Flows"},
            {"name": "Studio Executions"},
            {"name": "Studio Steps"},
            {"name": "Callboard"},
        ],
        "paths": {**_studio_paths(), **extra_paths},
        "components": {
            "schemas": {**SCHEMAS, **extra_schemas},
            "securitySchemes": {"basicAuth": {"type": "http", "scheme": "basic"}},
        },
    }
