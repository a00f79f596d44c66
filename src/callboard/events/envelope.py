"""Event types and their CloudEvents 1.0 JSON envelopes (studio-interfaces §7).

Pure functions, no I/O. Times in ``time`` and in the data's ``date_*`` fields are
ISO-8601 UTC with milliseconds (``2025-01-01T00:00:00.000Z``), as Twilio sends them.
Event ids are ``EZ`` + 32 random hex digits: unique, so consumers can deduplicate.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = [
    "EVENT_TYPES",
    "EXECUTION_ENDED",
    "EXECUTION_STARTED",
    "STEP_ENDED",
    "TEST_EVENT",
    "EventType",
    "cloud_event",
    "ended_reason",
    "envelope",
    "epoch_ms",
    "event_id",
    "ms_text",
    "ms_time",
    "sink_test_event",
]

EXECUTION_STARTED = "com.twilio.studio.flow.execution.started"
EXECUTION_ENDED = "com.twilio.studio.flow.execution.ended"
STEP_ENDED = "com.twilio.studio.flow.step.ended"
TEST_EVENT = "com.twilio.eventstreams.test-event"

SCHEMA_BASE = "https://events-schemas.twilio.com"
CATALOGUE_DATE = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class EventType:
    type: str
    schema_id: str
    schema_version: int
    description: str
    documentation_url: str | None = None
    status: str = "available"

    @property
    def dataschema(self) -> str:
        return f"{SCHEMA_BASE}/{self.schema_id}/{self.schema_version}"


EVENT_TYPES: dict[str, EventType] = {
    t.type: t
    for t in (
        EventType(EXECUTION_STARTED, "Studio.FlowExecutionEvent", 2, "Studio - Execution started"),
        EventType(EXECUTION_ENDED, "Studio.FlowExecutionEvent", 2, "Studio - Execution ended"),
        EventType(STEP_ENDED, "Studio.FlowStepEvent", 2, "Studio - Step ended"),
    )
}

_SCHEMAS = {t.type: t.dataschema for t in EVENT_TYPES.values()}

# Callboard's ended_reason values → Studio's (FLOW_END is the one documented value).
_REASONS = {"completed": "FLOW_END", "ended": "ENDED_BY_API"}


def ended_reason(reason: str | None) -> str | None:
    """Studio-style ``ended_reason`` for Callboard's: ``completed`` → ``FLOW_END``,
    ``ended`` (REST ``Status=ended``) → ``ENDED_BY_API``, others upper-cased
    (``failed`` → ``FAILED``, ``step_limit`` → ``STEP_LIMIT``)."""
    if not reason:
        return None
    return _REASONS.get(reason, reason.upper())


def event_id() -> str:
    return "EZ" + secrets.token_hex(16)


def ms_time(when: datetime | None) -> str | None:
    """``YYYY-MM-DDTHH:MM:SS.mmmZ`` in UTC (naive values are taken as UTC)."""
    if when is None:
        return None
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when.isoformat(timespec="milliseconds") + "Z"  # truncated, as Twilio's


_EPOCH = datetime(1970, 1, 1)
_EPOCH_UTC = _EPOCH.replace(tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def epoch_ms(when: datetime) -> int:
    """Milliseconds since 1970 (UTC; naive values are taken as UTC), truncated as
    :func:`ms_time` truncates: ``ms_text(epoch_ms(t)) == ms_time(t)``."""
    return (when - (_EPOCH if when.tzinfo is None else _EPOCH_UTC)) // _MS


def ms_text(ms: int) -> str:
    """:func:`ms_time` of a time given as :func:`epoch_ms`."""
    return (_EPOCH + ms * _MS).isoformat(timespec="milliseconds") + "Z"


def envelope(
    type_: str, source: str, id_: str, time: str | None, data: dict[str, Any]
) -> dict[str, Any]:
    """One CloudEvents 1.0 structured-mode JSON object (``time`` already formatted)."""
    event: dict[str, Any] = {
        "specversion": "1.0",
        "type": type_,
        "source": source,
        "id": id_,
        "datacontenttype": "application/json",
        "time": time,
        "data": data,
    }
    schema = _SCHEMAS.get(type_)
    if schema is not None:
        event["dataschema"] = schema
    return event


def cloud_event(
    type_: str, source: str, data: dict[str, Any], when: datetime, *, id_: str | None = None
) -> dict[str, Any]:
    """One CloudEvents 1.0 structured-mode JSON object."""
    return envelope(type_, source, id_ or event_id(), ms_time(when), data)


def sink_test_event(test_id: str, when: datetime) -> dict[str, Any]:
    """The event ``POST /v1/Sinks/{Sid}/Test`` sends."""
    return cloud_event(TEST_EVENT, "Sink", {"test_id": test_id}, when)
