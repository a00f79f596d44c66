"""How values are stored: times as naive UTC (the one helper pair every module uses), JSON
as compact text.

JSON goes through orjson (several times faster than the standard library) but reads and
writes exactly what ``json.dumps(value, separators=(",", ":"), ensure_ascii=False)`` and
``json.loads`` would: whatever orjson writes differently (floats below 1e-4 such as
``1e-05``, integers beyond 64 bits, non-string keys, lone surrogates, types orjson knows
and the standard library does not) falls back to the standard library, as does text
orjson will not read (``NaN``, ``Infinity``, lone surrogates) or would read otherwise
(an integer of 19 digits or more: orjson makes a float of one beyond 64 bits). One
difference remains: non-finite floats are written as ``null`` (``NaN``/``Infinity`` are
not JSON).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, overload

import orjson

__all__ = ["aware", "dump_bytes", "dumps", "from_db_time", "loads", "to_db_time"]

# A number of 19 digits or more (maybe an integer beyond 64 bits): digits → "0", what may
# come before a number (":", "[", ",", "-", white space) → "|", anything else → " ".
_NUMBERS = bytes(
    48 if chr(i).isdigit() and i < 128 else 124 if chr(i) in ":[,- \t\r\n" else 32
    for i in range(256)
)
_LONG_NUMBER = b"|" + b"0" * 19

# dataclasses and datetimes: the standard library refuses them, so orjson must too
_OPTIONS = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME


def to_db_time(when: datetime) -> datetime:
    """Aware → naive UTC (what the columns hold); a naive time is taken as UTC already."""
    zone = when.tzinfo
    if zone is None:
        return when
    if zone is UTC:  # the clock's own zone: no conversion to compute
        return when.replace(tzinfo=None)
    return when.astimezone(UTC).replace(tzinfo=None)


@overload
def from_db_time(when: datetime) -> datetime: ...
@overload
def from_db_time(when: None) -> None: ...
def from_db_time(when: datetime | None) -> datetime | None:
    """A column's naive UTC time → aware UTC (None stays None)."""
    if when is None:
        return None
    return aware(when)


def aware(when: datetime) -> datetime:
    """Any time → aware UTC (a naive one is taken as UTC)."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def dump_bytes(value: Any) -> bytes:
    """``value`` as compact JSON, UTF-8 encoded (see the module docstring)."""
    raw = _fast_dumps(value)
    return _std_dumps(value).encode() if raw is None else raw


def dumps(value: Any) -> str:
    """``value`` as compact JSON text (non-ASCII characters kept as they are)."""
    raw = _fast_dumps(value)
    return _std_dumps(value) if raw is None else raw.decode()


def _fast_dumps(value: Any) -> bytes | None:
    """orjson's JSON of ``value``, or None where it might differ from the standard's."""
    try:
        raw = orjson.dumps(value, option=_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError: let the standard library decide
        return None
    if b"0.0000" in raw or (b"e-" in raw and _short_exponent(raw)):
        return None  # maybe a float below 1e-4, which orjson writes another way

    return raw


def _short_exponent(raw: bytes) -> bool:
    """Whether ``raw`` may hold a float of exponent -6 to -9 (orjson: ``1e-7``; the
    standard library: ``1e-07``)."""
    return b"e-6" in raw or b"e-7" in raw or b"e-8" in raw or b"e-9" in raw


def _std_dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def loads(text: str | bytes | None) -> Any:
    """Parsed JSON (None for None or empty text); raises ``json.JSONDecodeError``."""
    if not text:
        return None
    try:
        data = text.encode() if isinstance(text, str) else text
        if _LONG_NUMBER not in data.translate(_NUMBERS) and not data[:1].isdigit():
            return orjson.loads(data)
    except (orjson.JSONDecodeError, UnicodeEncodeError):  # NaN, Infinity...: as before
        pass
    return json.loads(text)
