"""Flow definitions for the runtime: validation and a cache of parsed revisions.

Revisions never change once saved, so a parsed :class:`FlowDefinition` (with its
compiled Liquid templates in ``definition.caches``) is kept per ``(flow_sid, revision)``
in a small LRU and shared by every execution of that revision.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from callboard.flow.model import FlowDefinition, FlowFormatError

__all__ = ["DefinitionCache", "Problem", "validate_definition"]

Problem = dict[str, Any]  # {"property_path": "#/states/0/...", "message": "..."}


def _problems(items: Any) -> list[Problem]:
    out: list[Problem] = []
    for item in items or ():
        if isinstance(item, str):
            out.append({"property_path": "#", "message": item})
            continue
        if isinstance(item, dict):
            path = item.get("property_path") or item.get("path") or "#"
            message = item.get("message", "")
            extra = {k: v for k, v in item.items() if k not in ("path", "message")}
        else:
            path = getattr(item, "property_path", None) or getattr(item, "path", None) or "#"
            message = getattr(item, "message", str(item))
            extra = {}
            to_json = getattr(item, "to_json", None)
            if callable(to_json):
                data = to_json()
                if isinstance(data, dict):
                    extra = {k: v for k, v in data.items() if k not in ("path", "message")}
        problem: Problem = {**extra, "property_path": str(path), "message": str(message)}
        out.append(problem)
    return out


def _basic_checks(raw: Any) -> list[Problem]:
    try:
        definition = FlowDefinition.from_json(raw)
    except FlowFormatError as exc:
        return [{"property_path": exc.path, "message": exc.message}]
    if not definition.states:
        return [{"property_path": "#/states", "message": "must have at least 1 widget"}]
    if definition.state(definition.initial_state) is None:
        return [
            {
                "property_path": "#/initial_state",
                "message": f"names no widget: {definition.initial_state!r}",
            }
        ]
    return []


def _validator() -> Callable[..., Any] | None:
    try:
        from callboard.validation import definition as module
    except ImportError:
        return None
    for name in ("validate_flow", "validate"):  # validate_flow also gives warnings
        fn: Callable[..., Any] | None = getattr(module, name, None)
        if callable(fn):
            return fn
    return None


def validate_definition(raw: Any) -> tuple[list[Problem], list[Problem]]:
    """``(errors, warnings)`` for a decoded definition, from
    :func:`callboard.validation.definition.validate_flow` (basic structural checks when the
    validator is not there). A definition the model cannot read at all is always an
    error, so nothing unrunnable is ever marked valid."""
    basic = _basic_checks(raw)
    fn = _validator()
    if fn is None:
        return basic, []
    result = fn(raw)
    errors = getattr(result, "errors", None)
    warnings = getattr(result, "warnings", None)
    if errors is None and isinstance(result, dict):
        errors, warnings = result.get("errors"), result.get("warnings")
    if errors is None and isinstance(result, list | tuple):
        errors = result
    found = _problems(errors)
    if basic and not found:
        found = basic
    return found, _problems(warnings)


class DefinitionCache:
    """LRU of parsed definitions keyed by ``(flow_sid, revision)``."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, int], FlowDefinition] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, flow_sid: str, revision: int, load: Callable[[], str]) -> FlowDefinition:
        """The parsed definition; ``load()`` returns its JSON text on a miss."""
        key = (flow_sid, revision)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        from callboard.flow.model import load_flow

        definition = load_flow(load(), source=f"flow {flow_sid} revision {revision}")
        with self._lock:
            self._items[key] = definition
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return definition

    def put(self, flow_sid: str, revision: int, definition: FlowDefinition) -> None:
        with self._lock:
            self._items[(flow_sid, revision)] = definition
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def forget(self, flow_sid: str) -> None:
        with self._lock:
            for key in [k for k in self._items if k[0] == flow_sid]:
                del self._items[key]
