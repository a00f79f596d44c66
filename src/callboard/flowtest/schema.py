"""The JSON Schema of the test file format (served at /callboard/v1/Schemas/FlowTest)."""

from __future__ import annotations

from typing import Any

from callboard.flowtest.loader import FILE_KEYS, MOCK_KEYS, TEST_KEYS
from callboard.flowtest.model import STEP_KINDS

__all__ = ["flow_test_schema"]

_TEXT = {"type": ["string", "number"], "description": "exact text, or /regex/"}
_SHAPES: dict[str, dict[str, Any]] = {
    "text": _TEXT,
    "seconds": {"type": "number", "minimum": 0},
    "mapping": {"type": "object", "description": "context path -> expected value"},
    "list": {"type": "array", "items": {"type": "string"}},
    "bool": {"type": "boolean"},
}


def flow_test_schema() -> dict[str, Any]:
    step_variants = [
        {
            "type": "object",
            "properties": {kind: _SHAPES[shape]},
            "required": [kind],
            "additionalProperties": False,
        }
        for kind, shape in STEP_KINDS.items()
    ]
    mock = {
        "type": "object",
        "required": ["url"],
        "additionalProperties": False,
        "properties": {
            "url": {"type": "string", "description": "glob on the request URL"},
            "method": {"type": "string"},
            "status": {"type": "integer", "minimum": 100, "maximum": 599},
            "json": {"description": "a JSON answer"},
            "body": {"type": "string"},
            "headers": {"type": "object", "additionalProperties": {"type": "string"}},
            "content_type": {"type": "string"},
        },
    }
    test = {
        "type": "object",
        "required": ["steps"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string"},
            "from": {"type": "string", "description": "the contact"},
            "to": {"type": "string", "description": "the flow's number"},
            "parameters": {"type": "object", "description": "start via the REST trigger"},
            "call": {
                "type": ["object", "null"],
                "description": "start with an inbound call",
                "properties": {"from": {"type": "string"}, "to": {"type": "string"}},
                "additionalProperties": False,
            },
            "conversation": {
                "type": ["object", "null"],
                "description": "the messages are sent in a Twilio Conversation "
                "(incomingConversationMessage); sid: the Conversation (CH…, default a new "
                "one), author: who writes (default the test's from)",
                "properties": {"sid": {"type": "string"}, "author": {"type": "string"}},
                "additionalProperties": False,
            },
            "mocks": {"type": "array", "items": mock},
            "steps": {"type": "array", "items": {"oneOf": step_variants}},
            "allow_extra": {"type": "boolean"},
        },
    }
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "/callboard/v1/Schemas/FlowTest",
        "title": "Callboard flow test",
        "type": "object",
        "required": ["tests"],
        "additionalProperties": False,
        "properties": {
            "flow": {"type": "string", "description": "flow file (relative) or FW… SID"},
            "subflows": {
                "type": "object",
                "propertyNames": {"pattern": "^FW"},
                "additionalProperties": {"type": "string"},
            },
            "tests": {"type": "array", "minItems": 1, "items": test},
        },
    }
    assert set(schema["properties"]) == set(FILE_KEYS)
    assert set(test["properties"]) == set(TEST_KEYS)  # type: ignore[call-overload]
    assert set(mock["properties"]) == set(MOCK_KEYS)  # type: ignore[call-overload]
    return schema
