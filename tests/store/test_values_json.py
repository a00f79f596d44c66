"""``store.values`` JSON: orjson's speed, the standard library's text (the callers
compare and serve it)."""

from __future__ import annotations

import json
import random
import struct
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from callboard.store.values import dump_bytes, dumps, loads


def _std(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@pytest.mark.parametrize(
    "value",
    [
        {"b": 1, "a": [1.5, None, True, False, "é ✓ \u2028 \x00 \x7f"]},
        [1e-5, 1e-7, -3.2822358648469908e-06, 1e16, 1e22, 0.0001, -0.0, 5e-324],
        "e-mail 0.00001",
        2**70,
        -(2**64),
        {1: "non-string key", "x": {2: 3}},
        "\ud800 lone surrogate",
        (1, 2),
        [],
        {},
    ],
)
def test_dumps_writes_what_the_standard_library_writes(value: Any) -> None:
    assert dumps(value) == _std(value)
    if "\ud800" not in str(value):
        assert dump_bytes(value) == _std(value).encode()


def test_random_floats_are_written_as_before() -> None:
    rng = random.Random(11)
    floats = [struct.unpack("d", rng.randbytes(8))[0] for _ in range(3000)]
    finite = [f for f in floats if f == f and abs(f) != float("inf")]
    assert dumps(finite) == _std(finite)


def test_what_the_standard_library_refuses_is_refused() -> None:
    @dataclass
    class Point:
        x: int

    for value in (datetime(2026, 1, 1), Point(1), {1, 2}, b"bytes"):
        with pytest.raises(TypeError):
            dumps(value)


@pytest.mark.parametrize(
    "text",
    [
        '{"a":1,"a":2}',
        " [1, 2.5, null] ",
        "NaN",
        "[Infinity, -Infinity]",
        '"\\ud800"',
        "1180591620717411303424",
        '{"a":-1180591620717411303424,"b":[ 18446744073709551616]}',
        '{"sid":"SM11000000000000000000000000002","n":18446744073709551615}',
        "[-9223372036854775809, 9223372036854775808]",
    ],
)
def test_loads_reads_what_the_standard_library_reads(text: str) -> None:
    expected = json.loads(text)
    assert dumps(loads(text)) == dumps(expected)
    assert dumps(loads(text.encode())) == dumps(expected)
    assert [type(v) for v in _leaves(loads(text))] == [type(v) for v in _leaves(expected)]


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


def test_loads_of_nothing_and_of_bad_json() -> None:
    assert loads(None) is None and loads("") is None
    with pytest.raises(json.JSONDecodeError):
        loads("{not json")
