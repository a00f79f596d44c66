"""How single CloudEvent payloads are stored (migration 0950): raw DEFLATE with a preset
dictionary of the envelopes' common text, in ``events.payload_z`` (``payload`` is then
empty). A step.ended event shrinks from ~770 to ~180 bytes (what stays is mostly the
random SIDs). Rows written before 0950 keep their JSON in ``payload``. What is read back
— and delivered — is the very same JSON text.

The first byte names the dictionary, so a later version can add another and still read
these rows. Runs' events are stored otherwise, one row per run (first byte 2:
:mod:`callboard.events.batches`); single-event rows remain for Sink Test events and rows
written before.
"""

from __future__ import annotations

import zlib
from typing import Any

__all__ = ["pack_payload", "payload_text"]

_DICTIONARIES: dict[int, bytes] = {
    1: (
        b'"ended_reason":"FLOW_END"},"dataschema":"https://events-schemas.twilio.com/'
        b'Studio.FlowExecutionEvent/2"}"parent_step_sid":null,"name":"","transitioned_from":'
        b'"","transitioned_to":"Ended","type":"send-message","split-based-on","set-variables",'
        b'"flow_revision":1,"date_created":"2026-12-03T13:30:29.321Z"},"dataschema":'
        b'"https://events-schemas.twilio.com/Studio.FlowStepEvent/2"}{"specversion":"1.0",'
        b'"type":"com.twilio.studio.flow.execution.started","type":"com.twilio.studio.flow.'
        b'execution.ended","source":"/v2/Flows/FW/Executions/FN","id":"EZ","datacontenttype":'
        b'"application/json","time":"2026-12-03T13:30:29.321Z","data":{"execution_sid":"FN",'
        b'"account_sid":"AC","flow_sid":"FW","contact_channel_address":"+1","status":"active",'
        b'"status":"ended","date_created":"2026-12-03T13:30:29.320Z","date_updated":'
        b'"2026-12-03T13:30:29.321Z","started_by":"RQ","flow_revision":1,{"specversion":"1.0",'
        b'"type":"com.twilio.studio.flow.step.ended","source":"/v2/Flows/FW/Executions/FN/'
        b'Steps/FT","id":"EZ","datacontenttype":"application/json","time":'
        b'"2026-12-03T13:30:29.321Z","data":{"account_sid":"AC","flow_sid":"FW",'
        b'"execution_sid":"FN","step_sid":"FT"'
    )
}
_CURRENT = 1


def pack_payload(text: str) -> bytes:
    packer = zlib.compressobj(
        6, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, _DICTIONARIES[_CURRENT]
    )
    return bytes([_CURRENT]) + packer.compress(text.encode()) + packer.flush()


def payload_text(row: Any) -> str:
    """A row's CloudEvent JSON (a row with ``payload`` and ``payload_z``)."""
    packed = row.payload_z
    if packed is None:
        return str(row.payload)
    data = bytes(packed)
    unpacker = zlib.decompressobj(-15, _DICTIONARIES[data[0]])
    return (unpacker.decompress(data[1:]) + unpacker.flush()).decode()
