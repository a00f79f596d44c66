"""How step contexts are stored: without a whole copy at every step (migration 0950).

A step's context is the whole execution context at that step (trigger, widgets, flow
variables...), so consecutive steps repeat almost all of it. The steps a run writes
together (one transaction, in order) are stored as:

* the first: the whole context (``context_base`` NULL);
* each next one: a patch against that first step's context (``context_base`` = its
  ``seq``): only the keys that differ, recursively through objects — so the patch holds
  what the run changed since, never the trigger's data again;

each packed (:mod:`callboard.store.packed_json`: compact JSON, compressed with a preset
dictionary when that is smaller; zlib without one before issue 11) in ``context_z`` (the
``context`` text column is then empty) — except a step whose patch is the very same as
the run's step before it (a Split, say, changes nothing): ``context_z`` is then just
``=`` and ``context_base`` the ``seq`` of that step (whose context it is). Rows written
before 0950 keep their JSON in ``context`` and read as before. Reading a patched step
needs one more row (its base), a repeated one two.

Patch format (JSON): ``{"s": {key: value}, "d": [key...], "r": {key: patch}, "o": [key...]}``
— keys set to a new value, keys deleted, keys whose object values changed inside, and
(only when it differs from base order + new keys) the order of the keys: what is read back
is the very same JSON, key order included.
"""

from __future__ import annotations

from typing import Any

import orjson

from callboard.store.packed_json import pack_json, unpack_json
from callboard.store.values import dumps

__all__ = ["SAME", "apply_patch", "make_patch", "pack", "pack_steps", "unpack"]

SAME = b"="  # the context of the step ``context_base`` names
_MISSING = object()


def make_patch(base: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The patch that turns ``base`` into ``new`` (both JSON objects)."""
    sets: dict[str, Any] = {}
    recurse: dict[str, Any] = {}
    for key, value in new.items():
        old = base.get(key, _MISSING)
        if old is _MISSING:
            sets[key] = value
        elif not _same(old, value):
            if old and isinstance(old, dict) and isinstance(value, dict):  # {}: set it
                recurse[key] = make_patch(old, value)
            else:
                sets[key] = value
    patch: dict[str, Any] = {}
    if base.keys() == new.keys():
        if list(base) != list(new):
            patch["o"] = list(new)  # the keys' order, when applying would not give it
    else:
        kept = [key for key in base if key in new]
        if list(new) != kept + [key for key in new if key not in base]:
            patch["o"] = list(new)
        if len(kept) < len(base):
            patch["d"] = [key for key in base if key not in new]
    if sets:
        patch["s"] = sets
    if recurse:
        patch["r"] = recurse
    return patch


_EXACT = frozenset({str, int, bool, type(None)})  # ``==`` on two of these is JSON equality


def _same(a: Any, b: Any) -> bool:
    """JSON equality that tells 1, 1.0 and true apart (and keys' order): ``==`` in C
    first, then, unless both are strings, integers..., the two values' JSON text."""
    kind = type(a)
    if kind is not type(b) or a != b:
        return False
    if kind in _EXACT:
        return True
    try:
        return orjson.dumps(a) == orjson.dumps(b)
    except TypeError:  # not orjson's JSON: the standard library's text then
        return dumps(a) == dumps(b)


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
    return pack_json(value)


def unpack(data: bytes) -> Any:
    return unpack_json(data)


def pack_steps(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``steps`` rows to insert for one run's rows, in order, each with its context
    (an object) under ``"context"``: the first of each execution whole, the rest as
    patches against it or references to the step before (see the module docstring)."""
    bases: dict[str, tuple[int, dict[str, Any]]] = {}
    last: dict[str, tuple[int, dict[str, Any]]] = {}  # the previous step (not a SAME one)
    out = []
    for row in rows:
        context = row["context"]
        if not isinstance(context, dict):
            context = {}
        execution_sid, seq = row["execution_sid"], row["seq"]
        before = last.get(execution_sid)
        if before is not None and _same(before[1], context):
            out.append({**row, "context": "", "context_base": before[0], "context_z": SAME})
            continue
        last[execution_sid] = (seq, context)
        base = bases.get(execution_sid)
        if base is None:
            bases[execution_sid] = (seq, context)
            stored = {**row, "context": "", "context_base": None, "context_z": pack(context)}
        else:
            patch = pack(make_patch(base[1], context))
            stored = {**row, "context": "", "context_base": base[0], "context_z": patch}
        out.append(stored)
    return out
