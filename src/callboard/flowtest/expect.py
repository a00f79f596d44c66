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


def find_mock(mocks: Sequence[Mock], method: str, url: str, used: set[int]) -> Mock | None:
    """The answer to a request: the first mock (in file order) whose method fits and
    whose glob matches the URL (with or without its query string) and that has not
    answered yet; once all that match have answered, the last of them again. So one
    mock answers every request, and several answer a sequence. ``used`` is updated."""
    bare = url.split("?", 1)[0]
    fitting = [
        i
        for i, mock in enumerate(mocks)
        if (mock.method is None or mock.method == method.upper())
        and (fnmatch.fnmatchcase(url, mock.url) or fnmatch.fnmatchcase(bare, mock.url))
    ]
    if not fitting:
        return None
    fresh = [i for i in fitting if i not in used]
    chosen = fresh[0] if fresh else fitting[-1]
    used.add(chosen)
    return mocks[chosen]
