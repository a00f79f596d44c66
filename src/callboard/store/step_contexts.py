"""How step contexts are stored: without a whole copy at every step (migration 0950).

A step's context is the whole execution context at that step (trigger, widgets, flow
variables...), so consecutive steps repeat almost all of it. The steps a run writes
together (one transaction, in order) are stored as:

* the first: the whole context (``context_base`` NULL);
* each next one: a patch against that first step's context (``context_base`` = its
  ``seq``): only the keys that differ, recursively through objects — so the patch holds
  what the run changed since, never the trigger's data again;

each as compact JSON, zlib-compressed when that is smaller, in ``context_z`` (the
``context`` text column is then empty). Rows written before 0950 keep their JSON in
``context`` and read as before. Reading a patched step needs one more row (its base).

Patch format (JSON): ``{"s": {key: value}, "d": [key...], "r": {key: patch}, "o": [key...]}``
— keys set to a new value, keys deleted, keys whose object values changed inside, and
(only when it differs from base order + new keys) the order of the keys: what is read back
is the very same JSON, key order included.
"""

from __future__ import annotations

import zlib
from typing import Any

from callboard.store.values import dumps, loads

__all__ = ["apply_patch", "make_patch", "pack", "pack_steps", "unpack"]

_ZLIB = b"z"
_PLAIN = b"j"
_MIN_COMPRESS = 200  # bytes of JSON below which zlib rarely helps


def make_patch(base: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The patch that turns ``base`` into ``new`` (both JSON objects)."""
    sets: dict[str, Any] = {}
    recurse: dict[str, Any] = {}
    for key, value in new.items():
        if key not in base:
            sets[key] = value
            continue
        old = base[key]
        if _same(old, value):
            continue
        if isinstance(old, dict) and isinstance(value, dict):
            recurse[key] = make_patch(old, value)
        else:
            sets[key] = value
    deleted = [key for key in base if key not in new]
    patch: dict[str, Any] = {}
    kept = [key for key in base if key in new]
    if list(new) != kept + [key for key in new if key not in base]:
        patch["o"] = list(new)  # the keys' order, when applying would not give it
    if sets:
        patch["s"] = sets
    if deleted:
        patch["d"] = deleted
    if recurse:
        patch["r"] = recurse
    return patch


def _same(a: Any, b: Any) -> bool:
    """JSON equality that tells 1, 1.0 and true apart."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def apply_patch(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``patch`` applied (a new object; ``base`` is not changed)."""
    out = dict(base)
    for key in patch.get("d", ()):
        out.pop(key, None)
    for key, sub in (patch.get("r") or {}).items():
        inner = out.get(key)
        out[key] = apply_patch(inner if isinstance(inner, dict) else {}, sub)
    out.update(patch.get("s") or {})
    order = patch.get("o")
    return {key: out[key] for key in order} if order else out


def pack(value: Any) -> bytes:
    raw = dumps(value).encode()
    if len(raw) >= _MIN_COMPRESS:
        packed = zlib.compress(raw, 6)
        if len(packed) < len(raw):
            return _ZLIB + packed
    return _PLAIN + raw


def unpack(data: bytes) -> Any:
    data = bytes(data)
    body = zlib.decompress(data[1:]) if data[:1] == _ZLIB else data[1:]
    return loads(body.decode())


def pack_steps(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``steps`` rows to insert for one run's rows, in order, each with its context
    (an object) under ``"context"``: the first of each execution whole, the rest as
    patches against it (see the module docstring)."""
    bases: dict[str, tuple[int, dict[str, Any]]] = {}
    out = []
    for row in rows:
        context = row["context"]
        if not isinstance(context, dict):
            context = {}
        base = bases.get(row["execution_sid"])
        if base is None:
            bases[row["execution_sid"]] = (row["seq"], context)
            stored = {**row, "context": "", "context_base": None, "context_z": pack(context)}
        else:
            patch = make_patch(base[1], context)
            stored = {**row, "context": "", "context_base": base[0], "context_z": pack(patch)}
        out.append(stored)
    return out
