"""JSON stored packed (issue 11: bytes per execution): compact JSON, DEFLATE-compressed
with a preset dictionary of the text execution contexts and states repeat (Twilio's
message and call fields, the context's and the state's own keys) when that is smaller.

The first byte says how the rest is stored, so rows written by an older version always
read:

* ``j``: the JSON text as it is (short texts, or where compression does not help);
* ``z``: a zlib stream (step contexts written before the dictionary);
* ``d``: then one byte naming the dictionary (``1``), then raw DEFLATE with it.

What is read back is the very value written (``store.values`` JSON both ways).

CPU: the compressor with the dictionary loaded is made once per window size and copied
for each text (loading the dictionary and allocating zlib's default 256 KiB state cost
more than compressing a few hundred bytes).
"""

from __future__ import annotations

import functools
import zlib
from typing import Any

from callboard.store.values import dump_bytes, loads

__all__ = ["pack_json", "pack_state", "unpack_json", "unpack_state"]

_PLAIN = b"j"
_ZLIB = b"z"
_DICT = b"d"
_MIN_COMPRESS = 120  # bytes of JSON below which compression rarely helps

# Most common last (DEFLATE finds the nearest match first); never change a stored
# dictionary: add another under a new number.
_DICTIONARIES: dict[int, bytes] = {
    1: (
        b'{"code":"","message":"","widget":"","token":"","memo":{},"timers":[],'
        b'"accepts_messages":false,"since":"2026-12-03T13:30:29.321Z"'
        b'"CallSid":"CA","CallStatus":"in-progress","Called":"+1","Caller":"+1",'
        b'"Direction":"inbound","ForwardedFrom":"","CallerName":"","ParentCallSid":"",'
        b'"Digits":"","SpeechResult":"","Confidence":"","RecordingUrl":"",'
        b'"content_type":"application/json","status_code":200,"parsed":'
        b'"request":{"parameters":{},"call":{"FromCountry":"US","ToCountry":"US",'
        b'"DateCreated":"Thu, 03 Dec 2026 13:30:29 +0000","ErrorCode":null,'
        b'"ErrorMessage":null,"Price":null,"PriceUnit":"USD","NumSegments":"1",'
        b'"ApiVersion":"2010-04-01","DateUpdated":"Thu, 03 Dec 2026 13:30:29 +0000",'
        b'"DateSent":"Thu, 03 Dec 2026 13:30:29 +0000","Uri":"/2010-04-01/Accounts/AC'
        b'/Messages/SM.json"}},"outbound":{"Sid":"SM","AccountSid":"AC",'
        b'"MessagingServiceSid":null,"Status":"sent","Direction":"outbound-api",'
        b'"To":"+1","From":"+1","Body":"","NumMedia":"0",'
        b'{"status":"active","status":"ended","frames":[{"flow_sid":"FW","revision":1,'
        b'"context":{"contact":{"channel":{"address":"+1"}},"trigger":{"message":'
        b'{"MessageSid":"SM","AccountSid":"AC","From":"+1","To":"+1","Body":"",'
        b'"NumMedia":"0"}},"widgets":{},"flow":{"flow_sid":"FW","sid":"FN",'
        b'"channel":{"address":"+1"},"data":{},"variables":{}}},"caller":""}],'
        b'"step_count":1,"last_widget":"1:","consecutive":1,"waiting":null,'
        b'"ended_reason":"completed","seq":1}'
    )
}
_CURRENT = 1
_LEVEL = 6
_SEEN = len(_DICTIONARIES[_CURRENT]) + 261  # + the text: what the window must hold


def pack_json(value: Any) -> bytes:
    """``value`` packed (see the module docstring)."""
    raw = dump_bytes(value)
    if len(raw) >= _MIN_COMPRESS:
        packer = _packer(_CURRENT, _window(len(raw))).copy()
        packed: bytes = packer.compress(raw) + packer.flush()
        if len(packed) + 2 < len(raw) + 1:
            return _DICT + bytes([_CURRENT]) + packed
    return _PLAIN + raw


def unpack_json(data: bytes) -> Any:
    """The value :func:`pack_json` packed (or a step context packed before ``d``)."""
    data = bytes(data)
    kind = data[:1]
    if kind == _DICT:
        unpacker = zlib.decompressobj(-15, _DICTIONARIES[data[1]])
        return loads(unpacker.decompress(data[2:]) + unpacker.flush())
    if kind == _ZLIB:
        return loads(zlib.decompress(data[1:]))
    return loads(data[1:])


def pack_state(state: Any) -> bytes:
    """An execution's state (``ExecutionState.to_json()``) as stored packed."""
    return pack_json(state)


def unpack_state(text: str | None, packed: bytes | None) -> Any:
    """An execution's state from its row: the packed column when set, else the JSON
    text column (rows written before packing); None when neither holds anything."""
    if packed is not None:
        return unpack_json(packed)
    return loads(text)


def _window(size: int) -> int:
    """The smallest DEFLATE window (bits) that sees the dictionary and the whole text."""
    return max(9, min(15, (size + _SEEN).bit_length()))


@functools.cache
def _packer(dictionary: int, window: int) -> Any:
    """A compressor with the dictionary loaded, to copy (never used itself)."""
    memory = max(2, min(8, window - 6))
    return zlib.compressobj(
        _LEVEL, zlib.DEFLATED, -window, memory, zlib.Z_DEFAULT_STRATEGY, _DICTIONARIES[dictionary]
    )
