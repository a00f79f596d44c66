"""Callboard's own OpenAPI 3.0 document: the Studio v2 routes and Callboard's routes.

Written here from the routes Callboard serves (field names and shapes follow Studio's
public v2 API so that Twilio's SDKs work unchanged). ``/openapi.json`` serves it and
``/docs`` renders it as a page.
"""

from __future__ import annotations

import callboard
from callboard.api.openapi_schema import (
    _PAGING,
    _STATUS_EXEC,
    _STATUS_FLOW,
    BASIC,
    NO_CONTENT,
    SCHEMAS,
    J,
    _list_schema,
    _ok,
    _op,
    _path_param,
    _sid,
)
from callboard.api.plugins import plugin_openapi
from callboard.store.sids import sid_pattern

__all__ = ["openapi_document"]

_FLOW_FORM: J = {
    "FriendlyName": {"type": "string", "description": "The flow's name."},
    "Status": _STATUS_FLOW,
    "Definition": {"type": "string", "description": "The Flow Definition, as JSON text."},
    "CommitMessage": {"type": "string", "description": "What changed."},
    "AuthorSid": {"type": "string", "pattern": sid_pattern("US")},
}

FW = _path_param("Sid", "FW", "The Flow SID.")
FLOW_SID = _path_param("FlowSid", "FW", "The Flow SID.")
EXEC_SID = _path_param("Sid", "FN", "The Execution SID.")
EXECUTION_SID = _path_param("ExecutionSid", "FN", "The Execution SID.")
STEP_SID = _path_param("Sid", "FT", "The Step SID.")
STEP_CTX_SID = _path_param("StepSid", "FT", "The Step SID.")


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
                "Readiness: database and background-job lag (no auth; 503: not ready)",
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
