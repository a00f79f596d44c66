"""``store.packed_json``: values read back exactly, rows packed before the dictionary
(zlib, plain JSON) and execution states stored as text still read, and the dictionary
earns its keep on a real state."""

from __future__ import annotations

import json
import random
import zlib
from typing import Any

from callboard.store.packed_json import pack_json, pack_state, unpack_json, unpack_state
from callboard.store.values import dumps

STATE = {
    "status": "ended",
    "frames": [
        {
            "flow_sid": "FW067e75fba59103ebbe445bbfc124ef34",
            "revision": 1,
            "context": {
                "contact": {"channel": {"address": "+111000000002"}},
                "trigger": {
                    "message": {
                        "MessageSid": "SM1100000000000000000000000002",
                        "AccountSid": "AC836fcca787e8392ca092515f58195723",
                        "From": "+111000000002",
                        "To": "+15559990000",
                        "Body": "hello again",
                        "NumMedia": "0",
                    }
                },
                "widgets": {"remember": {"who": "0002", "said": "HELLO AGAIN", "kind": "old"}},
                "flow": {
                    "flow_sid": "FW067e75fba59103ebbe445bbfc124ef34",
                    "sid": "FN8fb29c292cbf4d088246b919c4da4633",
                    "channel": {"address": "+15559990000"},
                    "data": {},
                    "variables": {"who": "0002", "said": "HELLO AGAIN", "kind": "old"},
                },
            },
            "caller": "",
        }
    ],
    "step_count": 4,
    "last_widget": "1:reply",
    "consecutive": 1,
    "waiting": None,
    "ended_reason": "completed",
    "seq": 1,
}


def _random_json(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(7 if depth < 4 else 4)
    if kind == 0:
        return rng.choice([0, 1, 1.0, 2.5e-7, -3, 2**70, True, False, None])
    if kind in (1, 2, 3):
        return rng.choice(["", "Ünïcode ✓", "x" * 300, '"MessageSid":"SM', "\u2028"])
    if kind in (4, 5):
        return {f"k{rng.randrange(9)}": _random_json(rng, depth + 1) for _ in range(6)}
    return [_random_json(rng, depth + 1) for _ in range(rng.randrange(5))]


def test_values_read_back_exactly() -> None:
    rng = random.Random(3)
    for _ in range(300):
        value = _random_json(rng)
        assert dumps(unpack_json(pack_json(value))) == dumps(value)
    assert dumps(unpack_json(pack_json(STATE))) == dumps(STATE)


def test_rows_packed_before_still_read() -> None:
    text = dumps(STATE).encode()
    assert unpack_json(b"z" + zlib.compress(text, 6)) == STATE
    assert unpack_json(memoryview(b"j" + text)) == STATE
    assert unpack_state(json.dumps(STATE), None) == STATE  # the text column
    assert unpack_state(None, pack_state(STATE)) == STATE
    assert unpack_state("{}", pack_state(STATE)) == STATE  # the packed column wins
    assert unpack_state(None, None) is None


def test_small_text_is_kept_plain_and_a_state_shrinks() -> None:
    assert pack_json({"a": 1}) == b'j{"a":1}'
    packed = pack_state(STATE)
    assert packed[:2] == b"d\x01"
    assert len(packed) * 3 < len(dumps(STATE).encode())  # ~1.2 kB → ~0.3 kB
