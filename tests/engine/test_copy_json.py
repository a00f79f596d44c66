"""``copy_json``: a deep copy of JSON-like values (the per-step context snapshot)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from callboard.engine.state import copy_json

_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=3), inner, max_size=4),
        st.dictionaries(st.text(max_size=3), inner, max_size=3).map(OrderedDict),
        st.tuples(inner, inner),
    ),
    max_leaves=20,
)


def _containers(value: Any) -> list[Any]:
    found: list[Any] = []
    if isinstance(value, dict):
        found.append(value)
        for v in value.values():
            found.extend(_containers(v))
    elif isinstance(value, list):
        found.append(value)
        for v in value:
            found.extend(_containers(v))
    return found


def _shape(value: Any) -> Any:
    """``value`` with its types and key order made visible."""
    if isinstance(value, dict):
        return (type(value).__name__, [(k, _shape(v)) for k, v in value.items()])
    if isinstance(value, list):
        return (type(value).__name__, [_shape(v) for v in value])
    return (type(value).__name__, repr(value))


def _reference(value: Any) -> Any:
    """What copy_json gives: dicts and lists (subclasses too) become new plain ones;
    anything else (tuples included) is the same object."""
    if isinstance(value, dict):
        return {k: _reference(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_reference(v) for v in value]
    return value


@settings(max_examples=300, deadline=None)
@given(_json)
def test_copy_json_is_a_deep_copy_of_dicts_and_lists(value: Any) -> None:
    copied = copy_json(value)
    assert _shape(copied) == _shape(_reference(value))
    originals = {id(c) for c in _containers(value)}
    assert not any(id(c) in originals for c in _containers(copied))


def test_copy_json_keeps_leaves_and_tuples() -> None:
    leaf = ("a", [1])
    copied = copy_json({"t": leaf, "s": "x", "n": None, "l": [leaf]})
    assert copied["t"] is leaf and copied["l"][0] is leaf
