"""OpenAPI path items and schemas for the Event Streams routes (merged into
``/openapi.json`` and ``/docs`` through :mod:`callboard.api.plugins`)."""

from __future__ import annotations

from typing import Any

from callboard.api.openapi_schema import (
    _DATE,
    _LINKS,
    _PAGING,
    _URL,
    NO_CONTENT,
    _list_schema,
    _ok,
    _op,
    _path_param,
    _sid,
)

__all__ = ["events_paths", "events_schemas"]

J = dict[str, Any]
TAG = "Event Streams"
_STR = {"type": "string", "nullable": True}
_SINK_STATUS = {"type": "string", "enum": ["initialized", "validating", "active", "failed"]}
_TYPES = [
    "com.twilio.studio.flow.execution.started",
    "com.twilio.studio.flow.execution.ended",
    "com.twilio.studio.flow.step.ended",
]


def events_schemas() -> J:
    def obj(props: J) -> J:
        return {"type": "object", "properties": props}

    return {
        "EventsSink": obj(
            {
                "sid": _sid("DG"),
                "description": _STR,
                "sink_type": {"type": "string", "enum": ["webhook", "redis-stream"]},
                "sink_configuration": {"type": "object", "nullable": True},
                "status": _SINK_STATUS,
                "date_created": _DATE,
                "date_updated": _DATE,
                "url": _URL,
                "links": _LINKS,
            }
        ),
        "EventsResult": obj({"result": _STR}),
        "EventsSubscription": obj(
            {
                "account_sid": _sid("AC"),
                "sid": _sid("DF"),
                "description": _STR,
                "sink_sid": _sid("DG"),
                "date_created": _DATE,
                "date_updated": _DATE,
                "url": _URL,
                "links": _LINKS,
            }
        ),
        "EventsSubscribedEvent": obj(
            {
                "account_sid": _sid("AC"),
                "type": _STR,
                "schema_version": {"type": "integer"},
                "subscription_sid": _sid("DF"),
                "url": _URL,
            }
        ),
        "EventsType": obj(
            {
                "type": _STR,
                "schema_id": _STR,
                "status": _STR,
                "description": _STR,
                "documentation_url": _STR,
                "date_created": _DATE,
                "date_updated": _DATE,
                "url": _URL,
                "links": _LINKS,
            }
        ),
        "EventsFailure": obj(
            {
                "sink_sid": _sid("DG"),
                "subscription_sid": _sid("DF"),
                "event_id": _STR,
                "type": _STR,
                "attempts": {"type": "integer"},
                "last_error": _STR,
                "last_status_code": {"type": "integer", "nullable": True},
                "date_created": _DATE,
                "date_failed": _DATE,
            }
        ),
        "EventsSchema": obj(
            {
                "id": _STR,
                "url": _URL,
                "links": _LINKS,
                "latest_version_date_created": _DATE,
                "latest_version": {"type": "integer"},
            }
        ),
        "EventsSchemaVersion": obj(
            {
                "id": _STR,
                "schema_version": {"type": "integer"},
                "date_created": _DATE,
                "url": _URL,
                "raw": {"type": "string", "format": "uri", "nullable": True},
            }
        ),
        "EventsPending": obj({"sink_sid": _sid("DG"), "pending": {"type": "integer"}}),
    }


