"""One run's events in one ``events`` row (format 2), and reading rows back as events.

A run (one delivery of an event to an execution) records execution.started, one
step.ended per step and execution.ended as ONE row (up to :data:`ROW_EVENTS` events a
row; a longer run takes several). The row keeps the account, flow and execution SIDs
in its columns (``sid`` and ``type`` are empty: that is how such rows are told apart)
and, in ``payload_z``, only what the events are made of::

    b"\\x02" + seed (16 random bytes) + raw DEFLATE (preset dictionary) of the JSON
    [contact, started_by, flow_revision, now (ms since 1970), now - created (ms),
     ended reason, flags (1: started, 2: ended),
     [[step_sid, parent_step_sid, name, transitioned_from, transitioned_to, type,
       now - date_created (ms)], ...]]

The CloudEvents are made from that when they are read (:func:`row_events`, for the live
stream and the deliveries) — the very JSON text recording them one by one gave. Event
``i`` of a row has the id ``EZ`` + the 32 hex digits of BLAKE2b(seed + i) (16 bytes):
unique and unpredictable, as random ids are, without storing six of them.

A row written before (one event: ``sid``, ``type`` and the JSON in ``payload`` or
``payload_z``, see :mod:`callboard.events.payloads`) is read as that one event. The
position of an event in the log (the live stream's ``id:``) is ``row id ×``
:data:`ROW_EVENTS` ``+ i`` for a run's row, the row id for an older single-event row
(older rows have lower ids, so positions still grow with the log).
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection

from callboard.events.envelope import (
    EXECUTION_ENDED,
    EXECUTION_STARTED,
    STEP_ENDED,
    ended_reason,
    envelope,
    ms_text,
)
from callboard.events.payloads import payload_text
from callboard.events.records import StoredEvent
from callboard.store.events import read_rows

__all__ = [
    "FORMAT",
    "ROW_EVENTS",
    "Entry",
    "newest_position",
    "pack_run",
    "payload_of",
    "read_events",
    "row_entries",
    "row_events",
    "row_floor",
]

FORMAT = 2
ROW_EVENTS = 64  # events in one row at most; positions are row id * ROW_EVENTS + index
STARTED, ENDED = 1, 2  # flags

# What a run's JSON most often holds (the most common last: the nearest is the cheapest).
_DICTIONARY = (
    b'"make-http-request","run-function","run-subflow","send-to-flex","connect-call-to",'
    b'"say-play","gather-input-on-call","record-voicemail","enqueue-call","fork-stream",'
    b'"capture-payments","add-twiml-redirect","set-variables","split-based-on",'
    b'"send-and-wait-for-reply","send-message","Trigger","trigger","incomingMessage",'
    b'"incomingCall","incomingConversationMessage","incomingRequest","subflow","next",'
    b'"noMatch","match","sent","failed","timeout","success","fail","audioComplete",'
    b'"keypress","speech","Ended","completed",null,[["FT'
)
_WBITS = -11  # a 2 KiB window (the dictionary and a run's text fit): cheap to set up

_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def pack_run(
    seed: bytes,
    contact: str,
    started_by: str | None,
    flow_revision: int,
    now_ms: int,
    created_ms: int,
    reason: str | None,
    flags: int,
    steps: list[list[Any]],
) -> bytes:
    """``payload_z`` of a run's row (``steps``: ``[sid, parent, name, from, to, type,
    date_created ms]`` each, absolute times; stored relative to ``now_ms``)."""
    for step in steps:
        step[6] = now_ms - step[6]
    text = _ENCODER.encode(
        [contact, started_by, flow_revision, now_ms, now_ms - created_ms, reason, flags, steps]
    )
    packer = zlib.compressobj(6, zlib.DEFLATED, _WBITS, 2, zlib.Z_DEFAULT_STRATEGY, _DICTIONARY)
    return bytes([FORMAT]) + seed + packer.compress(text.encode()) + packer.flush()


@dataclass(frozen=True, slots=True)
class Entry:
    """One event of a row: its position (``id``, as :class:`StoredEvent`'s), CloudEvent
    id and type."""

    id: int
    sid: str
    type: str


@dataclass(slots=True)
class _Run:
    """A format-2 row, unpacked."""

    seed: bytes
    account_sid: str
    flow_sid: str
    execution_sid: str
    fields: list[Any]

    def types(self) -> list[str]:
        flags, steps = self.fields[6], self.fields[7]
        out = [EXECUTION_STARTED] if flags & STARTED else []
        out.extend([STEP_ENDED] * len(steps))
        if flags & ENDED:
            out.append(EXECUTION_ENDED)
        return out

    def event_sid(self, index: int) -> str:
        return "EZ" + hashlib.blake2b(self.seed + bytes([index]), digest_size=16).hexdigest()

    def event(self, index: int) -> dict[str, Any]:
        contact, started_by, revision, now_ms, created_ago, reason, flags, steps = self.fields
        path = f"/v2/Flows/{self.flow_sid}/Executions/{self.execution_sid}"
        first = 1 if flags & STARTED else 0
        if first <= index < first + len(steps):
            sid, parent, name, came_from, went_to, type_, ago = steps[index - first]
            when = ms_text(now_ms - ago)
            data = {
                "account_sid": self.account_sid,
                "flow_sid": self.flow_sid,
                "execution_sid": self.execution_sid,
                "step_sid": sid,
                "parent_step_sid": parent,
                "name": name,
                "transitioned_from": came_from,
                "transitioned_to": went_to,
                "type": type_,
                "flow_revision": revision,
                "date_created": when,
            }
            return envelope(STEP_ENDED, f"{path}/Steps/{sid}", self.event_sid(index), when, data)
        start = index < first
        created = ms_text(now_ms - created_ago)
        now = ms_text(now_ms)
        data = {
            "execution_sid": self.execution_sid,
            "account_sid": self.account_sid,
            "flow_sid": self.flow_sid,
            "contact_channel_address": contact,
            "status": "active" if start else "ended",
            "date_created": created,
            "date_updated": now,
            "started_by": started_by,
            "flow_revision": revision,
        }
        if not start:
            data["ended_reason"] = ended_reason(reason)
        type_ = EXECUTION_STARTED if start else EXECUTION_ENDED
        return envelope(type_, path, self.event_sid(index), created if start else now, data)


def _run(row: Any) -> _Run | None:
    """The row unpacked, or None for a single-event row (written before format 2)."""
    if row.type or row.payload_z is None:
        return None
    data = bytes(row.payload_z)
    if data[0] != FORMAT:
        raise ValueError(f"unknown events row format {data[0]}")
    unpacker = zlib.decompressobj(_WBITS, _DICTIONARY)
    fields = json.loads(unpacker.decompress(data[17:]) + unpacker.flush())
    return _Run(data[1:17], row.account_sid, row.flow_sid, row.execution_sid, fields)


def row_entries(row: Any) -> list[Entry]:
    """The events of an ``events`` row (with its ``id``, ``sid``, ``type``,
    ``payload_z``, ``account_sid``, ``flow_sid``, ``execution_sid``), without their
    payloads (what the fan-out needs)."""
    run = _run(row)
    if run is None:
        return [Entry(row.id, row.sid, row.type)]
    base = row.id * ROW_EVENTS
    return [Entry(base + i, run.event_sid(i), t) for i, t in enumerate(run.types())]


def row_events(row: Any) -> list[StoredEvent]:
    """The events of an ``events`` row (as for :func:`row_entries`, and ``payload``),
    with their CloudEvent JSON."""
    run = _run(row)
    if run is None:
        return [StoredEvent(row.id, row.sid, row.type, payload_text(row))]
    base = row.id * ROW_EVENTS
    out = []
    for i, type_ in enumerate(run.types()):
        event = run.event(i)
        out.append(StoredEvent(base + i, event["id"], type_, _ENCODER.encode(event)))
    return out


def payload_of(row: Any, event_sid: str) -> str | None:
    """The CloudEvent JSON of the row's event ``event_sid`` (None: not in that row)."""
    for event in row_events(row):
        if event.sid == event_sid:
            return event.payload
    return None


def row_floor(position: int) -> int:
    """The lowest row id that can hold events after ``position``."""
    return position // ROW_EVENTS


def newest_position(last_row_id: int | None) -> int:
    """A position at or after every event of the rows up to ``last_row_id``."""
    return 0 if last_row_id is None else last_row_id * ROW_EVENTS + ROW_EVENTS - 1


def read_events(
    conn: Connection, *where: ColumnElement[bool], after: int = 0, limit: int | None = None
) -> list[StoredEvent]:
    """The events of the rows matching ``where`` whose position is after ``after``,
    oldest first. ``limit``: at most ``limit + 1`` rows are read (every row but the one
    holding ``after`` has an event after it), so at least ``limit`` events come back
    unless there are no more, and every event up to the last one returned is there.
    The rows come from :func:`callboard.store.events.read_rows`."""
    rows = read_rows(
        conn,
        *where,
        floor=row_floor(after),
        after=after,
        limit=None if limit is None else limit + 1,
    )
    return [ev for row in rows for ev in row_events(row) if ev.id > after]
