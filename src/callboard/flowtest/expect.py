"""Matching: expected texts (exact or ``/regex/``), context paths, mocks (glob on URL)."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from typing import Any

from callboard.flowtest.model import Mock

__all__ = ["MISSING", "find_mock", "lookup", "matches", "same_value"]

MISSING = object()


def matches(expected: str, got: str) -> bool:
    """``/regex/`` searches ``got``; anything else must equal it (surrounding white
    space ignored)."""
    if len(expected) >= 2 and expected.startswith("/") and expected.endswith("/"):
        return re.search(expected[1:-1], got) is not None
    return expected.strip() == got.strip()


def lookup(context: dict[str, Any], path: str) -> Any:
    """``flow.variables.name`` / ``widgets.lookup.parsed.status`` in an execution
    context (list items by number); :data:`MISSING` when absent."""
    value: Any = context
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return MISSING
    return value


def same_value(expected: Any, got: Any) -> bool:
    """Equal, or equal as texts (Studio keeps most values as strings), or a /regex/."""
    if isinstance(expected, str) and not isinstance(got, dict | list):
        return matches(expected, "" if got is None else str(got))
    if expected == got:
        return True
    if isinstance(expected, bool) or isinstance(got, bool):
        return str(expected).lower() == str(got).lower()
    if isinstance(expected, int | float) and not isinstance(got, dict | list):
        return str(expected) == str(got)
    return False


def find_mock(mocks: Sequence[Mock], method: str, url: str) -> Mock | None:
    """The first mock (in file order) whose method fits and whose glob matches the URL
    (with or without its query string)."""
    bare = url.split("?", 1)[0]
    for mock in mocks:
        if mock.method is not None and mock.method != method.upper():
            continue
        if fnmatch.fnmatchcase(url, mock.url) or fnmatch.fnmatchcase(bare, mock.url):
            return mock
    return None
