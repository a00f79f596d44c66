"""Building blocks of Callboard's OpenAPI 3.0 documents: field schemas (SIDs, dates,
URLs), the Studio v2 component schemas (:data:`SCHEMAS`), paging parameters, list
envelopes and the operation builder (:func:`_op`), shared by :mod:`callboard.api.openapi`
and the route plugins' path tables (:mod:`callboard.api.events_openapi`)."""

from __future__ import annotations

from typing import Any

from callboard.store.sids import sid_pattern

__all__ = ["BASIC", "NO_CONTENT", "SCHEMAS", "J"]

J = dict[str, Any]

BASIC: list[J] = [{"basicAuth": []}]


def _sid(prefix: str, nullable: bool = True) -> J:
    return {
        "type": "string",
        "minLength": 34,
        "maxLength": 34,
        "pattern": sid_pattern(prefix),
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


NO_CONTENT = {"204": {"description": "Deleted."}}
