"""Event Streams records (frozen dataclasses, aware UTC datetimes), row converters and
parameter checks shared by :mod:`callboard.events.service` and its mixins."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from callboard.events.envelope import EVENT_TYPES
from callboard.runtime.records import InvalidParameter
from callboard.store.values import from_db_time

__all__ = [
    "SINK_STATUSES",
    "Failure",
    "Sink",
    "StoredEvent",
    "SubscribedEvent",
    "Subscription",
    "check_type",
    "parse_type_spec",
]

SINK_STATUSES = ("initialized", "validating", "active", "failed")


@dataclass(frozen=True, slots=True)
class Sink:
    sid: str
    account_sid: str
    description: str
    sink_type: str
    sink_configuration: dict[str, Any]
    status: str
    date_created: datetime
    date_updated: datetime | None
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class Subscription:
    sid: str
    account_sid: str
    sink_sid: str
    description: str
    date_created: datetime
    date_updated: datetime | None


@dataclass(frozen=True, slots=True)
class SubscribedEvent:
    account_sid: str
    subscription_sid: str
    type: str
    schema_version: int


@dataclass(frozen=True, slots=True)
class Failure:
    id: int
    sink_sid: str
    subscription_sid: str | None
    event_sid: str
    type: str
    attempts: int
    last_error: str | None
    last_status_code: int | None
    date_created: datetime
    date_failed: datetime | None


@dataclass(frozen=True, slots=True)
class StoredEvent:
    id: int
    sid: str
    type: str
    payload: str  # the CloudEvent JSON text


def _sink(row: Any) -> Sink:
    return Sink(
        sid=row.sid,
        account_sid=row.account_sid,
        description=row.description,
        sink_type=row.sink_type,
        sink_configuration=json.loads(row.configuration),
        status=row.status,
        date_created=from_db_time(row.date_created) or row.date_created,
        date_updated=from_db_time(row.date_updated),
        last_error=row.last_error,
    )


def _subscription(row: Any) -> Subscription:
    return Subscription(
        sid=row.sid,
        account_sid=row.account_sid,
        sink_sid=row.sink_sid,
        description=row.description,
        date_created=from_db_time(row.date_created) or row.date_created,
        date_updated=from_db_time(row.date_updated),
    )


def _failure(row: Any) -> Failure:
    return Failure(
        id=row.id,
        sink_sid=row.sink_sid,
        subscription_sid=row.subscription_sid,
        event_sid=row.event_sid,
        type=row.type,
        attempts=row.attempts,
        last_error=row.last_error,
        last_status_code=row.last_status_code,
        date_created=from_db_time(row.date_created) or row.date_created,
        date_failed=from_db_time(row.date_updated),
    )


def _description(value: str | None, what: str = "Description") -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidParameter(what, f"Missing required parameter {what} in the post body")
    if len(text) > 255:
        raise InvalidParameter(what, f"{what} must be at most 255 characters")
    return text


def parse_type_spec(value: Any) -> tuple[str, int]:
    """One ``Types`` entry (decoded JSON ``{"type": ..., "schema_version": n}``, or a
    plain type name) → ``(type, schema_version)``; unknown types are refused."""
    if isinstance(value, str):
        value = {"type": value}
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        raise InvalidParameter(
            "Types",
            "Invalid parameter Types: each value must be a JSON object like "
            '{"type": "com.twilio.studio.flow.step.ended", "schema_version": 2}',
        )
    return check_type(value["type"], value.get("schema_version"), "Types")


def check_type(type_: str, version: Any, param: str = "Type") -> tuple[str, int]:
    known = EVENT_TYPES.get(type_)
    if known is None:
        raise InvalidParameter(
            param,
            f"Invalid parameter {param}: unknown event type {type_!r}; "
            f"Callboard emits {', '.join(EVENT_TYPES)}",
        )
    if version is None or version == "":
        return type_, known.schema_version
    if isinstance(version, str) and version.strip().isdigit():
        version = int(version)
    if (
        isinstance(version, bool)
        or not isinstance(version, int)
        or not (1 <= version <= known.schema_version)
    ):
        raise InvalidParameter(
            "SchemaVersion",
            f"Invalid SchemaVersion {version!r} for {type_}: "
            f"versions 1 to {known.schema_version} exist",
        )
    return type_, version