def events_paths() -> J:
    dg = _path_param("Sid", "DG", "The Sink SID.")
    sid_id = {"name": "Id", "in": "path", "required": True, "schema": {"type": "string"}}
    df = _path_param("Sid", "DF", "The Subscription SID.")
    sub_sid = _path_param("SubscriptionSid", "DF", "The Subscription SID.")
    type_param = {
        "name": "Type",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "enum": _TYPES},
    }
    desc = {"Description": {"type": "string", "minLength": 1, "maxLength": 255}}
    sink_form = {
        **desc,
        "SinkType": {"type": "string", "enum": ["webhook", "redis-stream"]},
        "SinkConfiguration": {
            "type": "string",
            "description": 'JSON: webhook {"destination", "method", "batch_events"}; '
            'redis-stream {"url", "stream", "maxlen"}.',
        },
    }
    sub_form = {
        **desc,
        "SinkSid": _sid("DG", nullable=False),
        "Types": {
            "type": "array",
            "items": {"type": "string"},
            "description": 'Repeated; each {"type": ..., "schema_version": 2} as JSON.',
        },
    }
    version = {"SchemaVersion": {"type": "integer", "minimum": 1, "maximum": 2}}
    sink_filters = [
        {"name": "InUse", "in": "query", "schema": {"type": "boolean"}},
        {"name": "Status", "in": "query", "schema": _SINK_STATUS},
    ]
    sink_sid_filter = [{"name": "SinkSid", "in": "query", "schema": _sid("DG", nullable=False)}]
    created = "201"
    return {
        "/v1/Sinks": {
            "get": _op(
                "EventsListSink",
                "List sinks",
                TAG,
                _ok(_list_schema("sinks", "EventsSink")),
                sink_filters + _PAGING,
            ),
            "post": _op(
                "EventsCreateSink",
                "Create a sink",
                TAG,
                _ok("EventsSink", created),
                form=sink_form,
                required=list(sink_form),
            ),
        },
        "/v1/Sinks/{Sid}": {
            "get": _op("EventsFetchSink", "Fetch a sink", TAG, _ok("EventsSink"), [dg]),
            "post": _op(
                "EventsUpdateSink",
                "Update a sink's description",
                TAG,
                _ok("EventsSink"),
                [dg],
                form=desc,
                required=["Description"],
            ),
            "delete": _op("EventsDeleteSink", "Delete a sink", TAG, NO_CONTENT, [dg]),
        },
        "/v1/Sinks/{Sid}/Test": {
            "post": _op(
                "EventsTestSink", "Send a test event", TAG, _ok("EventsResult", created), [dg]
            ),
        },
        "/v1/Sinks/{Sid}/Validate": {
            "post": _op(
                "EventsValidateSink",
                "Validate with the test event's test_id",
                TAG,
                _ok("EventsResult", created),
                [dg],
                form={"TestId": {"type": "string"}},
                required=["TestId"],
            ),
        },
        "/v1/Subscriptions": {
            "get": _op(
                "EventsListSubscription",
                "List subscriptions",
                TAG,
                _ok(_list_schema("subscriptions", "EventsSubscription")),
                sink_sid_filter + _PAGING,
            ),
            "post": _op(
                "EventsCreateSubscription",
                "Create a subscription",
                TAG,
                _ok("EventsSubscription", created),
                form=sub_form,
                required=list(sub_form),
            ),
        },
        "/v1/Subscriptions/{Sid}": {
            "get": _op(
                "EventsFetchSubscription",
                "Fetch a subscription",
                TAG,
                _ok("EventsSubscription"),
                [df],
            ),
            "post": _op(
                "EventsUpdateSubscription",
                "Update a subscription",
                TAG,
                _ok("EventsSubscription"),
                [df],
                form=desc,
            ),
            "delete": _op(
                "EventsDeleteSubscription", "Delete a subscription", TAG, NO_CONTENT, [df]
            ),
        },
        "/v1/Subscriptions/{SubscriptionSid}/SubscribedEvents": {
            "get": _op(
                "EventsListSubscribedEvent",
                "List a subscription's event types",
                TAG,
                _ok(_list_schema("types", "EventsSubscribedEvent")),
                [sub_sid, *_PAGING],
            ),
            "post": _op(
                "EventsCreateSubscribedEvent",
                "Add an event type",
                TAG,
                _ok("EventsSubscribedEvent", created),
                [sub_sid],
                form={"Type": {"type": "string", "enum": _TYPES}, **version},
                required=["Type"],
            ),
        },
        "/v1/Subscriptions/{SubscriptionSid}/SubscribedEvents/{Type}": {
            "get": _op(
                "EventsFetchSubscribedEvent",
                "Fetch a subscribed event type",
                TAG,
                _ok("EventsSubscribedEvent"),
                [sub_sid, type_param],
            ),
            "post": _op(
                "EventsUpdateSubscribedEvent",
                "Change its schema version",
                TAG,
                _ok("EventsSubscribedEvent"),
                [sub_sid, type_param],
                form=version,
            ),
            "delete": _op(
                "EventsDeleteSubscribedEvent",
                "Remove an event type",
                TAG,
                NO_CONTENT,
                [sub_sid, type_param],
            ),
        },
        "/v1/Types": {
            "get": _op(
                "EventsListEventType",
                "Callboard's event types",
                TAG,
                _ok(_list_schema("types", "EventsType")),
                [{"name": "SchemaId", "in": "query", "schema": {"type": "string"}}, *_PAGING],
            ),
        },
        "/v1/Types/{Type}": {
            "get": _op(
                "EventsFetchEventType", "Fetch an event type", TAG, _ok("EventsType"), [type_param]
            ),
        },
        "/callboard/v1/Sinks/{Sid}/Failures": {
            "get": _op(
                "CallboardSinkFailures",
                "Deliveries given up on",
                TAG,
                _ok(_list_schema("failures", "EventsFailure")),
                [dg, *_PAGING],
            ),
        },
        "/callboard/v1/Sinks/{Sid}/Deliveries": {
            "get": _op(
                "CallboardSinkDeliveries",
                "How many deliveries are pending",
                TAG,
                _ok("EventsPending"),
                [dg],
            ),
        },
        "/v1/Schemas/{Id}": {
            "get": _op("EventsFetchSchema", "An event schema", TAG, _ok("EventsSchema"), [sid_id]),
        },
        "/v1/Schemas/{Id}/Versions": {
            "get": _op(
                "EventsListSchemaVersion",
                "Its versions",
                TAG,
                _ok(_list_schema("schema_versions", "EventsSchemaVersion")),
                [sid_id, *_PAGING],
            ),
        },
        "/v1/Schemas/{Id}/Versions/{SchemaVersion}": {
            "get": _op(
                "EventsFetchSchemaVersion",
                "One version",
                TAG,
                _ok("EventsSchemaVersion"),
                [
                    sid_id,
                    {
                        "name": "SchemaVersion",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    },
                ],
            ),
        },
        "/callboard/v1/Flows/{FlowSid}/Events/Stream": {
            "get": _op(
                "CallboardFlowEventStream",
                "Server-Sent Events: the flow's events as they are committed "
                "(Last-Event-ID or ?after= resumes; see docs/events.md)",
                TAG,
                {
                    "200": {
                        "description": "An endless text/event-stream.",
                        "content": {"text/event-stream": {"schema": {"type": "string"}}},
                    }
                },
                [
                    _path_param("FlowSid", "FW", "The Flow SID."),
                    {"name": "after", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                ],
            ),
        },
    }
